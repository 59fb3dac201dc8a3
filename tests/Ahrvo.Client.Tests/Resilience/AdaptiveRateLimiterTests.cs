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

    /// <summary>Opens the start window: enough requests answered without a 429.</summary>
    private static long Open(FakeTimeProvider time, AdaptiveRateLimiter pacer, int requests = AdaptiveRateLimiter.OpenAfter, double perSecond = 200)
    {
        long ticket = 0;
        for (int i = 0; i < requests; i++)
        {
            Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out ticket));
            time.Advance(TimeSpan.FromSeconds(1 / perSecond));
            pacer.OnAnswer(ticket);
        }
        return ticket;
    }

    [Fact]
    public void Requests_are_not_paced_until_the_server_throttles()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out long ticket));
            pacer.OnAnswer(ticket);
        }
        Assert.Null(pacer.CurrentRate);
        Assert.Null(pacer.LearnedRate);
        // Once open, requests are not held back even before their answers come.
        for (int i = 0; i < 1000; i++) Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _));
    }

    [Fact]
    public void At_the_start_a_few_requests_go_and_more_as_answers_come_as_TCPs_slow_start()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null, slowStart: true);
        // 64 workers ask at once: only the start window goes; the others wait for an answer.
        var first = Enumerable.Range(0, 64).Select(n => { var w = pacer.Reserve(out _, out long t, out long s, out var signal); return (w, t, s, signal); }).ToArray();
        Assert.Equal(AdaptiveRateLimiter.InitialWindow, first.Count(r => r.w == TimeSpan.Zero));
        var held = first.Where(r => r.w > TimeSpan.Zero).ToArray();
        Assert.All(held, r => Assert.False(r.signal.IsCompleted));
        // An answer wakes them, and lets two more go.
        pacer.OnAnswer(first[0].t);
        Assert.All(held, r => Assert.True(r.signal.IsCompleted));
        Assert.NotEqual(held[0].s, pacer.Schedule);
        var again = Enumerable.Range(0, 60).Select(n => pacer.Reserve(out _)).ToArray();
        Assert.Equal(AdaptiveRateLimiter.WindowGrowth, again.Count(w => w == TimeSpan.Zero));
    }

    [Fact]
    public void In_the_start_window_three_429s_in_a_row_after_a_spent_burst_start_the_pace_however_many_answers_came_before()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null, slowStart: true);
        long Send() { pacer.Reserve(out _, out long t, out _, out _); return t; }
        // A bucket's burst of 50 passes; then every answer is a 429. Waiting for half the answers
        // to be 429s waited for 50 of them.
        for (int i = 0; i < 50; i++) { long t = Send(); time.Advance(TimeSpan.FromMilliseconds(2)); pacer.OnAnswer(t); }
        Assert.Null(pacer.LearnedRate);
        // 429s that come apart, between other answers, are a gateway's: nothing changes.
        for (int i = 0; i < 2; i++) { pacer.OnThrottled(Send()); pacer.OnThrottled(Send()); pacer.OnAnswer(Send()); }
        Assert.Null(pacer.LearnedRate);
        // Three in a row: the burst is spent, the pace takes over.
        for (int i = 0; i < 3; i++) pacer.OnThrottled(Send());
        Assert.NotNull(pacer.LearnedRate);
    }

    [Fact]
    public void The_start_window_admits_a_bulk_runs_cards_by_their_place_in_the_input_not_by_who_asks_first()
    {
        var time = new FakeTimeProvider(); // frozen: the window's own fallback never comes
        var pacer = new AdaptiveRateLimiter(time, null, slowStart: true);
        // Later cards' workers ask first: none of them takes the window from the cards before them.
        var late = Enumerable.Range(4, 12).Select(n => pacer.Reserve(out _, out _, out _, out var signal, order: n)).ToArray();
        Assert.All(late, w => Assert.True(w > TimeSpan.Zero));
        // The first four go, whenever they ask; a card the caller waits for is never held behind them.
        var first = Enumerable.Range(0, 4).Select(n => { var w = pacer.Reserve(out _, out long t, out _, out _, order: n); return (w, t); }).ToArray();
        Assert.All(first, r => Assert.Equal(TimeSpan.Zero, r.w));
        // Cards 1 to 3 hang; card 0's answer lets the next two in the input go, and only them.
        pacer.OnAnswer(first[0].t);
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out _, out _, out _, order: 4));
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out _, out _, out _, order: 5));
        Assert.True(pacer.Reserve(out _, out _, out _, out _, order: 6) > TimeSpan.Zero);
        // A retry of a card already admitted is never held.
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out _, out _, out _, order: 2));
    }

    [Fact]
    public void The_start_window_lets_no_more_cards_in_after_a_429_until_the_bucket_answers_again()
    {
        var time = new FakeTimeProvider(); // frozen: the window's own fallback never comes
        var pacer = new AdaptiveRateLimiter(time, null, slowStart: true);
        long Send(int order)
        {
            Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out long t, out _, out _, order));
            return t;
        }
        bool Held(int order) => pacer.Reserve(out _, out _, out _, out _, order) > TimeSpan.Zero;
        long t0 = time.GetTimestamp();
        var first = Enumerable.Range(0, 4).Select(Send).ToArray();
        time.Advance(TimeSpan.FromMilliseconds(20));
        // Three answers grow the window to ten; cards 4 and 5 go.
        for (int i = 0; i < 3; i++) pacer.OnAnswer(first[i], t0);
        long t1 = time.GetTimestamp();
        long four = Send(4), five = Send(5);
        time.Advance(TimeSpan.FromMilliseconds(20));
        // Card 4 is refused: the bucket is empty. The fourth first answer (sent before it) grows the
        // window to twelve, yet card 6 stays out: only news from after the 429 counts.
        Assert.Null(pacer.OnThrottled(four, t1));
        pacer.OnAnswer(first[3], t0);
        Assert.True(Held(6));
        // Card 5 was on its way meanwhile; refused too, none is on its way: one card goes (a probe
        // of the bucket), the next waits for its answer.
        Assert.Null(pacer.OnThrottled(five, t1));
        long t2 = time.GetTimestamp();
        long probe = Send(6);
        Assert.True(Held(7));
        // The probe refused too: the bucket stayed empty, the start window ends and the pace searches.
        time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.NotNull(pacer.OnThrottled(probe, t2));
        Assert.NotNull(pacer.LearnedRate);
    }

    [Fact]
    public void A_lone_429_in_the_start_window_holds_it_only_until_a_request_sent_since_is_answered()
    {
        // A gateway's random 429: the requests sent with or after it come back, and the window goes on.
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null, slowStart: true);
        long t0 = time.GetTimestamp();
        var first = Enumerable.Range(0, 4).Select(n => { Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out long t, out _, out _, n)); return t; }).ToArray();
        time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Null(pacer.OnThrottled(first[0], t0));
        Assert.True(pacer.Reserve(out _, out _, out _, out _, order: 4) > TimeSpan.Zero);
        pacer.OnAnswer(first[1], t0);
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out _, out _, out _, order: 4));
        Assert.Equal(TimeSpan.Zero, pacer.Reserve(out _, out _, out _, out _, order: 5));
        Assert.Null(pacer.LearnedRate);
    }

    [Theory]
    [InlineData(10, 4)]
    [InlineData(10, 64)]
    [InlineData(1000, 64)]
    public void A_burst_into_an_unknown_limit_without_burst_allowance_costs_a_handful_of_429s_not_one_per_worker(double limit, int workers)
    {
        // The issue's case: 64 requests at once into a 10/s bucket that allows no burst would be 63 429s.
        // Each worker holds one reservation at a time (reserving again when the schedule changes), a
        // request is answered 20 ms after it is sent, a 429 at once.
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null, slowStart: true);
        double tokens = 0;
        long at = time.GetTimestamp();
        int throttled = 0, sent = 0;
        var due = new DateTimeOffset?[workers];
        var ticket = new long[workers];
        var schedule = new long[workers];
        var answerAt = new DateTimeOffset?[workers];
        var end = time.GetUtcNow().AddSeconds(3);
        while (time.GetUtcNow() < end)
        {
            var now = time.GetUtcNow();
            for (int w = 0; w < workers; w++)
            {
                if (answerAt[w] is DateTimeOffset a && a <= now) { pacer.OnAnswer(ticket[w]); answerAt[w] = null; }
                if (answerAt[w] != null) continue;
                if (due[w] == null || schedule[w] != pacer.Schedule)
                {
                    var wait = pacer.Reserve(out _, out ticket[w], out schedule[w], out _);
                    due[w] = now + wait;
                }
                if (due[w] > now) continue;
                due[w] = null;
                long ts = time.GetTimestamp();
                tokens = Math.Min(1, tokens + (ts - at) * limit / time.TimestampFrequency);
                at = ts;
                if (tokens >= 1) { tokens--; sent++; answerAt[w] = now.AddMilliseconds(20); }
                else { throttled++; pacer.OnThrottled(ticket[w]); }
            }
            time.Advance(TimeSpan.FromMilliseconds(1));
        }
        log.WriteLine($"limit {limit}/s, {workers} workers: {sent} accepted, {throttled} throttled in 3 s; pace {pacer.CurrentRate}");
        // Finding the limit costs a handful (the search's steps above it, measured 15 at 10/s and 45 at
        // 1,000/s), then at most 5 % (issue 17's target); never one per worker as 63 of 64 would be.
        Assert.True(throttled <= 0.05 * sent + 16, $"{throttled} throttled, {sent} accepted");
        // And the limit is found: the pace stands at it or above (up to the search's last doubling).
        Assert.True(pacer.CurrentRate is null || pacer.CurrentRate >= 0.8 * limit, $"paced at {pacer.CurrentRate}/s");
        Assert.True(sent >= limit, $"{sent} accepted in 3 s");
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
        // Issue 17's target is at most 5 % of the requests throttled beyond the handful it takes to find
        // the limit. This harness (one request at a time, a bucket holding a second's worth, which hides
        // the limit from the probe until it is spent) measures 7 % at 100/s and 2 % at 200/s: a miss at
        // 100/s, recorded in docs/reliability.md. The bound catches a regression from there.
        Assert.True(start.Throttled + steady.Throttled <= 0.08 * (start.Sent + steady.Sent) + 8, $"{start.Throttled} + {steady.Throttled} throttled of {start.Sent + steady.Sent}");
        Assert.True(steady.Passed >= 0.9 * limit * 30, $"{steady.Passed} passed in 30 s");
        Assert.True(steady.Throttled <= 0.08 * steady.Sent, $"{steady.Throttled} of {steady.Sent} throttled");
        Assert.NotNull(pacer.LearnedRate);
    }

    /// <summary>
    /// Two runs on one connection with a pause between them: what the pace measures in the second
    /// must not reach back over the pause. The answers between the last 429 of the first run and a
    /// lone 429 of the second were read as what the bucket refilled over the whole time (the pause
    /// included), and that lone 429 cut the pace to a seventh of the limit (on the emulator at
    /// 200/s: 1,000 cards in 6.3-7.0 s, not 4.2).
    /// </summary>
    [Fact]
    public void A_pause_between_two_runs_is_not_read_as_a_slow_server()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        var server = new Bucket(time, 200);
        Drive(time, pacer, server.TryTake, 10);
        time.Advance(TimeSpan.FromSeconds(6));
        var second = Drive(time, pacer, () => true, 1);
        double before = pacer.CurrentRate!.Value;
        pacer.Reserve(out _, out long ticket);
        var message = pacer.OnThrottled(ticket);
        double after = pacer.CurrentRate!.Value;
        log.WriteLine($"{second.Sent} sent in the second run's first second at {before:0.#}/s; a lone 429: {after:0.#}/s ({message})");
        Assert.True(second.Sent >= 150, $"{second.Sent} sent");
        // The probe grew over the pause; its 429 takes it back to the learned limit, not below.
        Assert.True(after >= 0.9 * 200, $"{before:0.#}/s before the lone 429, {after:0.#}/s after: {message}");
    }

    /// <summary>
    /// After a pause the pace goes on at the limit it learned (not unpaced, not a search anew), and
    /// first sends at once what the bucket saved meanwhile, up to nine tenths of the burst the
    /// connection's first 429 ended: the bucket is full again, so those go without a 429.
    /// </summary>
    [Fact]
    public void After_a_pause_what_the_bucket_saved_goes_at_once_then_the_learned_pace()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        var server = new Bucket(time, 200);
        Drive(time, pacer, server.TryTake, 10);
        double learned = pacer.LearnedRate!.Value;
        time.Advance(TimeSpan.FromSeconds(5));
        int atOnce = 0, refused = 0;
        string? said = null;
        while (true)
        {
            var wait = pacer.Reserve(out var message, out long ticket);
            said ??= message;
            if (wait > TimeSpan.Zero) break;
            atOnce++;
            if (server.TryTake()) pacer.OnAnswer(ticket); else { refused++; pacer.OnThrottled(ticket); }
        }
        log.WriteLine($"learned {learned:0.#}/s; after 5 s: {atOnce} at once, {refused} refused, then {pacer.CurrentRate:0.#}/s; {said}");
        Assert.InRange(atOnce, 100, 200);
        Assert.Equal(0, refused);
        Assert.NotNull(said);
        Assert.InRange(pacer.CurrentRate!.Value, 0.9 * 200, 1.05 * 200);
    }

    /// <summary>
    /// A pace slower than one request a second (a limit of 1/s, or a client whose neighbour on the
    /// account takes most of it) asks for its slots more than a second apart, and that is no pause:
    /// the probe goes on and finds the room when the limit rises or the neighbour leaves. Each request
    /// used to be read as the first after a pause, the probe started over at every one, and a client
    /// paced at 0.8/s stayed there for minutes after its neighbour had gone.
    /// </summary>
    [Fact]
    public void A_pace_slower_than_one_a_second_is_no_pause_and_its_probe_goes_on()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        var server = new Bucket(time, 1);
        Drive(time, pacer, server.TryTake, 20);
        double learned = pacer.CurrentRate!.Value;
        Assert.InRange(learned, 0.5, 1.05);
        // The limit is gone (the neighbour left): every request passes from now on.
        var said = new List<string>();
        var end = time.GetUtcNow().AddSeconds(60);
        while (time.GetUtcNow() < end && pacer.LearnedRate != null)
        {
            var wait = pacer.Reserve(out var message, out long ticket);
            if (message != null) said.Add(message);
            time.Advance(wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1));
            pacer.OnAnswer(ticket);
        }
        log.WriteLine($"learned {learned:0.##}/s; 60 s later: {(pacer.LearnedRate == null ? "lifted" : $"{pacer.CurrentRate:0.##}/s")}; {string.Join(" | ", said.Take(3))}");
        Assert.DoesNotContain(said, m => m.Contains("without requests", StringComparison.Ordinal));
        Assert.True(pacer.LearnedRate == null || pacer.CurrentRate > 2 * learned, $"still paced at {pacer.CurrentRate:0.##}/s");
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
        long ticket = Open(time, pacer, 100); // 200/s
        string? cut = null;
        for (int i = 0; i < 20 && cut == null; i++) cut = pacer.OnThrottled(ticket);
        Assert.NotNull(cut);
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
    public void A_spent_window_is_waited_for_at_a_trickle_without_a_cut_and_the_pace_goes_on_at_its_count()
    {
        // A fixed window of 100 requests a second, its 429s at once, requests offered at 1,000/s.
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        var start = time.GetUtcNow();
        long window = -1; int count = 0;
        bool Server()
        {
            long w = (long)(time.GetUtcNow() - start).TotalSeconds;
            if (w != window) { window = w; count = 0; }
            if (count >= 100) return false;
            count++;
            return true;
        }
        string? held = null;
        DateTimeOffset heldAt = default, releasedAt = default;
        int throttled = 0, sentWhileHeld = 0;
        while (time.GetUtcNow() - start < TimeSpan.FromSeconds(4))
        {
            var wait = pacer.Reserve(out _, out long ticket);
            time.Advance(wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1));
            bool holding = held != null && releasedAt == default;
            if (holding) sentWhileHeld++;
            if (Server())
            {
                pacer.OnAnswer(ticket);
                if (holding) releasedAt = time.GetUtcNow();
            }
            else
            {
                throttled++;
                string? m = pacer.OnThrottled(ticket);
                if (held == null && m != null && m.Contains("window's count is spent", StringComparison.Ordinal))
                {
                    held = m;
                    heldAt = time.GetUtcNow();
                    log.WriteLine($"{(heldAt - start).TotalSeconds:0.000} s: {m}");
                }
            }
        }
        double heldFor = (releasedAt - heldAt).TotalSeconds;
        log.WriteLine($"released after {heldFor:0.000} s, {sentWhileHeld} sent meanwhile; in 4 s {throttled} 429s, pace {pacer.CurrentRate:0.#}/s");
        Assert.NotNull(held);
        Assert.NotEqual(default, releasedAt);
        // At a trickle (10/s at most) until the window turned over, not at the pace.
        Assert.InRange(sentWhileHeld, 1, 10 * heldFor + 2);
        Assert.InRange(heldFor, 0, 1.1);
        // Then on at the window's count, not at what the cuts inside it read.
        Assert.InRange(pacer.CurrentRate ?? 0, 90, 110);
    }

    [Fact]
    public void Random_429s_at_a_fixed_share_leave_the_pace_unlimited_once_a_cut_did_not_lower_their_share()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        var gateway = new Random(5);
        long ticket = 0;
        int undone = 0, told = 0;
        void Heard(string? message) { if (message != null && message.Contains("did not fall", StringComparison.Ordinal)) told++; }
        // 400 requests/s for 20 s, 5 % of them answered 429 whatever the rate.
        for (int i = 0; i < 8000; i++)
        {
            double floor = pacer.NoiseFloor;
            var wait = pacer.Reserve(out var paced, out ticket);
            Heard(paced);
            time.Advance(wait > TimeSpan.FromMilliseconds(2.5) ? wait : TimeSpan.FromMilliseconds(2.5));
            Heard(gateway.NextDouble() < 0.05 ? pacer.OnThrottled(ticket) : pacer.OnAnswer(ticket));
            if (pacer.NoiseFloor > floor) undone++;
        }
        log.WriteLine($"after 20 s of 5 % random 429s: pace {pacer.CurrentRate}, floor {pacer.NoiseFloor:0.###}; {undone} cuts undone, {told} told");
        Assert.Null(pacer.CurrentRate);
        Assert.InRange(pacer.NoiseFloor, 0.02, 0.25);
        // Every undone cut is told for -Verbose, whichever answer ended its watch (most end on an
        // answer other than 429, whose message was dropped before).
        Assert.True(undone >= 1);
        Assert.Equal(undone, told);
    }

    [Fact]
    public void Throttles_of_requests_scheduled_before_a_cut_do_not_cut_again()
    {
        var time = new FakeTimeProvider();
        var pacer = new AdaptiveRateLimiter(time, null);
        long before = Open(time, pacer, 100, 500);
        string? first = null;
        for (int i = 0; i < 20 && first == null; i++) first = pacer.OnThrottled(before);
        Assert.NotNull(first);
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

    /// <summary>
    /// The review of a cut: a share of 429s that fell yet stayed well above the floor is no proof of
    /// throttling (the share a cut is decided on is drawn high), one that all but stopped, fell to a
    /// third, or rose well above is.
    /// </summary>
    [Theory]
    [InlineData(20, 587, 0.064, 0.0, false)]  // a steady 5 % read 6.4 % at the cut and 3.4 % after: noise (kept for throttling before)
    [InlineData(25, 549, 0.079, 0.0, false)]  // 4.6 % after 7.9 %: noise
    [InlineData(31, 653, 0.042, 0.0, false)]  // about the same: noise
    [InlineData(2, 400, 0.08, 0.0, true)]     // 0.5 % after 8 %: the cut cured it
    [InlineData(6, 300, 0.10, 0.0, true)]     // 2 % after 10 %: all but stopped
    [InlineData(10, 200, 0.20, 0.0, true)]    // 5 % after 20 %: down to a quarter
    [InlineData(60, 300, 0.08, 0.0, true)]    // 20 % after 8 %: worse, throttling
    [InlineData(20, 300, 0.30, 0.0, true)]    // a share above the highest floor is never noise
    [InlineData(18, 300, 0.12, 0.05, true)]   // 6 % after 12 %, over a floor of 5 %: down to what the floor explains
    [InlineData(30, 300, 0.18, 0.05, false)]  // 10 % after 18 %, over a floor of 5 %: no proof
    [InlineData(36, 300, 0.15, 0.0, true)]    // 12 % after 15 %: too many for random 429s (a neighbour on the account keeps the share up; undone, the cut starved the neighbour)
    [InlineData(20, 300, 0.14, 0.0, false)]   // 6.7 % after 14 %: a steady 5 % drawn high at the cut, noise
    public void A_cut_is_judged_by_whether_it_changed_the_share_of_429s(int refused, int n, double before, double floor, bool changed)
    {
        Assert.Equal(changed, AdaptiveRateLimiter.Lowered(refused, n, before, floor));
    }
}
