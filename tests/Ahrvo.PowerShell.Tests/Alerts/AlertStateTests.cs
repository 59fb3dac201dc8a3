using System.Globalization;
using System.Management.Automation;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ahrvo.Client.State;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Tests.Support;
using Ahrvo.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.PowerShell.Tests;

/// <summary>
/// The rule behind Watch-AhrvoCardBalance's alerts (changes, repeats, older readings) on explicit
/// timestamps, and the state file: its JSON, its lock, its mode.
/// </summary>
public sealed class AlertStateTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 31, 9, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ahrvo-state-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static AlertKind See(AlertState s, string id, BalanceLevel level, DateTimeOffset at, out BalanceLevel? previous, TimeSpan? repeatAfter = null) =>
        s.Observe(id, level, 1m, "USD", at, at, repeatAfter, out previous);

    private static AlertKind See(AlertState s, BalanceLevel level, DateTimeOffset at, TimeSpan? repeatAfter = null) =>
        See(s, "c", level, at, out _, repeatAfter);

    // ---- level changes --------------------------------------------------------------------------

    [Theory]
    [InlineData(BalanceLevel.Normal, false)]
    [InlineData(BalanceLevel.Low, true)]
    [InlineData(BalanceLevel.Warning, true)]
    [InlineData(BalanceLevel.Critical, true)]
    public void First_sight_alerts_only_below_normal(BalanceLevel level, bool alerts)
    {
        var expected = alerts ? AlertKind.Change : AlertKind.None;
        var s = new AlertState();
        Assert.Equal(expected, See(s, "c", level, T0, out var previous));
        Assert.Null(previous);
        Assert.True(s.TryGet("c", out var card));
        Assert.Equal(level, card.Level);
        Assert.Equal(T0, card.LevelSince);
        Assert.Equal(expected == AlertKind.Change ? T0 : null, card.LastAlertedAt);
    }

    public static IEnumerable<object[]> EveryPairOfLevels() =>
        from a in Enum.GetValues<BalanceLevel>()
        from b in Enum.GetValues<BalanceLevel>()
        select new object[] { a, b };

    [Theory]
    [MemberData(nameof(EveryPairOfLevels))]
    public void Every_crossing_alerts_once_and_staying_does_not(BalanceLevel from, BalanceLevel to)
    {
        var s = new AlertState();
        See(s, "c", from, T0, out _);
        Assert.Equal(from != to ? AlertKind.Change : AlertKind.None, See(s, "c", to, T0.AddMinutes(5), out var previous));
        Assert.Equal(from, previous);
        // The next pass at the same level is quiet: one notification per change, not per pass.
        Assert.Equal(AlertKind.None, See(s, "c", to, T0.AddMinutes(10), out var again));
        Assert.Equal(to, again);
    }

    [Fact]
    public void A_balance_walk_through_every_threshold_alerts_at_each_change_only()
    {
        var thresholds = new AlertThresholds(50m, 100m, 250m);
        var s = new AlertState();
        // 300 Normal (quiet) -> 250 Low -> 200 Low (quiet) -> 100 Warning -> 50 Critical -> 49 (quiet)
        // -> 100.01 Low (skips Warning upwards) -> 251 Normal -> 0 Critical (skips two) -> 1000 Normal
        var walk = new[] { 300m, 250m, 200m, 100m, 50m, 49m, 100.01m, 251m, 0m, 1000m };
        var alerts = new List<(BalanceLevel Level, BalanceLevel? Previous)>();
        var at = T0;
        foreach (var balance in walk)
        {
            at = at.AddMinutes(5);
            var level = thresholds.Classify(balance);
            if (s.Observe("c", level, balance, "USD", at, at, null, out var previous) != AlertKind.None) alerts.Add((level, previous));
            Assert.True(s.TryGet("c", out var card));
            Assert.Equal(balance, card.Balance);
        }
        Assert.Equal(new (BalanceLevel, BalanceLevel?)[]
        {
            (BalanceLevel.Low, BalanceLevel.Normal),
            (BalanceLevel.Warning, BalanceLevel.Low),
            (BalanceLevel.Critical, BalanceLevel.Warning),
            (BalanceLevel.Low, BalanceLevel.Critical),
            (BalanceLevel.Normal, BalanceLevel.Low),
            (BalanceLevel.Critical, BalanceLevel.Normal),
            (BalanceLevel.Normal, BalanceLevel.Critical),
        }, alerts);
    }

    [Fact]
    public void Cards_are_tracked_separately_and_ordinally()
    {
        var s = new AlertState();
        Assert.Equal(AlertKind.Change, See(s, "cardA", BalanceLevel.Low, T0, out _));
        Assert.Equal(AlertKind.Change, See(s, "CARDA", BalanceLevel.Low, T0, out var p));
        Assert.Null(p);
        Assert.Equal(2, s.Count);
    }

    [Fact]
    public void An_older_reading_saved_late_does_not_undo_a_newer_one()
    {
        // Two overlapping runs: the slow one read the card before the other, but saves after it.
        var s = new AlertState();
        See(s, BalanceLevel.Low, T0);
        Assert.Equal(AlertKind.Change, See(s, "c", BalanceLevel.Normal, T0.AddMinutes(6), out _));
        Assert.Equal(AlertKind.None, See(s, "c", BalanceLevel.Low, T0.AddMinutes(5), out var previous));
        Assert.Equal(BalanceLevel.Normal, previous);
        Assert.True(s.TryGet("c", out var card));
        Assert.Equal(BalanceLevel.Normal, card.Level);
        Assert.Equal(T0.AddMinutes(6), card.ObservedAt);
    }

    // ---- -RepeatAfter ---------------------------------------------------------------------------

    [Fact]
    public void A_card_still_below_normal_alerts_again_once_RepeatAfter_has_passed_since_its_last_alert()
    {
        var hour = TimeSpan.FromHours(1);
        var s = new AlertState();
        Assert.Equal(AlertKind.Change, See(s, BalanceLevel.Low, T0, hour));
        Assert.Equal(AlertKind.None, See(s, BalanceLevel.Low, T0.AddMinutes(59), hour));
        Assert.Equal(AlertKind.Repeat, See(s, "c", BalanceLevel.Low, T0.AddMinutes(60), out var previous, hour));
        Assert.Equal(BalanceLevel.Low, previous);
        Assert.True(s.TryGet("c", out var card));
        Assert.Equal(T0.AddMinutes(60), card.LastAlertedAt);
        Assert.Equal(T0, card.LevelSince); // a reminder is not a change
        // The next reminder counts from this one.
        Assert.Equal(AlertKind.None, See(s, BalanceLevel.Low, T0.AddMinutes(65), hour));
        Assert.Equal(AlertKind.None, See(s, BalanceLevel.Low, T0.AddMinutes(119), hour));
        Assert.Equal(AlertKind.Repeat, See(s, BalanceLevel.Low, T0.AddMinutes(125), hour));
    }

    [Fact]
    public void A_level_change_restarts_the_repeat_interval_and_normal_never_repeats()
    {
        var hour = TimeSpan.FromHours(1);
        var s = new AlertState();
        See(s, BalanceLevel.Low, T0, hour);
        Assert.Equal(AlertKind.Change, See(s, BalanceLevel.Critical, T0.AddMinutes(50), hour));
        Assert.Equal(AlertKind.None, See(s, BalanceLevel.Critical, T0.AddMinutes(100), hour));
        Assert.Equal(AlertKind.Repeat, See(s, BalanceLevel.Critical, T0.AddMinutes(110), hour));
        Assert.Equal(AlertKind.Change, See(s, BalanceLevel.Normal, T0.AddMinutes(120), hour));
        Assert.Equal(AlertKind.None, See(s, BalanceLevel.Normal, T0.AddDays(3), hour));
    }

    [Fact]
    public void Without_RepeatAfter_a_card_never_repeats()
    {
        var s = new AlertState();
        See(s, BalanceLevel.Critical, T0);
        Assert.Equal(AlertKind.None, See(s, BalanceLevel.Critical, T0.AddDays(30)));
    }

    [Fact]
    public void Prune_forgets_only_the_cards_not_kept()
    {
        var s = new AlertState();
        See(s, "a", BalanceLevel.Low, T0, out _);
        See(s, "b", BalanceLevel.Normal, T0, out _);
        See(s, "c", BalanceLevel.Critical, T0, out _);
        Assert.Equal(2, s.Prune(new HashSet<string>(StringComparer.Ordinal) { "b", "x" }));
        Assert.Equal(new[] { "b" }, s.Cards.Select(c => c.CardId));
    }

    // ---- the file -------------------------------------------------------------------------------

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
    public void The_lock_is_exclusive_bounded_and_released_on_dispose()
    {
        var store = new AlertStateStore(StatePath);
        var other = new AlertStateStore(StatePath); // as another run would see the same file
        using (store.Lock(TimeSpan.FromSeconds(1), CancellationToken.None))
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            Assert.Throws<TimeoutException>(() => other.Lock(TimeSpan.FromMilliseconds(300), CancellationToken.None));
            Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            Assert.ThrowsAny<OperationCanceledException>(() => other.Lock(TimeSpan.FromSeconds(30), cts.Token));
        }
        using (other.Lock(TimeSpan.FromSeconds(1), CancellationToken.None)) { }
    }
}

/// <summary>Watch-AhrvoCardBalance -StatePath, -Prune and -RepeatAfter, hosted, against the emulator.</summary>
public sealed class AlertStateCmdletTests : IClassFixture<EmulatorFixture>, IDisposable
{
    private const string Watch = "Watch-AhrvoCardBalance -CardId $ids -Critical 50 -Low 250 -Once -StatePath $state";
    private readonly EmulatorFixture _fx;
    private readonly EmulatorProcess _emu;
    private readonly ITestOutputHelper _log;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ahrvo-state-");

    public AlertStateCmdletTests(EmulatorFixture fixture, ITestOutputHelper log)
    {
        _fx = fixture;
        _emu = fixture.Emulator;
        _log = log;
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private string State => Path.Combine(_dir.FullName, "state.json");

    private ScriptResult Run(string script, string[] ids) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, _fx.Variables(("ids", ids), ("state", State)));

    private static string NewCardId() => "card" + Guid.NewGuid().ToString("N")[..20];

    private async Task<string[]> PlantAsync(params string[] balances)
    {
        var ids = balances.Select(_ => NewCardId()).ToArray();
        for (int i = 0; i < ids.Length; i++) await _emu.PutCardAsync(ids[i], balances[i]);
        return ids;
    }

    private static T Prop<T>(PSObject o, string name) => (T)o.Properties[name].Value;

    private static void Clean(ScriptResult r)
    {
        Assert.True(r.Terminating == null, r.Terminating?.ToString());
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors));
    }

    /// <summary>The alerts as "id Level Previous [repeat]".</summary>
    private static string[] Alerts(ScriptResult r) => r.Output.Select(o =>
        $"{Prop<string>(o, "CardId")} {Prop<BalanceLevel>(o, "Level")} {Prop<BalanceLevel?>(o, "PreviousLevel")?.ToString() ?? "-"}{(Prop<bool>(o, "IsRepeat") ? " repeat" : "")}").ToArray();

    private JsonObject File_() => JsonNode.Parse(File.ReadAllText(State))!.AsObject();

    private JsonObject CardIn(JsonObject file, string id) => file["cards"]![id]!.AsObject();

    [Fact]
    public async Task The_first_run_without_a_file_alerts_as_a_first_pass_does_and_saves_every_card()
    {
        var ids = await PlantAsync("300.00", "200.00", "10.00");
        var without = Run("Watch-AhrvoCardBalance -CardId $ids -Critical 50 -Low 250 -Once", ids);
        var with = Run(Watch, ids);
        Clean(with);
        Assert.Equal(new[] { $"{ids[1]} Low -", $"{ids[2]} Critical -" }, Alerts(with));
        Assert.Equal(Alerts(without), Alerts(with));

        var file = File_();
        Assert.Equal(1, (int)file["version"]!);
        Assert.Equal(3, file["cards"]!.AsObject().Count);
        Assert.Equal("Normal", (string)CardIn(file, ids[0])["level"]!);
        Assert.Equal("200.00", (string)CardIn(file, ids[1])["balance"]!);
        Assert.Equal("Critical", (string)CardIn(file, ids[2])["level"]!);
        Assert.NotNull(CardIn(file, ids[2])["lastAlertedAt"]);
        Assert.Null(CardIn(file, ids[0])["lastAlertedAt"]);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(State));
    }

    [Fact]
    public async Task A_second_run_with_the_same_balances_alerts_nothing()
    {
        var ids = await PlantAsync("300.00", "200.00", "10.00");
        Assert.Equal(2, Run(Watch, ids).Output.Count);
        var second = Run(Watch + " -Verbose", ids);
        Clean(second);
        Assert.Empty(second.Output);
        Assert.Contains(second.Verbose, v => v.Contains("3 cards") && v.Contains(State));
    }

    [Fact]
    public async Task A_level_change_since_the_last_run_alerts_once_with_the_saved_previous_level()
    {
        var ids = await PlantAsync("300.00", "200.00", "10.00");
        Run(Watch, ids);
        await _emu.PutCardAsync(ids[0], "250.00"); // Normal -> Low
        await _emu.PutCardAsync(ids[1], "40.00");  // Low -> Critical
        await _emu.PutCardAsync(ids[2], "5.00");   // Critical still: no alert, but the balance is kept
        var second = Run(Watch, ids);
        Clean(second);
        Assert.Equal(new[] { $"{ids[0]} Low Normal", $"{ids[1]} Critical Low" }, Alerts(second));
        Assert.Equal("5.00", (string)CardIn(File_(), ids[2])["balance"]!);
        Assert.Empty(Run(Watch, ids).Output);
    }

    [Fact]
    public async Task A_card_that_cannot_be_read_keeps_its_saved_level()
    {
        var ids = await PlantAsync("200.00", "300.00");
        Run(Watch, ids);
        var before = CardIn(File_(), ids[0]).ToJsonString();
        await _emu.DeleteCardAsync(ids[0]);
        var failed = Run(Watch, ids);
        Assert.Null(failed.Terminating);
        Assert.Equal("Ahrvo.CardNotFound", Assert.Single(failed.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(failed.Output);
        Assert.Equal(before, CardIn(File_(), ids[0]).ToJsonString());
        // Back at the same level: nothing to say; back to Normal: the change from the saved level.
        await _emu.PutCardAsync(ids[0], "200.00");
        Assert.Empty(Run(Watch, ids).Output);
        await _emu.PutCardAsync(ids[0], "900.00");
        Assert.Equal(new[] { $"{ids[0]} Normal Low" }, Alerts(Run(Watch, ids)));
    }

    [Fact]
    public async Task Cards_no_longer_watched_are_kept_unless_Prune()
    {
        var ids = await PlantAsync("200.00", "10.00");
        Run(Watch, ids);
        var onlyFirst = new[] { ids[0] };
        Clean(Run(Watch, onlyFirst));
        Assert.Equal(2, File_()["cards"]!.AsObject().Count);
        var pruned = Run(Watch + " -Prune -Verbose", onlyFirst);
        Clean(pruned);
        Assert.Equal(new[] { ids[0] }, File_()["cards"]!.AsObject().Select(p => p.Key));
        Assert.Contains(pruned.Verbose, v => v.Contains("1 no longer watched removed"));
        // The pruned card is new again: its next run alerts as a first sight.
        Assert.Equal(new[] { $"{ids[1]} Critical -" }, Alerts(Run(Watch, ids)));
    }

    [Fact]
    public void Prune_without_StatePath_is_refused()
    {
        var r = Run("try { Watch-AhrvoCardBalance -CardId card201907021723076245 -Low 1 -Once -Prune } catch { $_ }", Array.Empty<string>());
        var error = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.StartsWith("Ahrvo.PruneWithoutStatePath,", error.FullyQualifiedErrorId);
    }

    [Theory]
    [InlineData("{ \"version\": 1, \"cards\": { \"x\": ", "not valid JSON")]
    [InlineData("{ \"version\": 7, \"cards\": {} }", "version 7")]
    [InlineData("", "empty")]
    public async Task A_corrupt_file_is_a_terminating_error_naming_the_file_and_no_card_is_read(string content, string reason)
    {
        var ids = await PlantAsync("10.00");
        File.WriteAllText(State, content);
        var r = Run("try {\n" + Watch + "\n} catch { $_ }", ids);
        var error = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.StartsWith("Ahrvo.StateFileInvalid,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Contains(State, error.Exception.Message);
        Assert.Contains(reason, error.Exception.Message);
        Assert.Contains("delete it", error.ErrorDetails.RecommendedAction);
        Assert.Equal(content, File.ReadAllText(State)); // never replaced by a fresh start
        var stats = await _emu.GetStatsAsync(0);
        Assert.False(stats.RequestsPerCard.ContainsKey(ids[0]), "the card was queried although the state file is broken");
    }

    [Fact]
    public async Task RepeatAfter_alerts_again_for_a_card_still_below_normal_marked_as_a_repeat()
    {
        var ids = await PlantAsync("200.00", "10.00", "900.00");
        Run(Watch, ids);
        // As if the first run was two hours ago (no waiting): the file says when each card last alerted.
        var file = File_();
        var twoHoursAgo = DateTimeOffset.UtcNow.AddHours(-2).ToString("O", CultureInfo.InvariantCulture);
        foreach (var id in ids.Take(2)) CardIn(file, id)["lastAlertedAt"] = twoHoursAgo;
        CardIn(file, ids[1])["levelSince"] = twoHoursAgo;
        File.WriteAllText(State, file.ToJsonString());

        Assert.Empty(Run(Watch + " -RepeatAfter 03:00:00", ids).Output); // not yet
        var repeat = Run(Watch + " -RepeatAfter 01:00:00", ids);
        Clean(repeat);
        Assert.Equal(new[] { $"{ids[0]} Low Low repeat", $"{ids[1]} Critical Critical repeat" }, Alerts(repeat));
        Assert.EndsWith("(repeat)", repeat.Output[0].BaseObject.ToString());
        Assert.Empty(Run(Watch + " -RepeatAfter 3600", ids).Output); // counted from the reminder

        // 1 ms: surely past by the next run, so both cards remind again, this time as a table.
        var format = Path.Combine(PwshProcess.RepoRoot, "module", "Ahrvo.PowerShell.Format.ps1xml");
        var table = Run($"Update-FormatData -AppendPath '{format}'\n" + Watch + " -RepeatAfter 0.001 | Out-String -Width 80", ids);
        Clean(table);
        var rows = Assert.Single(table.Output).BaseObject.ToString()!.Split('\n').Where(l => l.Contains(ids[0]) || l.Contains(ids[1])).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row => Assert.Matches(@"(Low|Critical)\s+repeat\s", row));
    }

    [Fact]
    public void RepeatAfter_must_be_positive()
    {
        var r = Run("try { Watch-AhrvoCardBalance -CardId card201907021723076245 -Low 1 -Once -RepeatAfter 0 } catch { $_ }", Array.Empty<string>());
        var error = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.StartsWith("ParameterArgumentValidationError,", error.FullyQualifiedErrorId);
    }

    [Fact]
    public async Task Overlapping_runs_leave_a_valid_file_and_alert_each_change_exactly_once()
    {
        // Slow answers (and two at a time), so that each run takes seconds and the runs overlap.
        await using var emu = await EmulatorProcess.StartAsync("--latency-ms", "150");
        var ids = Enumerable.Range(0, 24).Select(_ => NewCardId()).ToArray();
        foreach (var id in ids) await emu.PutCardAsync(id, "900.00");
        var vars = new Dictionary<string, object?> { ["emuUri"] = emu.BaseUri, ["emuKey"] = emu.ApiKey, ["emuToken"] = emu.AccessToken, ["ids"] = ids, ["state"] = State };
        var first = PowerShellHost.Run(PowerShellHost.ConnectLine + Watch, vars);
        Clean(first);
        Assert.Empty(first.Output);

        var changed = ids.Where((_, i) => i % 2 == 0).ToArray();
        foreach (var id in changed) await emu.PutCardAsync(id, "20.00");

        // Separate pwsh processes, as cron would start them, released together by a barrier of files.
        const int runs = 3;
        const string script = """
            $ErrorActionPreference = 'Stop'
            Import-Module $env:AHRVO_TEST_MODULE
            Connect-Ahrvo -BaseUri $env:T_URI | Out-Null
            $null = New-Item -ItemType File (Join-Path $env:T_BARRIER "ready-$env:T_RUN")
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while (@(Get-ChildItem $env:T_BARRIER -Filter 'ready-*').Count -lt [int]$env:T_RUNS -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            "START $([datetime]::UtcNow.Ticks)"
            Watch-AhrvoCardBalance -CardId ($env:T_IDS -split ',') -Critical 50 -Low 250 -Once -StatePath $env:T_STATE -ThrottleLimit 2 |
                ForEach-Object { "ALERT $($_.CardId) $($_.Level) $($_.PreviousLevel)" }
            "END $([datetime]::UtcNow.Ticks)"
            """;
        var barrier = _dir.CreateSubdirectory("barrier");
        var tasks = Enumerable.Range(0, runs).Select(i => PwshProcess.RunAsync(script, new Dictionary<string, string?>
        {
            ["AHRVO_API_KEY"] = emu.ApiKey, ["AHRVO_ACCESS_TOKEN"] = emu.AccessToken, ["T_URI"] = emu.BaseUri.ToString(),
            ["T_IDS"] = string.Join(",", ids), ["T_STATE"] = State, ["T_BARRIER"] = barrier.FullName,
            ["T_RUN"] = i.ToString(CultureInfo.InvariantCulture), ["T_RUNS"] = runs.ToString(CultureInfo.InvariantCulture),
        }, TimeSpan.FromMinutes(3))).ToArray();
        var results = await Task.WhenAll(tasks);
        foreach (var r in results) Assert.True(r.ExitCode == 0, r.All);

        long Ticks(PwshResult r, string tag) => long.Parse(r.StdOut.Split('\n').Single(l => l.StartsWith(tag + " ", StringComparison.Ordinal))[(tag.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        var latestStart = results.Max(r => Ticks(r, "START"));
        var earliestEnd = results.Min(r => Ticks(r, "END"));
        _log.WriteLine($"runs overlapped for {TimeSpan.FromTicks(earliestEnd - latestStart).TotalSeconds:0.00} s");
        Assert.True(latestStart < earliestEnd, "the runs did not overlap, so the test proves nothing");

        var alerts = results.SelectMany(r => r.StdOut.Split('\n').Where(l => l.StartsWith("ALERT ", StringComparison.Ordinal)).Select(l => l.Trim())).ToList();
        Assert.Equal(changed.Select(id => $"ALERT {id} Critical Normal").OrderBy(a => a, StringComparer.Ordinal),
            alerts.OrderBy(a => a, StringComparer.Ordinal));

        var file = File_();
        Assert.Equal(ids.Length, file["cards"]!.AsObject().Count);
        foreach (var id in ids)
            Assert.Equal(changed.Contains(id) ? "Critical" : "Normal", (string)CardIn(file, id)["level"]!);
        Assert.Equal(new[] { "barrier", "state.json", "state.json.lock" },
            _dir.GetFileSystemInfos().Select(f => f.Name).OrderBy(n => n, StringComparer.Ordinal));
    }
}
