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
        var ex = Assert.Throws<InvalidDataException>(() => new AlertStateStore(StatePath).Load());
        Assert.Contains("card 'card1'", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void The_file_is_readable_by_its_owner_only_and_no_temporary_file_is_left()
    {
        var store = new AlertStateStore(StatePath);
        store.Save(StateOf(("a", BalanceLevel.Low, 1m)), T0);
        store.Save(StateOf(("a", BalanceLevel.Critical, 0m)), T0.AddMinutes(5));
        Assert.Equal(new[] { "state.json" }, _dir.GetFiles().Select(f => f.Name));
        if (OperatingSystem.IsWindows()) return; // the file takes its folder's permissions there
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StatePath));
    }

    [Fact]
    public async Task The_lock_is_exclusive_bounded_cancellable_and_released_on_dispose()
    {
        var store = new AlertStateStore(StatePath);
        var other = new AlertStateStore(StatePath); // as another run would see the same file
        Task<IDisposable> waiting;
        using (store.Lock(TimeSpan.FromSeconds(1), CancellationToken.None))
        {
            // Exclusive and bounded: with no time to wait, a held lock is a TimeoutException at once.
            Assert.Throws<TimeoutException>(() => other.Lock(TimeSpan.Zero, CancellationToken.None));
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
