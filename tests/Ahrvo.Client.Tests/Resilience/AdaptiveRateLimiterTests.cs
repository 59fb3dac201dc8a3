using Ahrvo.Client.Resilience;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests.Resilience;

/// <summary>The adaptive pace, on a fake clock against a simulated token-bucket server.</summary>
public sealed class AdaptiveRateLimiterTests(ITestOutputHelper log)
{
    /// <summary>A server's account limit: a token bucket of <paramref name="limit"/>/s holding one second's worth.</summary>
    private sealed class Bucket(FakeTimeProvider time, double limit)
    {
        private readonly double _limit = limit;
        private double _tokens = limit;
        private long _at = time.GetTimestamp();

        public bool TryTake()
        {
            long now = time.GetTimestamp();
            _tokens = Math.Min(_limit, _tokens + (now - _at) * _limit / time.TimestampFrequency);
            _at = now;
            if (_tokens < 1) return false;
            _tokens--;
            return true;
        }
    }

    /// <summary>Sends for <paramref name="seconds"/> as fast as the pace allows (at most <paramref name="offered"/>/s); counts sent, passed and throttled.</summary>
    private static (int Sent, int Passed, int Throttled) Drive(FakeTimeProvider time, AdaptiveRateLimiter pacer, Func<bool> server, double seconds, double offered = 800)
    {
        var end = time.GetUtcNow().AddSeconds(seconds);
        var gap = TimeSpan.FromSeconds(1 / offered);
        int sent = 0, passed = 0, throttled = 0;
        while (time.GetUtcNow() < end)
        {
            var wait = pacer.Reserve(out _, out long ticket);
            time.Advance(wait > gap ? wait : gap);
            sent++;
            if (server()) { passed++; pacer.OnAnswer(); }
            else { throttled++; pacer.OnThrottled(ticket); }
        }
        return (sent, passed, throttled);
    }

    [Fact]
    public void Requests_are_not_paced_until_the_server_throttles()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        for (int i = 0; i < 1000; i++) Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _));
        Assert.Null(pacer.CurrentRate);
        Assert.Null(pacer.LearnedRate);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(200)]
    public void The_pace_converges_to_an_unknown_account_limit_with_few_429s(double limit)
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        var server = new Bucket(time, limit);
        var start = Drive(time, pacer, server.TryTake, 10);
        var steady = Drive(time, pacer, server.TryTake, 30);
        log.WriteLine($"limit {limit}/s: first 10 s {start.Passed} passed, {start.Throttled} throttled; next 30 s {steady.Passed / 30.0:0.#}/s passed, {steady.Throttled} throttled of {steady.Sent}; pace now {pacer.CurrentRate:0.#}/s");
        Assert.True(start.Passed >= 0.9 * limit * 10, $"{start.Passed} passed in the first 10 s");
        Assert.True(start.Throttled <= 0.05 * limit * 10, $"{start.Throttled} throttled in the first 10 s");
        Assert.True(steady.Passed >= 0.9 * limit * 30, $"{steady.Passed} passed in 30 s");
        Assert.True(steady.Throttled <= 0.03 * steady.Sent, $"{steady.Throttled} of {steady.Sent} throttled");
        Assert.NotNull(pacer.LearnedRate);
    }

    [Fact]
    public void When_the_throttling_stops_the_pace_grows_back_and_is_lifted()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        var server = new Bucket(time, 50);
        Drive(time, pacer, server.TryTake, 5);
        double throttledPace = pacer.CurrentRate!.Value;
        Assert.True(throttledPace < 80, $"paced at {throttledPace}");
        var free = Drive(time, pacer, () => true, 30);
        log.WriteLine($"paced at {throttledPace:0.#}/s; after 30 s without 429: {free.Sent} sent, pace {pacer.CurrentRate}");
        Assert.Null(pacer.LearnedRate);
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _));
    }

    [Fact]
    public void After_a_cut_workers_that_ask_at_the_same_instant_get_distinct_slots()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        long ticket = 0;
        for (int i = 0; i < 100; i++) { pacer.Reserve(out _, out ticket); time.Advance(TimeSpan.FromMilliseconds(5)); } // 200/s
        for (int i = 0; i < 3; i++) pacer.OnAnswer(ticket);
        pacer.OnThrottled(ticket);
        Assert.NotNull(pacer.OnThrottled(ticket));
        double rate = pacer.CurrentRate!.Value;
        var waits = Enumerable.Range(0, 16).Select(n => pacer.Reserve(out _)).ToArray();
        Assert.Equal(16, waits.Distinct().Count());
        for (int i = 1; i < waits.Length; i++)
            Assert.InRange((waits[i] - waits[i - 1]).TotalSeconds, 0.99 / rate, 1.01 / rate);
    }

    [Fact]
    public void A_lone_429_among_many_answers_does_not_slow_the_connection_but_a_share_well_above_the_floor_does()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        for (int round = 0; round < 10; round++)
        {
            for (int i = 0; i < 100; i++) { pacer.Reserve(out _); pacer.OnAnswer(); time.Advance(TimeSpan.FromMilliseconds(2)); }
            Assert.Null(pacer.OnThrottled(0));
        }
        Assert.Null(pacer.CurrentRate);
        Assert.Equal(10, pacer.Throttled);
        // Later, five 429s among a few answers: far more than a floor of zero explains.
        time.Advance(TimeSpan.FromSeconds(5));
        for (int i = 0; i < 3; i++) pacer.OnAnswer();
        string? cut = null;
        for (int i = 0; i < 5; i++) cut ??= pacer.OnThrottled(0);
        Assert.NotNull(cut);
        Assert.NotNull(pacer.CurrentRate);
    }

    [Fact]
    public void Random_429s_at_a_fixed_share_leave_the_pace_unlimited_once_a_cut_did_not_lower_their_share()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        var gateway = new Random(5);
        long ticket = 0;
        // 400 requests/s for 20 s, 5 % of them answered 429 whatever the rate.
        for (int i = 0; i < 8000; i++)
        {
            var wait = pacer.Reserve(out _, out ticket);
            time.Advance(wait > TimeSpan.FromMilliseconds(2.5) ? wait : TimeSpan.FromMilliseconds(2.5));
            if (gateway.NextDouble() < 0.05) pacer.OnThrottled(ticket); else pacer.OnAnswer(ticket);
        }
        log.WriteLine($"after 20 s of 5 % random 429s: pace {pacer.CurrentRate}, floor {pacer.NoiseFloor:0.###}");
        Assert.Null(pacer.CurrentRate);
        Assert.InRange(pacer.NoiseFloor, 0.02, 0.25);
    }

    [Fact]
    public void Throttles_of_requests_scheduled_before_a_cut_do_not_cut_again()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        long before = 0;
        for (int i = 0; i < 100; i++) { pacer.Reserve(out _, out before); time.Advance(TimeSpan.FromMilliseconds(2)); }
        for (int i = 0; i < 3; i++) pacer.OnAnswer(before);
        pacer.OnThrottled(before);
        pacer.OnThrottled(before);
        double afterFirstCut = pacer.CurrentRate!.Value;
        // Slots handed out under the old pace, sent and throttled after the cut: not cut for again.
        for (int i = 0; i < 10; i++) Assert.Null(pacer.OnThrottled(before));
        Assert.True(pacer.CurrentRate >= afterFirstCut, $"{pacer.CurrentRate} < {afterFirstCut}");
        pacer.Reserve(out _, out long after);
        time.Advance(TimeSpan.FromMilliseconds(1));
        for (int i = 0; i < 3; i++) pacer.OnAnswer(after);
        string? cut = null;
        for (int i = 0; i < 5; i++) cut ??= pacer.OnThrottled(after);
        Assert.NotNull(cut);
        Assert.True(pacer.CurrentRate < afterFirstCut);
    }

    [Fact]
    public void MaxRequestsPerSecond_is_a_hard_ceiling_even_before_any_429()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, 20);
        var waits = Enumerable.Range(0, 40).Select(n => pacer.Reserve(out _)).ToArray();
        Assert.Equal(TimeSpan.Zero, waits[0]);
        Assert.InRange(waits[39].TotalSeconds, 1.94, 1.96);
        Assert.Equal(20, pacer.CurrentRate);
        Assert.Null(pacer.LearnedRate);
    }
}
