using Ahrvo.Client.Resilience;
using CsCheck;
using Xunit;

namespace Ahrvo.Client.Tests.Resilience;

/// <summary>The retry/wait decision after an attempt: a pure function, tested without HTTP or a clock.</summary>
public sealed class RetryDecisionTests
{
    private const long F = TimeSpan.TicksPerSecond; // timestamp ticks per second in these tests
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(500), Cap = TimeSpan.FromSeconds(30);

    private static RetryDecision Decide(bool throttled = false, TimeSpan? retryAfter = null, int throttles = 1, int failures = 0, bool outage = false,
        long now = 0, long deadline = 120 * F, long minLeft = F / 10, int maxRetries = 3, double random = 0.5) =>
        RetryDecision.Decide(throttled, retryAfter, throttles, failures, outage, now, deadline, minLeft, F, maxRetries, Base, Cap, random);

    [Fact]
    public void A_429_waits_its_Retry_After_whatever_MaxRetries_says()
    {
        var d = Decide(throttled: true, retryAfter: TimeSpan.FromSeconds(1), throttles: 7, failures: 9, maxRetries: 0, random: 0);
        Assert.Equal(NextStep.RetryAt, d.Step);
        Assert.Equal(F, d.At);
    }

    [Fact]
    public void A_failure_while_the_service_is_up_counts_and_the_last_retry_ends_the_card()
    {
        Assert.Equal(NextStep.RetryAt, Decide(failures: 2, maxRetries: 3).Step);
        var last = Decide(failures: 3, maxRetries: 3);
        Assert.Equal(NextStep.Finish, last.Step);
        Assert.Equal(AhrvoLimit.MaxRetries, last.Limit);
    }

    [Fact]
    public void A_failure_during_an_outage_waits_for_the_service_and_uses_no_retry()
    {
        var d = Decide(failures: 10, outage: true, maxRetries: 0, now: 5 * F);
        Assert.Equal(NextStep.WaitForService, d.Step);
        Assert.Equal(5 * F, d.At);
    }

    [Fact]
    public void No_retry_is_scheduled_that_would_leave_less_than_the_usual_answer_time()
    {
        // Retry-After 1 s with 1.05 s left and 100 ms needed to answer: finish now with the last answer.
        var d = Decide(throttled: true, retryAfter: TimeSpan.FromSeconds(1), deadline: F + F / 20, random: 0);
        Assert.Equal(NextStep.Finish, d.Step);
        Assert.Equal(AhrvoLimit.TotalTimeout, d.Limit);
        Assert.Equal(NextStep.RetryAt, Decide(throttled: true, retryAfter: TimeSpan.FromSeconds(1), deadline: 2 * F, random: 0).Step);
    }

    [Fact]
    public void A_429s_wait_does_not_use_the_budget_while_the_allowance_lasts()
    {
        // Retry-After 1 s with 0.5 s left: within the allowance the deadline moves by the wait and
        // the card waits; with the allowance spent, the budget runs as before and the card ends.
        var d = RetryDecision.Decide(true, TimeSpan.FromSeconds(1), 1, 0, false, 0, F / 2, F / 10, F, 3, Base, Cap, 0, throttleAllowance: 5 * F);
        Assert.Equal(NextStep.RetryAt, d.Step);
        Assert.Equal(F, d.At);
        Assert.Equal(F, d.Extension);
        var spent = RetryDecision.Decide(true, TimeSpan.FromSeconds(1), 1, 0, false, 0, F / 2, F / 10, F, 3, Base, Cap, 0, throttleAllowance: 0);
        Assert.Equal(NextStep.Finish, spent.Step);
        Assert.Equal(0, spent.Extension);
        // A failure's backoff is the card's own: no allowance.
        Assert.Equal(0, RetryDecision.Decide(false, null, 0, 0, false, 0, 100 * F, F / 10, F, 3, Base, Cap, 0.5, throttleAllowance: 5 * F).Extension);
    }

    [Fact]
    public void A_backoff_longer_than_the_time_left_is_cut_so_the_last_retry_still_goes()
    {
        // The third retry's backoff is 2 s; 1.5 s are left and an answer takes 100 ms: the retry goes
        // at 1.3 s, leaving twice the answer time (before, the card ended with time to spare).
        var d = Decide(failures: 2, deadline: 3 * F / 2, random: 0.5);
        Assert.Equal(NextStep.RetryAt, d.Step);
        Assert.Equal(3 * F / 2 - 2 * (F / 10), d.At);
        // Less than twice the answer time left: at the last moment that leaves one.
        Assert.Equal(F / 5, Decide(failures: 2, deadline: 9 * F / 20, minLeft: F / 4, random: 0.5).At);
        // Not a 429's wait: sending before the server's Retry-After only asks for another 429.
        Assert.Equal(NextStep.Finish, Decide(throttled: true, retryAfter: TimeSpan.FromSeconds(5), deadline: 2 * F).Step);
    }

    [Fact]
    public void Whatever_happened_a_retry_leaves_the_card_time_to_be_answered()
    {
        var gen = Gen.Select(
            Gen.Select(Gen.Bool, Gen.Int[0, 120], Gen.Int[0, 12], Gen.Int[0, 12], Gen.Bool),
            Gen.Select(Gen.Long[0, 200 * F], Gen.Long[0, 5 * F], Gen.Double[0, 1], Gen.Long[0, 10 * F]))
            .Select(p => (t: p.Item1.Item1, ra: p.Item1.Item2, throttles: p.Item1.Item3, failures: p.Item1.Item4, outage: p.Item1.Item5,
                deadline: p.Item2.Item1, minLeft: p.Item2.Item2, random: p.Item2.Item3, allowance: p.Item2.Item4));
        gen.Sample(x =>
        {
            var d = RetryDecision.Decide(x.t, x.ra == 0 ? null : TimeSpan.FromSeconds(x.ra), x.throttles + 1, x.failures, x.outage, 0, x.deadline, x.minLeft, F, 3, Base, Cap, x.random, x.allowance);
            Assert.True(d.Extension >= 0 && d.Extension <= x.allowance && (x.t || d.Extension == 0), $"extension {d.Extension} of {x.allowance}");
            if (d.Step == NextStep.RetryAt)
            {
                Assert.True(d.At >= 0 && x.deadline + d.Extension - d.At >= x.minLeft, $"retry at {d.At} with deadline {x.deadline} (+{d.Extension}) and {x.minLeft} needed");
                Assert.True(d.Wait <= Cap + TimeSpan.FromSeconds(Cap.TotalSeconds / 10), $"waited {d.Wait}");
            }
            if (x.outage && !x.t) Assert.Equal(NextStep.WaitForService, d.Step);
            if (!x.t && !x.outage && x.failures >= 3) Assert.Equal(AhrvoLimit.MaxRetries, d.Limit);
        }, iter: 2000);
    }
}
