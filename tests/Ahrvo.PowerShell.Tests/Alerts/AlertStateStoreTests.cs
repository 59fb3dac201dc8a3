using System.Globalization;
using System.Text;
using Ahrvo.Client.State;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Alerts;

/// <summary>The -StatePath file: its JSON, read strictly, its mode, and the lock that makes overlapping runs take turns.</summary>
public sealed class AlertStateStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 31, 9, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ahrvo-state-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string StatePath => Path.Combine(_dir.FullName, "state.json");

    private static AlertState StateOf(params (string Id, BalanceLevel Level, decimal Balance)[] cards)
    {
        var s = new AlertState();
        foreach (var (id, level, balance) in cards)
            s.Set(new CardAlertState(id, level, balance, "USD", T0, T0.AddHours(-1), level == BalanceLevel.Normal ? null : T0.AddMinutes(-30)));
        return s;
    }

    [Fact]
    public void Saves_and_loads_every_field_exactly_whatever_the_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE"); // decimal comma: must not reach the file
        try
        {
            var store = new AlertStateStore(StatePath);
            var state = StateOf(("cardB", BalanceLevel.Low, 212.50m), ("cardA", BalanceLevel.Normal, 999999999999999.9999m),
                ("cardC", BalanceLevel.Critical, -0.0000000001m));
            store.Save(state, T0);
            var text = File.ReadAllText(StatePath);
            Assert.Contains("\"balance\": \"212.50\"", text);
            Assert.Contains("\"balance\": \"999999999999999.9999\"", text);
            Assert.True(text.IndexOf("cardA", StringComparison.Ordinal) < text.IndexOf("cardB", StringComparison.Ordinal)); // sorted

            var loaded = store.Load();
            Assert.Equal(3, loaded.Count);
            foreach (var expected in state.Cards)
            {
                Assert.True(loaded.TryGet(expected.CardId, out var card));
                Assert.Equal(expected.Level, card.Level);
                Assert.Equal(expected.Balance.ToString(CultureInfo.InvariantCulture), card.Balance.ToString(CultureInfo.InvariantCulture)); // scale kept
                Assert.Equal(expected.Currency, card.Currency);
                Assert.Equal(expected.ObservedAt, card.ObservedAt);
                Assert.Equal(expected.LevelSince, card.LevelSince);
                Assert.Equal(expected.LastAlertedAt, card.LastAlertedAt);
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void No_file_is_an_empty_state()
    {
        var store = new AlertStateStore(StatePath);
        Assert.False(store.Exists);
        Assert.Equal(0, store.Load().Count);
    }

    private const string GoodCard = """{ "level": "Low", "balance": "212.50", "currency": "USD", "observedAt": "2026-01-31T09:00:00+00:00", "levelSince": "2026-01-31T09:00:00+00:00", "lastAlertedAt": null }""";

    [Fact]
    public void A_balance_may_be_a_json_number_taken_exactly_and_a_hand_edit_may_carry_a_bom()
    {
        // Through double this would come back as 123456789012345.67.
        var json = "{ \"version\": 1, \"cards\": { \"c\": " + GoodCard.Replace("\"212.50\"", "123456789012345.6789") + " } }";
        var entries = AlertStateJson.Read(Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(json)).ToArray());
        Assert.Equal("123456789012345.6789", Assert.Single(entries).Balance.ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("{ \"version\": 1, \"cards\": {", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{ \"cards\": {} }", "no \"version\"")]
    [InlineData("{ \"version\": \"1\", \"cards\": {} }", "\"version\" is not")]
    [InlineData("{ \"version\": 2, \"cards\": {} }", "version 2")]
    [InlineData("{ \"version\": 1 }", "no \"cards\"")]
    [InlineData("{ \"version\": 1, \"cards\": { \"c\": GOOD, \"c\": GOOD } }", "listed twice")]
    [InlineData("{ \"version\": 1, \"cards\": { \"c\": GOOD, } }", "not valid JSON")]
    [InlineData("{ \"version\": 1, \"cards\": { \"c\": 5 } }", "not a JSON object")]
    [InlineData("{ \"version\": 1, \"cards\": { \"c\": { \"level\": \"Low\" } } }", "no \"balance\"")]
    public void A_broken_file_says_what_is_wrong(string json, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => AlertStateJson.Read(Encoding.UTF8.GetBytes(json.Replace("GOOD", GoodCard))));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("\"level\": \"Low\"", "\"level\": \"low\"", "'low' is not one of Normal, Low, Warning, Critical")]
    [InlineData("\"level\": \"Low\"", "\"level\": \"1\"", "'1' is not one of")]
    [InlineData("\"212.50\"", "\"1,5\"", "not a plain decimal number")]
    [InlineData("\"212.50\"", "1e3", "not a plain decimal number")]
    [InlineData("\"212.50\"", "true", "not a number or a string")]
    [InlineData("\"observedAt\": \"2026-01-31T09:00:00+00:00\"", "\"observedAt\": \"31.01.2026 09:00\"", "not an ISO 8601 time")]
    [InlineData("\"currency\": \"USD\", ", "", "no \"currency\"")]
    public void A_card_is_read_strictly(string from, string to, string expected)
    {
        File.WriteAllText(StatePath, "{ \"version\": 1, \"cards\": { \"card1\": " + GoodCard.Replace(from, to) + " } }");
        var ex = Assert.Throws<AlertStateException>(() => new AlertStateStore(StatePath).Load());
        Assert.Equal(AlertStateFailure.Invalid, ex.Failure);
        Assert.Contains("card 'card1'", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void No_temporary_file_is_left()
    {
        var store = AlertStateStore.Open(StatePath); // its check that the folder can be written leaves nothing either
        store.Save(StateOf(("a", BalanceLevel.Low, 1m)), T0);
        store.Save(StateOf(("a", BalanceLevel.Critical, 0m)), T0.AddMinutes(5));
        Assert.Equal(new[] { "state.json" }, _dir.GetFiles().Select(f => f.Name));
    }

    [UnixFact("file modes are Unix; on Windows the file takes its folder's ACL")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void The_file_is_readable_by_its_owner_only()
    {
        var store = new AlertStateStore(StatePath);
        store.Save(StateOf(("a", BalanceLevel.Low, 1m)), T0);
        store.Save(StateOf(("a", BalanceLevel.Critical, 0m)), T0.AddMinutes(5));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StatePath));
    }

    [Fact]
    public void Each_save_is_the_next_generation_and_stamps_the_cards_it_read()
    {
        var store = new AlertStateStore(StatePath);
        Assert.Equal(0, store.Load().Generation); // no file yet
        var state = store.Load();
        state.Observe("a", BalanceLevel.Low, 1m, "USD", T0, T0, null, basis: 0, out _);
        store.Save(state, T0);
        var first = store.Load();
        Assert.Equal(1, first.Generation);
        Assert.True(first.TryGet("a", out var a));
        Assert.Equal(1, a.Generation);
        first.Observe("b", BalanceLevel.Low, 1m, "USD", T0, T0, null, basis: 1, out _);
        store.Save(first, T0.AddMinutes(-60)); // a clock that stepped back changes nothing
        var second = store.Load();
        Assert.Equal(2, second.Generation);
        Assert.True(second.TryGet("a", out a));
        Assert.Equal(1, a.Generation); // not read by the second save: keeps its generation
        Assert.True(second.TryGet("b", out var b));
        Assert.Equal(2, b.Generation);
    }

    [Fact]
    public void A_file_of_an_older_module_without_generations_is_generation_0()
    {
        File.WriteAllText(StatePath, "{ \"version\": 1, \"cards\": { \"card1\": " + GoodCard + " } }");
        var state = new AlertStateStore(StatePath).Load();
        Assert.Equal(0, state.Generation);
        Assert.True(state.TryGet("card1", out var card));
        Assert.Equal(0, card.Generation);
    }

    [Theory]
    [InlineData("{ \"version\": 1, \"generation\": -1, \"cards\": {} }", "the file: \"generation\"")]
    [InlineData("{ \"version\": 1, \"generation\": 1.5, \"cards\": {} }", "the file: \"generation\"")]
    [InlineData("{ \"version\": 1, \"generation\": \"3\", \"cards\": {} }", "the file: \"generation\"")]
    [InlineData("{ \"version\": 1, \"cards\": { \"c\": GOODGEN } }", "card 'c': \"generation\"")]
    public void A_generation_is_read_strictly(string json, string expected)
    {
        json = json.Replace("GOODGEN", GoodCard.Replace("\"lastAlertedAt\": null", "\"lastAlertedAt\": null, \"generation\": true"));
        var ex = Assert.Throws<InvalidDataException>(() => AlertStateJson.Read(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void A_path_that_is_a_folder_or_in_a_missing_folder_is_refused_before_anything_else()
    {
        Assert.Equal(AlertStateFailure.PathInvalid, Assert.Throws<AlertStateException>(() => AlertStateStore.Open(_dir.FullName)).Failure);
        var missing = Path.Combine(_dir.FullName, "no-such-folder", "state.json");
        Assert.Equal(AlertStateFailure.PathInvalid, Assert.Throws<AlertStateException>(() => AlertStateStore.Open(missing)).Failure);
    }

    /// <summary>
    /// A folder no one can create files in, root included (tests run as root in CI, where a chmod'ed
    /// folder stays writable): sysfs refuses new files with EACCES, or EROFS where it is mounted
    /// read-only. So this proves the refusal of an unwritable folder; a read-only file system (EROFS)
    /// takes the same path through <see cref="AlertStateStore.IsNotWritable"/>, tested below.
    /// </summary>
    private const string Unwritable = "/sys/kernel/ahrvo-alert-state.json";

    [LinuxFact("/sys/kernel is a folder that even root cannot create files in")]
    public void A_folder_that_cannot_be_written_is_refused_at_once_saying_so()
    {
        var ex = Assert.Throws<AlertStateException>(() => AlertStateStore.Open(Unwritable));
        Assert.Equal(AlertStateFailure.NotWritable, ex.Failure);
        Assert.Contains("the folder '/sys/kernel' cannot be written", ex.Message);
        Assert.DoesNotContain("another run", ex.Message);
        Assert.Contains("folder this user can write", ex.RecommendedAction);
        // And the lock, taken without that check, fails at once too: no wait for a run that does not exist.
        var lockFailure = Assert.Throws<AlertStateException>(() => new AlertStateStore(Unwritable).Lock(Liveness.Timeout, CancellationToken.None));
        Assert.Equal(AlertStateFailure.NotWritable, lockFailure.Failure);
        Assert.Contains("lock file", lockFailure.Message);
    }

    [Fact]
    public void Only_a_lock_held_by_another_process_is_worth_waiting_for()
    {
        int wouldBlock = OperatingSystem.IsWindows() ? unchecked((int)0x80070020) : OperatingSystem.IsLinux() ? 11 : 35;
        int readOnly = OperatingSystem.IsWindows() ? unchecked((int)0x80070013) : 30; // ERROR_WRITE_PROTECT / EROFS
        Assert.True(AlertStateStore.IsSharingViolation(new IOException("held", wouldBlock)));
        Assert.False(AlertStateStore.IsSharingViolation(new IOException("Read-only file system", readOnly)));
        Assert.False(AlertStateStore.IsSharingViolation(new IOException("No space left on device", 28)));
        Assert.True(AlertStateStore.IsNotWritable(new IOException("Read-only file system", readOnly)));
        Assert.True(AlertStateStore.IsNotWritable(new UnauthorizedAccessException("Permission denied")));
        Assert.False(AlertStateStore.IsNotWritable(new IOException("held", wouldBlock)));
    }

    [Theory]
    // Local file systems, and network mounts that pass locks to the server: nothing to say.
    [InlineData("/var/lib/ahrvo/state.json", null)]
    [InlineData("/mnt/nfs/ahrvo/state.json", null)]
    [InlineData("/mnt/smb/state.json", null)]
    // Mounts that keep flock on this machine.
    [InlineData("/mnt/nfs-nolock/state.json", "NFS mounted with nolock")]
    [InlineData("/mnt/nfs-local/state.json", "NFS mounted with local_lock")]
    [InlineData("/mnt/smb-nobrl/state.json", "SMB/CIFS mounted with nobrl")]
    [InlineData("/mnt/sshfs/state.json", "FUSE file system (fuse.sshfs)")]
    [InlineData("/mnt/my share/state.json", "NFS mounted with nolock")] // a space, written \040 in the table
    [InlineData("/mnt/nfs-nolock-not/state.json", null)]             // a longer name is not inside the mount
    public void Where_the_lock_does_not_reach_other_machines_is_said(string path, string? expected)
    {
        const string table = """
            22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            30 22 0:40 / /mnt/nfs rw,relatime shared:5 - nfs4 server:/export rw,vers=4.2,hard,proto=tcp,local_lock=none,addr=10.0.0.2
            31 22 0:41 / /mnt/nfs-nolock rw,relatime shared:6 - nfs server:/export rw,vers=3,nolock,proto=tcp,local_lock=all
            32 22 0:42 / /mnt/nfs-local rw,relatime shared:7 - nfs4 server:/export rw,vers=4.1,local_lock=flock
            33 22 0:43 / /mnt/smb rw,relatime shared:8 - cifs //server/share rw,vers=3.1.1,cache=strict
            34 22 0:44 / /mnt/smb-nobrl rw,relatime shared:9 - cifs //server/share rw,vers=3.1.1,nobrl
            35 22 0:45 / /mnt/sshfs rw,nosuid,nodev,relatime shared:10 - fuse.sshfs user@host:/data rw,user_id=0,group_id=0
            36 22 0:46 / /mnt/my\040share rw,relatime shared:11 - nfs server:/export rw,vers=3,nolock,local_lock=all
            """;
        var caveat = LockReach.FromMountInfo(table.Replace("\r", ""), path);
        if (expected == null) Assert.Null(caveat);
        else
        {
            Assert.NotNull(caveat);
            Assert.Contains(expected, caveat);
            Assert.Contains("not runs on other machines", caveat);
        }
    }

    [Fact]
    public void The_lock_is_checked_to_exclude_a_second_opener_and_a_granted_lock_does()
    {
        // The check behind Ahrvo.StateFileLockUnsupported passes where locks work (here); where .NET
        // ignores the lock (DOTNET_SYSTEM_IO_DISABLEFILELOCKING, a file system without flock) the
        // hosted test in WatchAhrvoCardBalanceCommandStatePathTests shows the refusal.
        using (new AlertStateStore(StatePath).Lock(TimeSpan.Zero, CancellationToken.None))
            Assert.Throws<IOException>(() => new FileStream(StatePath + ".lock", FileMode.Open, FileAccess.ReadWrite, FileShare.None));
    }

    [Fact]
    public async Task The_lock_is_exclusive_bounded_cancellable_and_released_on_dispose()
    {
        var store = new AlertStateStore(StatePath);
        var other = new AlertStateStore(StatePath); // as another run would see the same file
        Task<IDisposable> waiting;
        using (store.Lock(TimeSpan.FromSeconds(1), CancellationToken.None))
        {
            // Exclusive and bounded: with no time to wait, a held lock is a Locked failure at once.
            Assert.Equal(AlertStateFailure.Locked, Assert.Throws<AlertStateException>(() => other.Lock(TimeSpan.Zero, CancellationToken.None)).Failure);
            // Ctrl+C ends a wait for it, however long the wait could have been.
            using var ctrlC = new CancellationTokenSource();
            var cancelled = Task.Run(() => other.Lock(Liveness.Timeout, ctrlC.Token));
            ctrlC.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Liveness.Timeout));
            // A run that waits gets the lock once the holder lets go, not before.
            waiting = Task.Run(() => other.Lock(Liveness.Timeout, CancellationToken.None));
            Assert.False(waiting.IsCompleted, "got the lock while another run held it");
        }
        using (await waiting.WaitAsync(Liveness.Timeout)) { }
    }
}
