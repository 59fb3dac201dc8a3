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
    public void Whatever_happened_a_retry_leaves_the_card_time_to_be_answered()
    {
        var gen = Gen.Select(Gen.Bool, Gen.Int[0, 120], Gen.Int[0, 12], Gen.Int[0, 12], Gen.Bool, Gen.Long[0, 200 * F], Gen.Long[0, 5 * F], Gen.Double[0, 1])
            .Select((t, ra, throttles, failures, outage, deadline, minLeft, random) => (t, ra, throttles, failures, outage, deadline, minLeft, random));
        gen.Sample(x =>
        {
            var d = Decide(x.t, x.ra == 0 ? null : TimeSpan.FromSeconds(x.ra), x.throttles + 1, x.failures, x.outage, 0, x.deadline, x.minLeft, 3, x.random);
            if (d.Step == NextStep.RetryAt)
            {
                Assert.True(d.At >= 0 && x.deadline - d.At >= x.minLeft, $"retry at {d.At} with deadline {x.deadline} and {x.minLeft} needed");
                Assert.True(d.Wait <= Cap + TimeSpan.FromSeconds(Cap.TotalSeconds / 10), $"waited {d.Wait}");
            }
            if (x.outage && !x.t) Assert.Equal(NextStep.WaitForService, d.Step);
            if (!x.t && !x.outage && x.failures >= 3) Assert.Equal(AhrvoLimit.MaxRetries, d.Limit);
        }, iter: 2000);
    }
}
