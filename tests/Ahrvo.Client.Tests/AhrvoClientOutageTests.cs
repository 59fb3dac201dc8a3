using Ahrvo.Client.Bulk;
using Ahrvo.Client.Resilience;
using Ahrvo.Client.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests;

/// <summary>Outages: cards wait while only probes go out, and give up once the outage outlasts their budget. The whole client against an in-memory API on a fake clock.</summary>
public sealed class AhrvoClientOutageTests(ITestOutputHelper log)
{
    private readonly SteppedClock _clock = new();

    private AhrvoClient Client(ScriptedHandler handler, Action<AhrvoClientOptions>? tune = null) => InMemoryClient.Create(handler, _clock, tune);

    /// <summary>What a failing gateway does with a request: 503, a CDN's 522 (no body) or 530 (HTML), a reset, or no answer at all.</summary>
    private static async Task<HttpResponseMessage> Fault(string kind, CancellationToken ct)
    {
        switch (kind)
        {
            case "522": return new HttpResponseMessage((System.Net.HttpStatusCode)522);
            case "530": return ScriptedHandler.Json(530, "<html>Origin DNS error</html>", "text/html");
            case "reset": throw new HttpRequestException("reset", new IOException("Connection reset by peer"));
            case "hang": await Task.Delay(Timeout.Infinite, ct); throw new InvalidOperationException("unreachable");
            default: return ScriptedHandler.Status(503);
        }
    }

    /// <summary>
    /// Cards card0..card{n-1} through a bulk run of 16 workers as the cmdlets drive it (add while
    /// there is room, else wait and take), on the fake clock; the results in the order taken. The
    /// 50 ms waits are the caller's polls, not a measure: the clock moves only when the code waits.
    /// </summary>
    /// <summary>Every card of a run of <paramref name="n"/> came back once, in input order, with its balance.</summary>
    private static void AssertEveryCardAnsweredInOrder(List<BulkItem> taken, int n)
    {
        Assert.Equal(Enumerable.Range(0, n).Select(i => "card" + i), taken.Select(t => t.CardId));
        Assert.All(taken, t => Assert.True(t.Result!.Success, $"{t.CardId}: {t.Result!.Error?.Message}"));
    }

    private async Task<List<BulkItem>> RunBulkAsync(AhrvoClient client, int n, TimeSpan limit)
    {
        using var run = new BulkBalanceRun(client, 16, verbose: false, debug: false);
        var done = BulkDriver.DriveAsync(run, n);
        await _clock.RunAsync(done, limit);
        return await done;
    }

    [Theory]
    [InlineData(503, "json")]
    [InlineData(522, "empty")] // a CDN that cannot reach the origin: no body
    [InlineData(530, "html")]
    [InlineData(520, "html")]
    [InlineData(507, "json")]
    [InlineData(599, "empty")]
    public async Task A_three_second_outage_is_waited_out_by_every_card_with_only_probes_sent_meanwhile(int status, string body)
    {
        long outageFrom = 0, outageTo = 0;
        int duringOutage = 0;
        var handler = new ScriptedHandler(r =>
        {
            long now = _clock.GetTimestamp();
            if (outageFrom != 0 && now >= outageFrom && now < outageTo)
            {
                Interlocked.Increment(ref duringOutage);
                return body switch
                {
                    "empty" => new HttpResponseMessage((System.Net.HttpStatusCode)status),
                    "html" => ScriptedHandler.Json(status, "<html><body><h1>Error " + status + "</h1>Origin is unreachable</body></html>", "text/html"),
                    _ => ScriptedHandler.Status(status),
                };
            }
            return ScriptedHandler.Balance(r.CardId);
        });
        using var client = Client(handler);
        // A long good run first: the breaker's memory must not dilute the outage.
        var good = await _clock.RunAsync(Task.WhenAll(Enumerable.Range(0, 2000).Select(i => client.GetBalanceAsync("good" + i))));
        Assert.All(good, r => Assert.True(r.Success));
        outageFrom = _clock.GetTimestamp();
        outageTo = outageFrom + 3 * _clock.TimestampFrequency;
        var cards = Enumerable.Range(0, 200).Select(i => "card" + i).ToArray();
        var results = await _clock.RunAsync(Task.WhenAll(cards.Select(id => client.GetBalanceAsync(id))));
        log.WriteLine($"{handler.Total - 2000} requests for 200 cards, {duringOutage} during the outage; last probe failures seen by the cards: {results.Max(r => r.Attempts)} attempts at most");
        Assert.All(results, r => Assert.True(r.Success, r.Error?.Message));
        Assert.Equal(cards, results.Select(r => r.CardId));
        // Up to all 200 first attempts were on their way when the outage began; after them only probes
        // (a status not seen as an outage would cost each card its MaxRetries: 800 requests).
        Assert.InRange(duringOutage, ServiceHealth.FailureStreak, 200 + 15);
        Assert.False(client.Health.IsDown);
    }

    /// <summary>
    /// Issue 17's fault windows: each gateway failure (503, a CDN's 522 and 530, a connection reset,
    /// a hang) for 0.5, 3 and 30 s in the middle of a bulk run: every window shorter than -TimeoutSec
    /// (120 s by default) loses nothing, and the cards come out in order.
    /// </summary>
    [Theory]
    [InlineData("503", 0.5)] [InlineData("503", 3)] [InlineData("503", 30)]
    [InlineData("522", 0.5)] [InlineData("522", 3)] [InlineData("522", 30)]
    [InlineData("530", 0.5)] [InlineData("530", 3)] [InlineData("530", 30)]
    [InlineData("reset", 0.5)] [InlineData("reset", 3)] [InlineData("reset", 30)]
    [InlineData("hang", 0.5)] [InlineData("hang", 3)] [InlineData("hang", 30)]
    public async Task A_gateway_failure_window_shorter_than_the_budget_loses_nothing(string kind, double seconds)
    {
        long windowFrom = long.MaxValue, windowTo = long.MaxValue;
        int answered = 0, inWindow = 0;
        var handler = new ScriptedHandler(async (r, ct) =>
        {
            long now = _clock.GetTimestamp();
            // The window opens once a third of the cards have been answered: a good run before it.
            if (Interlocked.Increment(ref answered) == 100) { windowFrom = now; windowTo = now + (long)(seconds * _clock.TimestampFrequency); }
            if (now >= windowFrom && now < windowTo)
            {
                Interlocked.Increment(ref inWindow);
                return await Fault(kind, ct);
            }
            return ScriptedHandler.Balance(r.CardId);
        });
        using var client = Client(handler);
        var taken = await RunBulkAsync(client, 300, TimeSpan.FromMinutes(10));
        log.WriteLine($"{kind} for {seconds} s: {handler.Total} requests for 300 cards, {inWindow} in the window; the longest card took {taken.Max(t => t.Result!.Elapsed).TotalSeconds:0.#} fake s");
        AssertEveryCardAnsweredInOrder(taken, 300);
    }

    /// <summary>
    /// A service that goes slow is not dead: answers that took 20 ms take 3 s from the 100th request
    /// on. The hang check sees nothing answered for its threshold (2 s) and declares it down; the
    /// probes' timeout then doubles per failed probe until one sees an answer, whose time becomes the
    /// service's pace, so it is not seen to hang again. Every card gets its balance within its budget
    /// (with probes cut at the 2 s threshold for ever, every card after the first hundred ended as
    /// CircuitOpen at the end of its budget).
    /// </summary>
    [Fact]
    public async Task A_service_that_goes_slow_is_waited_for_not_given_up()
    {
        int arrived = 0;
        var handler = new ScriptedHandler(async (r, ct) =>
        {
            bool slow = Interlocked.Increment(ref arrived) > 100;
            await Task.Delay(TimeSpan.FromMilliseconds(slow ? 3000 : 20), _clock, ct);
            return ScriptedHandler.Balance(r.CardId);
        });
        using var client = Client(handler);
        var taken = await RunBulkAsync(client, 300, TimeSpan.FromMinutes(10));
        log.WriteLine($"{handler.Total} requests for 300 cards; the longest card took {taken.Max(t => t.Result!.Elapsed).TotalSeconds:0.#} fake s");
        AssertEveryCardAnsweredInOrder(taken, 300);
    }

    [Theory]
    [InlineData("503")]
    [InlineData("522")]   // a CDN in front of a dead origin, empty body
    [InlineData("hang")]  // nothing answers: the hang check sees it
    // (530 and resets take the same path as 503 and 522; each case costs about 40 s of real time here.)
    public async Task A_dead_service_fails_a_bulk_run_once_the_outage_outlasts_the_budget_sending_little(string kind)
    {
        var handler = new ScriptedHandler(async (r, ct) =>
        {
            return await Fault(kind, ct);
        });
        using var client = Client(handler, o => o.TotalTimeout = TimeSpan.FromSeconds(10));
        long began = _clock.GetTimestamp();
        var taken = await RunBulkAsync(client, 2000, TimeSpan.FromMinutes(5));
        // The run's end, not the longest card's time: cards queued behind the first ones start
        // their budget later (a run that ended at 22 s had no card longer than 10 s).
        var spent = _clock.GetElapsedTime(began);
        log.WriteLine($"{handler.Total} requests for 2000 cards; the run took {spent.TotalSeconds:0.#} fake s");
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => "card" + i), taken.Select(t => t.CardId));
        Assert.All(taken, t => Assert.False(t.Result!.Success));
        Assert.True(handler.Total <= 500, $"{handler.Total} requests");
        Assert.True(taken.Count(t => t.Result!.Error!.Kind == AhrvoErrorKind.CircuitOpen) >= 1900);
        // Issue 17's target: within 15 s of a -TimeoutSec 10 (the first requests of a hang need the hang threshold to be seen).
        Assert.True(spent <= TimeSpan.FromSeconds(kind == "hang" ? 15 : 11), spent.ToString());
    }
}
