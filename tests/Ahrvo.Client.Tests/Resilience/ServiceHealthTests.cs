using Ahrvo.Client.Resilience;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Client.Tests.Resilience;

/// <summary>Outage detection, probes and the outage budget, on a fake clock.</summary>
public sealed class ServiceHealthTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly ServiceHealth _health;

    public ServiceHealthTests() => _health = new ServiceHealth(_time, TimeSpan.FromSeconds(30), () => 0.5);

    private long Now => _time.GetTimestamp();

    private string? Attempt(AttemptHealth outcome, TimeSpan took, bool probe = false)
    {
        long sent = Now;
        _health.OnAttemptStart();
        _time.Advance(took);
        return _health.OnAttemptEnd(sent, outcome, probe, outcome == AttemptHealth.Failed ? "HTTP 503" : null);
    }

    private Admission Admit(long runStart = 0) => _health.Admit(long.MaxValue, runStart, Budget, out _);

    [Fact]
    public void An_outage_is_seen_at_once_after_an_hour_of_successes()
    {
        for (int i = 0; i < 36_000; i++) Attempt(AttemptHealth.Up, TimeSpan.FromMilliseconds(100));
        for (int i = 0; i < ServiceHealth.FailureStreak - 1; i++) Assert.Null(Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(10)));
        Assert.False(_health.IsDown);
        Assert.Contains("looks down", Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(10)));
        Assert.True(_health.IsDown);
    }

    [Fact]
    public void Sporadic_failures_and_429s_never_open_it()
    {
        for (int i = 0; i < 20_000; i++)
            Attempt(i % 20 == 0 ? AttemptHealth.Failed : i % 20 == 10 ? AttemptHealth.Throttled : AttemptHealth.Up, TimeSpan.FromMilliseconds(1));
        Assert.False(_health.IsDown);
        for (int i = 0; i < 100; i++) Attempt(AttemptHealth.Throttled, TimeSpan.FromMilliseconds(1));
        Assert.False(_health.IsDown);
    }

    [Fact]
    public void While_down_one_probe_at_a_time_goes_out_and_the_others_wait_until_it_answers()
    {
        for (int i = 0; i < 5; i++) Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(1));
        Assert.True(_health.IsDown);
        Assert.Equal(Admission.Wait, Admit());
        _time.Advance(ServiceHealth.FirstProbeDelay);
        Assert.Equal(Admission.Probe, Admit());
        Assert.Equal(Admission.Wait, Admit());
        var waiting = _health.Changed;
        Assert.False(waiting.IsCompleted);
        Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(5), probe: true);
        Assert.True(waiting.IsCompleted);
        Assert.Equal(Admission.Wait, Admit()); // the next probe is later
        _time.Advance(ServiceHealth.MaxProbeDelay);
        Assert.Equal(Admission.Probe, Admit());
        Assert.Contains("answers again", Attempt(AttemptHealth.Up, TimeSpan.FromMilliseconds(5), probe: true));
        Assert.False(_health.IsDown);
        Assert.Equal(Admission.Send, Admit());
    }

    [Fact]
    public void Failures_of_requests_sent_before_the_recovery_do_not_reopen_it()
    {
        for (int i = 0; i < 5; i++) Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(1));
        // Sixteen requests sent while it was going down, answered after the recovery.
        long sentBefore = Now;
        for (int i = 0; i < 16; i++) _health.OnAttemptStart();
        _time.Advance(ServiceHealth.FirstProbeDelay);
        Assert.Equal(Admission.Probe, Admit());
        Attempt(AttemptHealth.Up, TimeSpan.FromMilliseconds(5), probe: true);
        for (int i = 0; i < 16; i++) Assert.Null(_health.OnAttemptEnd(sentBefore, AttemptHealth.Failed, false, "HTTP 503"));
        Assert.False(_health.IsDown);
    }

    [Fact]
    public void A_long_outage_is_waited_out_once_per_run_not_once_per_card()
    {
        long runStart = Now;
        _time.Advance(TimeSpan.FromSeconds(1));
        for (int i = 0; i < 5; i++) Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(1));
        long downAt = Now;
        // A card that comes late in the run waits only until the outage is older than the budget.
        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal(Admission.Probe, _health.Admit(Now + (long)(Budget.TotalSeconds * _time.TimestampFrequency), runStart, Budget, out _));
        Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(1), probe: true);
        Assert.Equal(Admission.Wait, _health.Admit(long.MaxValue, runStart, Budget, out long until));
        Assert.True(until <= downAt + (long)(Budget.TotalSeconds * _time.TimestampFrequency));
        _time.Advance(TimeSpan.FromSeconds(2));
        while (_health.Admit(long.MaxValue, runStart, Budget, out _) == Admission.Probe) Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(1), probe: true);
        Assert.Equal(Admission.GiveUp, _health.Admit(long.MaxValue, runStart, Budget, out _));
        // A new command gets its own budget, and probes at once.
        long nextRun = Now;
        _health.OnRunStart();
        Assert.Equal(Admission.Probe, _health.Admit(long.MaxValue, nextRun, Budget, out _));
        Assert.Equal(Admission.Wait, _health.Admit(long.MaxValue, nextRun, Budget, out _));
    }

    [Fact]
    public void A_service_that_stops_answering_is_seen_as_down_by_the_hang_check()
    {
        for (int i = 0; i < 100; i++) Attempt(AttemptHealth.Up, TimeSpan.FromMilliseconds(20));
        string? seen = null;
        _health.HangDetected = m => seen = m;
        for (int i = 0; i < 16; i++) _health.OnAttemptStart();
        _time.Advance(ServiceHealth.MinHangThreshold - TimeSpan.FromMilliseconds(300));
        Assert.False(_health.IsDown);
        _time.Advance(TimeSpan.FromMilliseconds(600)); // the periodic check runs on the fake clock
        Assert.True(_health.IsDown);
        Assert.Contains("no answer for", seen);
    }

    [Fact]
    public void A_slow_service_that_answers_is_not_a_hang()
    {
        for (int i = 0; i < 100; i++) Attempt(AttemptHealth.Up, TimeSpan.FromSeconds(1));
        for (int i = 0; i < 8; i++) _health.OnAttemptStart();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(_health.IsDown);
    }

    // ---- issue 18, item 5 -------------------------------------------------------------------

    private void GoDown()
    {
        for (int i = 0; i < ServiceHealth.FailureStreak; i++) Attempt(AttemptHealth.Failed, TimeSpan.FromMilliseconds(1));
        Assert.True(_health.IsDown);
    }

    [Fact]
    public void A_budget_of_TimeSpan_MaxValue_waits_for_the_service_instead_of_giving_up_at_once()
    {
        GoDown();
        // Before: the budget's ticks overflowed to a give-up time in the past, so every card gave up unsent.
        Assert.Equal(Admission.Wait, _health.Admit(long.MaxValue / 2, Now, TimeSpan.MaxValue, out long waitUntil));
        Assert.True(waitUntil > Now);
        _time.Advance(TimeSpan.FromDays(400));
        Assert.NotEqual(Admission.GiveUp, _health.Admit(long.MaxValue / 2, Now, TimeSpan.MaxValue, out _));
    }

    [Fact]
    public void A_recovery_right_after_a_card_is_told_to_wait_wakes_it()
    {
        GoDown();
        _time.Advance(ServiceHealth.FirstProbeDelay + ServiceHealth.FirstProbeDelay);
        Assert.Equal(Admission.Probe, _health.Admit(long.MaxValue, Now, Budget, TimeSpan.Zero, out _, out _));
        // The change signal comes with the answer, taken under the same lock: a recovery landing
        // between the two can no longer leave the card asleep until its give-up time.
        Assert.Equal(Admission.Wait, _health.Admit(long.MaxValue, Now, Budget, TimeSpan.Zero, out _, out var changed));
        Assert.False(changed.IsCompleted);
        Attempt(AttemptHealth.Up, TimeSpan.FromMilliseconds(5), probe: true);
        Assert.True(changed.IsCompleted);
    }

    [Fact]
    public void A_card_with_too_little_time_left_is_not_made_the_probe_until_the_probe_is_overdue()
    {
        GoDown();
        // The first probe is due 0.4-0.6 s after the outage was declared: due, not yet overdue.
        _time.Advance(TimeSpan.FromMilliseconds(600));
        var probeNeeds = TimeSpan.FromSeconds(2);
        long oneMs = TimeSpan.FromMilliseconds(1).Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond;
        // 1 ms left: its probe would time out on its own budget and delay the recovery.
        Assert.NotEqual(Admission.Probe, _health.Admit(Now + oneMs, Now, Budget, probeNeeds, out _, out _));
        // Overdue: the cards holding the workers are the oldest, with the least time left; when none
        // of them could probe, no probe went at all, and every card gave up after the service was back.
        _time.Advance(ServiceHealth.OverdueProbe);
        Assert.Equal(Admission.Probe, _health.Admit(Now + oneMs, Now, Budget, probeNeeds, out _, out _));
    }

    [Fact]
    public void A_card_with_time_left_is_made_the_probe_when_it_is_due()
    {
        GoDown();
        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(Admission.Probe, _health.Admit(long.MaxValue, Now, Budget, TimeSpan.FromSeconds(2), out _, out _));
    }

    [Fact]
    public void A_probe_released_unsent_leaves_the_in_flight_count_alone_and_lets_another_card_probe()
    {
        GoDown();
        _time.Advance(ServiceHealth.MaxProbeDelay);
        for (int round = 0; round < 5; round++)
        {
            Assert.Equal(Admission.Probe, _health.Admit(long.MaxValue, Now, Budget, out _));
            _health.ReleaseProbe(); // its card stopped (or its token failed) before sending
        }
        Assert.Equal(0, _health.InFlight);
        // Before: an abandoned probe went through OnAttemptEnd, one decrement without an increment each.
        for (int i = 0; i < 2; i++) _health.OnAttemptStart();
        Assert.Equal(2, _health.InFlight);
    }

    // ---- issue 17: windows shorter than a short budget (-TimeoutSec 5) --------------------------

    private long Ticks(TimeSpan t) => (long)(t.TotalSeconds * _time.TimestampFrequency);

    private static void Near(TimeSpan expected, TimeSpan actual) =>
        Assert.InRange(actual, expected - TimeSpan.FromMilliseconds(1), expected + TimeSpan.FromMilliseconds(1));

    [Fact]
    public void An_outage_that_lasted_the_budget_is_given_up_only_when_a_probe_sent_since_then_fails()
    {
        long runStart = Now;
        GoDown();
        long outageEnds = runStart + Ticks(Budget);
        // A probe goes out shortly before the outage has lasted the budget, and hangs.
        _time.Advance(Budget - TimeSpan.FromMilliseconds(500));
        Assert.Equal(Admission.Probe, _health.Admit(long.MaxValue, runStart, Budget, out _));
        long hungProbeSent = Now;
        _health.OnAttemptStart();
        // The budget is up: before, every card gave up here, although a window shorter than the
        // budget has ended by now. One more probe goes, while the first is still out.
        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.True(Now >= outageEnds);
        Assert.Equal(Admission.Probe, _health.Admit(long.MaxValue, runStart, Budget, out _));
        long lastProbeSent = Now;
        _health.OnAttemptStart();
        Assert.Equal(Admission.Wait, _health.Admit(long.MaxValue, runStart, Budget, out _));
        // The first probe's failure (sent before the budget was up) decides nothing.
        _time.Advance(TimeSpan.FromMilliseconds(100));
        _health.OnAttemptEnd(hungProbeSent, AttemptHealth.Failed, wasProbe: true, "no answer");
        Assert.Equal(Admission.Wait, _health.Admit(long.MaxValue, runStart, Budget, out _));
        // The last probe's does: every waiting card gives up.
        _health.OnAttemptEnd(lastProbeSent, AttemptHealth.Failed, wasProbe: true, "HTTP 503");
        Assert.Equal(Admission.GiveUp, _health.Admit(long.MaxValue, runStart, Budget, out _));
    }

    [Fact]
    public void The_last_probe_that_answers_brings_every_waiting_card_back()
    {
        long runStart = Now;
        GoDown();
        _time.Advance(Budget + TimeSpan.FromMilliseconds(1));
        Assert.Equal(Admission.Probe, _health.Admit(long.MaxValue, runStart, Budget, out _));
        Attempt(AttemptHealth.Up, TimeSpan.FromMilliseconds(300), probe: true);
        Assert.False(_health.IsDown);
        Assert.Equal(Admission.Send, _health.Admit(long.MaxValue, runStart, Budget, out _));
    }

    [Fact]
    public void Cards_wait_at_most_a_second_budget_when_no_probe_can_say()
    {
        long runStart = Now;
        GoDown();
        _time.Advance(Budget + Budget);
        // No card had the time a probe needs: the wait still ends.
        Assert.Equal(Admission.GiveUp, _health.Admit(long.MaxValue, runStart, Budget, TimeSpan.FromDays(1), out _, out _));
    }

    [Fact]
    public void With_a_short_budget_a_hang_is_seen_within_a_third_of_it()
    {
        // 500 ms answers make ten answers' time 5 s: with -TimeoutSec 5 the cards a hang holds
        // were lost before it was seen. Now a third of the budget.
        var health = new ServiceHealth(_time, TimeSpan.FromSeconds(30), () => 0.5, budget: TimeSpan.FromSeconds(5));
        for (int i = 0; i < 50; i++)
        {
            long sent = Now;
            health.OnAttemptStart();
            _time.Advance(TimeSpan.FromMilliseconds(500));
            health.OnAttemptEnd(sent, AttemptHealth.Up, false);
        }
        Near(TimeSpan.FromSeconds(5.0 / 3), health.HangThreshold);
        for (int i = 0; i < 16; i++) health.OnAttemptStart();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(health.IsDown);
        // Down since the last answer, when the hang began, not since it was seen.
        Near(TimeSpan.FromSeconds(2), _time.GetUtcNow() - health.DownSince!.Value);
        // Before any answer, a third of the budget too (the attempt timeout, 30 s, would be the whole budget).
        Near(TimeSpan.FromSeconds(5.0 / 3), new ServiceHealth(_time, TimeSpan.FromSeconds(30), () => 0.5, budget: TimeSpan.FromSeconds(5)).HangThreshold);
    }

    [Fact]
    public void A_probe_waits_four_answers_at_first_and_never_more_than_a_quarter_of_the_budget()
    {
        var health = new ServiceHealth(_time, TimeSpan.FromSeconds(30), () => 0.5, budget: TimeSpan.FromSeconds(20));
        // Before any answer: the hang threshold (a third of the budget), held to a quarter of it.
        Near(TimeSpan.FromSeconds(5), health.ProbeTimeout);
        for (int i = 0; i < 50; i++)
        {
            long sent = Now;
            health.OnAttemptStart();
            _time.Advance(TimeSpan.FromMilliseconds(500));
            health.OnAttemptEnd(sent, AttemptHealth.Up, false);
        }
        // Four answers (2 s), not the hang threshold (5 s): a first probe sent just before a short
        // hang ended held the recovery for the whole threshold.
        Near(TimeSpan.FromSeconds(2), health.ProbeTimeout);
        for (int i = 0; i < ServiceHealth.FailureStreak; i++)
        {
            long sent = Now;
            health.OnAttemptStart();
            _time.Advance(TimeSpan.FromMilliseconds(1));
            health.OnAttemptEnd(sent, AttemptHealth.Failed, false, "HTTP 503");
        }
        Assert.True(health.IsDown);
        for (int failed = 1; failed <= 3; failed++)
        {
            _time.Advance(ServiceHealth.MaxProbeDelay);
            Assert.Equal(Admission.Probe, health.Admit(long.MaxValue, Now, TimeSpan.FromSeconds(20), out _));
            long sent = Now;
            health.OnAttemptStart();
            health.OnAttemptEnd(sent, AttemptHealth.Failed, true, "HTTP 503");
            // Doubled for each failed probe (a service gone slow is not dead), up to a quarter of the budget.
            Near(TimeSpan.FromSeconds(Math.Min(5, 2 * Math.Pow(2, failed))), health.ProbeTimeout);
        }
    }

    [Fact]
    public void Requests_cut_for_taking_too_long_are_no_answer_to_the_hang_check()
    {
        for (int i = 0; i < 100; i++) Attempt(AttemptHealth.Up, TimeSpan.FromMilliseconds(20));
        // A hang swallows every request; the client cuts each at the hang threshold in turn, while
        // new ones keep going in. Before, each cut counted as an answer and the hang was never seen.
        // Two a second, each cut 1.9 s after it went (too few failures for the failure count yet).
        var sent = new Queue<long>();
        for (int tick = 0; tick < 60 && !_health.IsDown; tick++)
        {
            if (tick % 5 == 0)
            {
                sent.Enqueue(Now);
                _health.OnAttemptStart();
            }
            _time.Advance(TimeSpan.FromMilliseconds(100));
            if (sent.Count > 0 && Now - sent.Peek() >= Ticks(TimeSpan.FromMilliseconds(1900)))
                _health.OnAttemptEnd(sent.Dequeue(), AttemptHealth.TimedOut, false, "no answer within 1.9 s");
        }
        Assert.True(_health.IsDown);
        Assert.Contains("no answer for", _health.DownReason);
        Assert.True(_time.GetUtcNow() - _health.DownSince!.Value >= TimeSpan.FromSeconds(2));
    }
}
