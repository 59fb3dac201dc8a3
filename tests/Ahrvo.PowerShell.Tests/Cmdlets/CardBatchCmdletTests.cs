using System.Globalization;
using System.Management.Automation;
using Ahrvo.Emulator;
using Ahrvo.TestSupport;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>
/// The shared bulk path (CardBatchCmdlet over BulkBalanceRun) as users drive it: order, streaming,
/// early stop, throttling, progress, correctness under concurrency, and Ctrl+C. Where a test needs a
/// card to stay unanswered, the emulator holds it (a "slow" fault of ten minutes) and the test waits
/// for the emulator's counters to show the state it needs: outcomes and counts, never durations.
/// How fast all this goes is measured by bench/Invoke-Benchmarks.ps1.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class CardBatchCmdletTests(CardsEmulatorFixture fx) : IAsyncLifetime
{
    /// <summary>Longer than any test may take: a request held this long ends only when the client gives up on it.</summary>
    private const int HeldMs = 600_000;

    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private EmulatorProcess Emu => fx.Emulator;

    /// <summary>No retries, and timeouts longer than any test: a held request ends only when the test stops the run.</summary>
    private const string Patient = "-MaxRetries 0 -AttemptTimeoutSec 3600 -TimeoutSec 3600";

    private static string Connect(string parameters = Patient) => EmulatorFixtureBase.Connect(parameters);

    /// <summary>Makes the emulator hold these cards' requests until the client gives up on them.</summary>
    private Task HoldAsync(IEnumerable<string> ids) =>
        Emu.SetConfigAsync(new { faults = new[] { new { kind = "slow", delayMs = HeldMs, cardIds = ids.ToArray() } } });

    private static long Count(EmulatorStats s, string status) => s.StatusCounts.GetValueOrDefault(status);

    [Fact]
    public async Task Output_follows_input_order_when_later_cards_finish_first()
    {
        var ids = CardsEmulatorFixture.Ids(200, dedicatedOnly: true);
        // Through a proxy that holds the first card's request until every later card is answered.
        using var proxy = new TestProxy();
        proxy.Hold(line => line.Contains("card_id=" + ids[0] + " ", StringComparison.Ordinal));
        using var progress = ProgressTiming.Always(); // a progress record each time the pipeline thread takes results
        using var run = PowerShellHost.Start(Connect(Patient + " -Proxy $proxyUri") + """
            $ProgressPreference = 'Continue'
            $pipelineThread = [Environment]::CurrentManagedThreadId
            $ids | Get-AhrvoCardBalance -ThrottleLimit 16 | ForEach-Object {
                # Every write must come from the pipeline thread, whatever thread answered the card.
                if ([Environment]::CurrentManagedThreadId -ne $pipelineThread) { throw "written from thread $([Environment]::CurrentManagedThreadId)" }
                $_.CardId
            }
            """, fx.Variables(("ids", ids), ("proxyUri", proxy.Uri)));
        await Emu.WaitForStatsAsync(s => Count(s, "200") == ids.Length - 1, "every card but the first answered");
        Assert.Equal(1, proxy.HeldSoFar);
        // Once the pipeline thread has taken what it could since, nothing may have been written: the first card is not in.
        int pumps = run.ProgressCount;
        run.WaitUntil(() => run.ProgressCount > pumps, "the pipeline thread taking results after every later card was answered");
        Assert.Empty(run.OutputSoFar);

        proxy.Release();
        var r = run.Finish();

        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(ids, r.Output.Select(o => (string)o.BaseObject));
        var answered = (await Emu.GetStatsAsync()).Requests.Select(q => q.CardId).ToList();
        Assert.Equal(ids.Length, answered.Count);
        Assert.Equal(ids[0], answered[^1]); // it really was answered last
    }

    [Fact]
    public async Task Results_are_written_as_they_come_not_collected_first()
    {
        var ids = CardsEmulatorFixture.Ids(200, dedicatedOnly: true);
        await HoldAsync(new[] { ids[^1] });
        using var run = PowerShellHost.Start(Connect() + "$ids | Get-AhrvoCardBalance -ThrottleLimit 4 | ForEach-Object CardId", fx.Variables(("ids", ids)));

        // Everything before the held last card is written while that card is still unanswered.
        run.WaitForOutput(ids.Length - 1);
        var stats = await Emu.GetStatsAsync(limit: 0);
        Assert.Equal(ids.Length - 1, Count(stats, "200"));
        Assert.Equal(1, stats.CurrentConcurrent);

        run.Stop();
        var r = run.Finish();
        Assert.IsAssignableFrom<PipelineStoppedException>(r.Terminating);
        Assert.Equal(ids[..^1], r.Output.Select(o => (string)o.BaseObject));
        await fx.SettleAfterStopAsync();
    }

    [Theory]
    [InlineData(8, 0)]
    [InlineData(16, 0)]
    [InlineData(16, 200)] // a stop in mid-run, when requests are flowing at full speed
    public async Task Select_First_5_stops_the_rest_and_cancels_what_is_in_flight(int throttle, int skip)
    {
        var ids = CardsEmulatorFixture.Ids(1000, dedicatedOnly: true);
        // Every card after the five wanted is held: without the stop the run could not end, and at
        // most one held request per worker can have gone out.
        await HoldAsync(ids.Skip(skip + 5));

        var r = PowerShellHost.Run(Connect() + $"$ids | Get-AhrvoCardBalance -ThrottleLimit {throttle} | Select-Object -Skip {skip} -First 5 | ForEach-Object CardId",
            fx.Variables(("ids", ids)));

        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(ids.Skip(skip).Take(5), r.Output.Select(o => (string)o.BaseObject));
        var stats = await fx.SettleAfterStopAsync();
        Assert.Equal(skip + 5, Count(stats, "200"));
        Assert.InRange(stats.BalanceRequests, skip + 5, skip + 5 + throttle);
        // The held requests were abandoned by the client, not answered ("0": the client went away).
        Assert.Equal(stats.BalanceRequests - skip - 5, Count(stats, "0"));
        Assert.All(stats.RequestsPerCard.Values, n => Assert.Equal(1, n));
    }

    [Theory]
    [InlineData("Get", 1, 30)]
    [InlineData("Get", 4, 120)]
    [InlineData("Get", 16, 480)]
    [InlineData("Test", 3, 120)]
    public async Task ThrottleLimit_requests_are_in_flight_at_once_and_never_more(string verb, int throttle, int count)
    {
        var ids = CardsEmulatorFixture.Ids(count, dedicatedOnly: true);
        // The last ThrottleLimit + 1 cards are held: once every worker waits on one, one card is left
        // that may not be sent. One worker too many would send it, and the wait below would not end.
        int held = throttle + 1;
        await HoldAsync(ids.TakeLast(held));
        string command = verb == "Get"
            ? $"$ids | Get-AhrvoCardBalance -ThrottleLimit {throttle} | ForEach-Object CardId"
            : $"Test-AhrvoCardBalance -CardId $ids -Amount 1 -ThrottleLimit {throttle}";
        using var run = PowerShellHost.Start(Connect() + command, fx.Variables(("ids", ids)));

        var full = await Emu.WaitForStatsAsync(s => s.BalanceRequests == ids.Length - 1 && s.CurrentConcurrent == throttle,
            $"all cards but one sent and {throttle} held at once");
        run.WaitForOutput(ids.Length - held);
        run.Stop();
        var r = run.Finish();

        Assert.IsAssignableFrom<PipelineStoppedException>(r.Terminating);
        Assert.Equal(ids.Length - held, r.Output.Count);
        if (verb == "Get") Assert.Equal(ids.SkipLast(held), r.Output.Select(o => (string)o.BaseObject));
        var stats = await fx.SettleAfterStopAsync();
        Assert.Equal(throttle, stats.MaxConcurrent); // reached, and never exceeded
        Assert.Equal(full.BalanceRequests, stats.BalanceRequests); // the last card was never sent
        Assert.All(stats.RequestsPerCard.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public void Progress_is_silent_when_ProgressPreference_says_so()
    {
        var ids = CardsEmulatorFixture.Ids(150, dedicatedOnly: true);
        using var progress = ProgressTiming.Always(); // would write a record at every chance

        var r = PowerShellHost.Run(Connect() + """
            $ProgressPreference = 'SilentlyContinue'
            Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 2 | Measure-Object | ForEach-Object Count
            """, fx.Variables(("ids", ids)));

        Assert.Null(r.Terminating);
        Assert.Equal(ids.Length, (int)r.Output.Single().BaseObject);
        Assert.Empty(r.Progress);
    }

    [Fact]
    public void Progress_reports_done_of_total_rate_and_failures()
    {
        var ids = CardsEmulatorFixture.Ids(150); // with 3 Shared cards, which fail
        using var progress = ProgressTiming.Always();

        var r = PowerShellHost.Run(Connect() + """
            $ProgressPreference = 'Continue'
            Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 2 -ErrorAction SilentlyContinue | Measure-Object | ForEach-Object Count
            """, fx.Variables(("ids", ids)));

        Assert.Null(r.Terminating);
        Assert.Equal(147, (int)r.Output.Single().BaseObject);
        var running = r.Progress.Where(p => p.RecordType == ProgressRecordType.Processing).ToList();
        Assert.True(running.Count > 1, $"{running.Count} progress records");
        foreach (var p in running)
        {
            Assert.Matches(@"^\d+ of 150 cards, [\d.]+ cards/s, [0-3] failed$", p.StatusDescription);
            Assert.InRange(p.PercentComplete, 0, 100);
        }
        Assert.Equal(ProgressRecordType.Completed, r.Progress[^1].RecordType);
    }

    [Fact]
    public void Progress_is_written_at_most_once_per_interval_not_once_per_card()
    {
        var ids = CardsEmulatorFixture.Ids(150, dedicatedOnly: true);
        using var progress = ProgressTiming.OnceAtOnce(); // the interval outlasts the run

        var r = PowerShellHost.Run(Connect() + """
            $ProgressPreference = 'Continue'
            Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 2 | Measure-Object | ForEach-Object Count
            """, fx.Variables(("ids", ids)));

        Assert.Null(r.Terminating);
        Assert.Equal(ids.Length, (int)r.Output.Single().BaseObject);
        Assert.Single(r.Progress, p => p.RecordType == ProgressRecordType.Processing);
        Assert.Equal(ProgressRecordType.Completed, r.Progress[^1].RecordType);
    }

    [Fact]
    public void Progress_without_a_known_total_counts_cards()
    {
        var ids = CardsEmulatorFixture.Ids(150, dedicatedOnly: true);
        using var progress = ProgressTiming.Always();

        var r = PowerShellHost.Run(Connect() + """
            $ProgressPreference = 'Continue'
            $ids | Get-AhrvoCardBalance -ThrottleLimit 2 | Measure-Object | ForEach-Object Count
            """, fx.Variables(("ids", ids)));

        Assert.Null(r.Terminating);
        var running = r.Progress.Where(p => p.RecordType == ProgressRecordType.Processing).ToList();
        Assert.NotEmpty(running);
        Assert.All(running, p => Assert.Matches(@"^\d+ cards, [\d.]+ cards/s, 0 failed$", p.StatusDescription));
    }

    [Fact]
    public async Task Every_card_gets_its_own_balance_under_concurrency()
    {
        var ids = CardsEmulatorFixture.Ids(CardsEmulatorFixture.GeneratedCards);
        await Emu.SetConfigAsync(new { latencyMs = 1 });

        var r = PowerShellHost.Run(Connect() + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 16", fx.Variables(("ids", ids)));

        Assert.Null(r.Terminating);
        var expected = CardsEmulatorFixture.Cards.Where(c => c.Type == EmulatorCard.Dedicated).ToList();
        var got = r.Output.Select(o => (CardBalance)o.BaseObject).ToList();
        Assert.Equal(expected.Select(c => c.Id), got.Select(b => b.CardId)); // none missing, none twice, in order
        foreach (var (card, balance) in expected.Zip(got))
        {
            Assert.Equal(decimal.Parse(card.AvailableBalance!, CultureInfo.InvariantCulture), balance.AvailableBalance);
            Assert.Equal(card.CardNumber, balance.CardNumber);
        }
        // A Shared card is an error of its own, never a made-up balance.
        var shared = CardsEmulatorFixture.Cards.Where(c => c.Type == EmulatorCard.Shared).Select(c => c.Id).ToList();
        Assert.Equal(shared, r.Errors.Select(e => (string)e.TargetObject));
        Assert.All(r.Errors, e => Assert.Equal("Ahrvo.InvalidCard", e.FullyQualifiedErrorId.Split(',')[0]));

        var stats = await Emu.GetStatsAsync(limit: 0);
        Assert.Equal(ids.Length, stats.BalanceRequests);
        Assert.All(stats.RequestsPerCard.Values, n => Assert.Equal(1, n));
    }

    /// <summary>
    /// Ctrl+C while the run waits in each of the ways it can: for answers in flight, for a
    /// Retry-After, for the client's own pace. The run is brought to the wait by a handshake on the
    /// emulator's counters, and every wait would outlast the liveness limit, so Stop returning at all
    /// shows it cut the wait short. Then the connection is closed (its HTTP client goes once the
    /// stopped command lets go of it) and the emulator has ended every request: the counts are final.
    /// </summary>
    [Theory]
    [InlineData("in-flight")]
    [InlineData("retry-after")]
    [InlineData("rate-limit")]
    public async Task Ctrl_C_stops_the_run_wherever_it_waits_and_nothing_is_sent_afterwards(string waitingOn)
    {
        var ids = CardsEmulatorFixture.Ids(1000, dedicatedOnly: true);
        string parameters = Patient;
        Func<EmulatorStats, bool> waiting;
        switch (waitingOn)
        {
            case "in-flight":
                // 100 cards answered and written, then every worker waits on a held request.
                await HoldAsync(ids.Skip(100));
                waiting = s => s.BalanceRequests == 108 && s.CurrentConcurrent == 8;
                break;
            case "retry-after":
                // Four cards, each told to come back in ten minutes (too few failures for the circuit breaker).
                ids = ids[..4];
                await Emu.SetConfigAsync(new { faults = new[] { new { kind = "503", retryAfter = "600" } } });
                parameters = "-MaxRetries 3 -MaxRetryDelaySec 3600 -TimeoutSec 3600";
                waiting = s => Count(s, "503") == 4;
                break;
            default:
                // Two a second: the cards behind the first few wait for their turn, for minutes in all.
                parameters = Patient + " -MaxRequestsPerSecond 2";
                waiting = s => s.BalanceRequests >= 3;
                break;
        }
        using var run = PowerShellHost.Start(Connect(parameters) + "$ids | Get-AhrvoCardBalance -ThrottleLimit 8 -Verbose | ForEach-Object CardId",
            fx.Variables(("ids", ids)));
        var atStop = await Emu.WaitForStatsAsync(waiting, $"the run waiting ({waitingOn})");
        if (waitingOn == "in-flight") run.WaitForOutput(100);
        if (waitingOn == "retry-after") run.WaitUntil(() => run.Output.Count == 0 && VerboseCount(run, "retrying in 600 s") == 4, "every card parked for its Retry-After");

        run.Stop();
        var r = run.Finish();
        var stats = await fx.SettleAfterStopAsync();

        Assert.IsAssignableFrom<PipelineStoppedException>(r.Terminating);
        Assert.All(stats.RequestsPerCard.Values, n => Assert.Equal(1, n)); // no card sent twice, none retried
        switch (waitingOn)
        {
            case "in-flight":
                Assert.Equal(ids[..100], r.Output.Select(o => (string)o.BaseObject));
                Assert.Equal(atStop.BalanceRequests, stats.BalanceRequests);
                Assert.Equal(8, Count(stats, "0")); // the held requests were abandoned, not answered
                break;
            case "retry-after":
                Assert.Empty(r.Output);
                Assert.Equal(4, stats.BalanceRequests);
                break;
            default:
                Assert.True(stats.BalanceRequests < ids.Length, $"{stats.BalanceRequests} requests");
                Assert.Equal(stats.BalanceRequests, Count(stats, "200") + Count(stats, "0"));
                break;
        }
    }

    private static int VerboseCount(HostedRun run, string text) => run.Verbose.Count(v => v.Contains(text, StringComparison.Ordinal));
}
