using Ahrvo.PowerShell.Alerts;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Alerts;

/// <summary>The rule behind Watch-AhrvoCardBalance's alerts (changes, repeats, overlapping runs), on explicit timestamps and generations.</summary>
public sealed class AlertStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 31, 9, 0, 0, TimeSpan.Zero);

    private static AlertKind See(AlertState s, string id, BalanceLevel level, DateTimeOffset at, out BalanceLevel? previous, TimeSpan? repeatAfter = null) =>
        s.Observe(id, level, 1m, "USD", at, at, repeatAfter, AlertState.InMemory, out previous);

    private static AlertKind See(AlertState s, BalanceLevel level, DateTimeOffset at, TimeSpan? repeatAfter = null) =>
        See(s, "c", level, at, out _, repeatAfter);

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
            if (s.Observe("c", level, balance, "USD", at, at, null, AlertState.InMemory, out var previous) != AlertKind.None) alerts.Add((level, previous));
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

    /// <summary>A state as loaded from a file at generation 5, card "c" last saved by generation <paramref name="savedBy"/>.</summary>
    private static AlertState Loaded(BalanceLevel level, DateTimeOffset observedAt, long savedBy, DateTimeOffset? lastAlertedAt = null)
    {
        var s = new AlertState(generation: 5);
        s.Set(new CardAlertState("c", level, 1m, "USD", observedAt, observedAt, lastAlertedAt, savedBy));
        return s;
    }

    private static AlertKind SeeFrom(AlertState s, long basis, BalanceLevel level, DateTimeOffset at, out BalanceLevel? previous, TimeSpan? repeatAfter = null) =>
        s.Observe("c", level, 1m, "USD", at, at, repeatAfter, basis, out previous);

    [Fact]
    public void A_reading_of_a_pass_that_began_before_a_newer_save_does_not_undo_it()
    {
        // Two overlapping runs: this pass began at generation 4, and the other run saved the card at
        // generation 5 meanwhile (having maybe read it later): its news stands, whatever the clocks say.
        var s = Loaded(BalanceLevel.Normal, T0, savedBy: 5);
        Assert.Equal(AlertKind.None, SeeFrom(s, 4, BalanceLevel.Low, T0.AddHours(1), out var previous));
        Assert.Equal(BalanceLevel.Normal, previous);
        Assert.True(s.TryGet("c", out var card));
        Assert.Equal(BalanceLevel.Normal, card.Level);
        Assert.Equal(5, card.Generation);
        // A pass that began after that save is newer: its change alerts, and is stamped with the next generation.
        Assert.Equal(AlertKind.Change, SeeFrom(s, 5, BalanceLevel.Low, T0.AddHours(1), out _));
        Assert.True(s.TryGet("c", out card));
        Assert.Equal(6, card.Generation);
    }

    [Theory]
    [InlineData(-1)]       // the clock stepped back an hour since the last save
    [InlineData(-24 * 30)] // or a month (a VM restored from a snapshot)
    [InlineData(0)]
    [InlineData(1)]
    public void The_wall_clock_never_orders_readings(int hours)
    {
        // The saved reading's time is ahead of the new one's: a clock stepped back, or the file was
        // written by a machine whose clock is ahead. The change still alerts.
        var s = Loaded(BalanceLevel.Low, T0, savedBy: 5);
        Assert.Equal(AlertKind.Change, SeeFrom(s, 5, BalanceLevel.Critical, T0.AddHours(hours), out var previous));
        Assert.Equal(BalanceLevel.Low, previous);
    }

    [Fact]
    public void A_last_alert_stamped_in_the_future_counts_from_now_not_from_the_skew()
    {
        // Alerted "two hours from now" by a clock that has since stepped back: the reminder comes
        // -RepeatAfter after this run, not two hours later than that.
        var hour = TimeSpan.FromHours(1);
        var s = Loaded(BalanceLevel.Low, T0.AddHours(2), savedBy: 5, lastAlertedAt: T0.AddHours(2));
        Assert.Equal(AlertKind.None, SeeFrom(s, 5, BalanceLevel.Low, T0, out _, hour));
        Assert.True(s.TryGet("c", out var card));
        Assert.Equal(T0, card.LastAlertedAt);
        Assert.Equal(AlertKind.Repeat, SeeFrom(s, 6, BalanceLevel.Low, T0.AddHours(1), out _, hour));
    }

    [Fact]
    public void Restore_puts_back_a_card_as_it_was_or_forgets_a_new_one()
    {
        var s = Loaded(BalanceLevel.Low, T0, savedBy: 5);
        Assert.True(s.TryGet("c", out var before));
        SeeFrom(s, 5, BalanceLevel.Critical, T0.AddMinutes(5), out _);
        See(s, "new", BalanceLevel.Critical, T0.AddMinutes(5), out _);
        s.Restore("c", before);
        s.Restore("new", null);
        Assert.True(s.TryGet("c", out var card));
        Assert.Same(before, card);
        Assert.False(s.TryGet("new", out _));
        // So the next run sees the same change, and alerts it again.
        Assert.Equal(AlertKind.Change, SeeFrom(s, 6, BalanceLevel.Critical, T0.AddMinutes(10), out var previous));
        Assert.Equal(BalanceLevel.Low, previous);
    }

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
}
