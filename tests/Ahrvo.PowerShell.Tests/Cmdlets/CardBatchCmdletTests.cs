using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.Emulator;
using Ahrvo.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.PowerShell.Tests;

/// <summary>One emulator with 2,000 generated cards for the bulk tests; each test resets it.</summary>
public sealed class BulkEmulatorFixture : IAsyncLifetime
{
    public const int CardCount = 2000;

    public EmulatorProcess Emulator { get; private set; } = null!;

    public IReadOnlyList<EmulatorCard> Cards { get; } = CardGenerator.Generate(CardCount);

    public async Task InitializeAsync() =>
        Emulator = await EmulatorProcess.StartAsync("--generate", CardCount.ToString(CultureInfo.InvariantCulture));

    public async Task DisposeAsync() => await Emulator.DisposeAsync();

    /// <summary>The first <paramref name="count"/> generated ids, Shared cards included unless excluded.</summary>
    public string[] Ids(int count, bool dedicatedOnly = false) =>
        Cards.Take(count).Where(c => !dedicatedOnly || c.Type == EmulatorCard.Dedicated).Select(c => c.Id).ToArray();

    public Dictionary<string, object?> Variables(string[] ids) => new()
    {
        ["emuUri"] = Emulator.BaseUri.AbsoluteUri,
        ["emuKey"] = Emulator.ApiKey,
        ["emuToken"] = Emulator.AccessToken,
        ["ids"] = ids,
    };
}

/// <summary>
/// The shared bulk path (CardBatchCmdlet over BulkBalanceRun) as users drive it: order, streaming,
/// early stop, throttling, progress, correctness under concurrency, and Ctrl+C. Timings here are
/// generous bounds that prove a behaviour; the speed itself is measured by bench/.
/// </summary>
public sealed class BulkTests : IClassFixture<BulkEmulatorFixture>, IAsyncLifetime
{
    private readonly BulkEmulatorFixture _fx;
    private readonly ITestOutputHelper _log;

    public BulkTests(BulkEmulatorFixture fx, ITestOutputHelper log) => (_fx, _log) = (fx, log);

    private EmulatorProcess Emu => _fx.Emulator;

    public Task InitializeAsync() => Emu.ResetAsync(includeConfig: true);

    public Task DisposeAsync() => Task.CompletedTask;

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Fact]
    public async Task Output_follows_input_order_when_later_cards_finish_first()
    {
        var ids = _fx.Ids(500, dedicatedOnly: true);
        // The emulator's latency is fixed, so slow faults on some cards make later ones finish first.
        await Emu.SetConfigAsync(new
        {
            latencyMs = 2,
            faults = new object[]
            {
                new { kind = "slow", delayMs = 400, cardIds = new[] { ids[0], ids[100], ids[250] } },
                new { kind = "slow", delayMs = 150, cardIds = ids.Where((_, i) => i % 17 == 5).ToArray() },
                new { kind = "slow", delayMs = 40, cardIds = ids.Where((_, i) => i % 7 == 3).ToArray() },
            },
        });

        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + """
            $pipelineThread = [Environment]::CurrentManagedThreadId
            $ids | Get-AhrvoCardBalance -ThrottleLimit 16 | ForEach-Object {
                # Every write must come from the pipeline thread, whatever thread answered the card.
                if ([Environment]::CurrentManagedThreadId -ne $pipelineThread) { throw "written from thread $([Environment]::CurrentManagedThreadId)" }
                $_.CardId
            }
            """, _fx.Variables(ids));

        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(ids, r.Output.Select(o => (string)o.BaseObject));

        // Proof that the answers really came out of order: the first card finished well after others.
        var stats = await Emu.GetStatsAsync();
        var completionOrder = stats.Requests.Select(q => q.CardId).ToList();
        _log.WriteLine($"card 0 finished at position {completionOrder.IndexOf(ids[0])}");
        Assert.True(completionOrder.IndexOf(ids[0]) > 16, $"card 0 finished at position {completionOrder.IndexOf(ids[0])}");
        Assert.NotEqual(ids, completionOrder);
    }

    [Fact]
    public async Task First_results_stream_out_long_before_the_last_card_is_sent()
    {
        var ids = _fx.Ids(200, dedicatedOnly: true);
        await Emu.SetConfigAsync(new { latencyMs = 50 });

        var outputTimes = new List<long>();
        using (var runspace = PowerShellHost.CreateRunspace())
        {
            foreach (var (name, value) in _fx.Variables(ids)) runspace.SessionStateProxy.SetVariable(name, value);
            using var ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddScript(PowerShellHost.ConnectLine + "$ids | Get-AhrvoCardBalance -ThrottleLimit 4");
            var output = new PSDataCollection<PSObject>();
            output.DataAdded += (_, _) => { lock (outputTimes) outputTimes.Add(NowMs()); };
            ps.Invoke(null, output);
            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error));
            Assert.Equal(ids.Length, output.Count);
        }

        // 200 cards x 50 ms / 4 = 2.5 s of requests: the first answer must be out long before the last
        // request even starts, i.e. results are written as they come, not collected first.
        var stats = await Emu.GetStatsAsync();
        long lastStarted = stats.Requests.Max(q => q.StartedAt);
        long firstOut = outputTimes.Min();
        _log.WriteLine($"first result {lastStarted - firstOut} ms before the last request started; {outputTimes.Count(t => t < lastStarted)} of {ids.Length} written by then");
        Assert.True(firstOut < lastStarted - 1000, $"first result at {firstOut}, last request started at {lastStarted}");
        // And output keeps flowing: by the time the last request starts, most cards are already written.
        int writtenBeforeLast = outputTimes.Count(t => t < lastStarted);
        Assert.True(writtenBeforeLast > ids.Length / 2, $"{writtenBeforeLast} of {ids.Length} written before the last request started");
    }

    [Theory]
    [InlineData(8, 0)]
    [InlineData(16, 0)]
    [InlineData(16, 200)] // a stop in mid-run, when requests are flowing at full speed
    public async Task Select_First_5_stops_the_rest_promptly(int throttle, int skip)
    {
        var ids = _fx.Ids(1000, dedicatedOnly: true);
        // Even latency is the hard case: every worker finishes at once and would start the next card
        // before the first answers are written.
        await Emu.SetConfigAsync(new { latencyMs = 50 });

        string command = $"$ids | Get-AhrvoCardBalance -ThrottleLimit {throttle} | Select-Object -Skip {skip} -First 5 | ForEach-Object CardId";
        using var runspace = PowerShellHost.CreateRunspace();
        // The same command once first, in the same runspace: a fresh runspace compiles and loads on
        // the pipeline thread while the first answers wait, and then held-back cards go out on their
        // 5 ms limit. That is start-up cost, not what this test is about.
        var warm = PowerShellHost.Run(PowerShellHost.ConnectLine + command, _fx.Variables(ids), runspace);
        Assert.Null(warm.Terminating);
        await Task.Delay(300); // the warm-up's cancelled requests end at the server, then are forgotten
        await Emu.ResetAsync(includeConfig: false);

        var sw = Stopwatch.StartNew();
        var r = PowerShellHost.Run(command, _fx.Variables(ids), runspace);
        sw.Stop();
        long returnedAt = NowMs();

        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(ids.Skip(skip).Take(5), r.Output.Select(o => (string)o.BaseObject));
        // All 1,000 would take 3+ s at throttle 16; stopping takes a few round trips.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2.5), $"took {sw.Elapsed}");

        await Task.Delay(400); // anything still going out would show up by now
        var stats = await Emu.GetStatsAsync();
        long t0 = stats.Requests.Min(q => q.StartedAt);
        var index = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        _log.WriteLine($"throttle {throttle}, skip {skip}: {stats.BalanceRequests} requests, {sw.ElapsedMilliseconds} ms; card@ms: " +
            string.Join(" ", stats.Requests.OrderBy(q => q.StartedAt).Select(q => $"{index[q.CardId!]}@{q.StartedAt - t0}")));
        // Beyond the cards written, at most the run's lead: workers hold a card back while that many
        // before it are answered but not taken (ThrottleLimit + max(2, ThrottleLimit / 4)), and 2 more
        // for a hold-back that ran out on a busy machine. Not another wave: without the hold-back,
        // throttle 16 sent 32 and sometimes 67.
        int lead = throttle + Math.Max(2, throttle / 4);
        Assert.InRange(stats.BalanceRequests, skip + 5, skip + 5 + lead + 2);
        Assert.DoesNotContain(stats.Requests, q => q.StartedAt > returnedAt + 100);
        Assert.Equal(0, stats.CurrentConcurrent);
    }

    [Theory]
    [InlineData(1, 30)]
    [InlineData(4, 120)]
    [InlineData(16, 480)]
    public async Task Throttle_limit_is_never_exceeded(int throttle, int count)
    {
        var ids = _fx.Ids(count);
        await Emu.SetConfigAsync(new { latencyMs = 20 });

        var r = PowerShellHost.Run(PowerShellHost.ConnectLine +
            $"$ids | Get-AhrvoCardBalance -ThrottleLimit {throttle} -ErrorAction SilentlyContinue | Measure-Object | ForEach-Object Count", _fx.Variables(ids));

        Assert.Null(r.Terminating);
        var stats = await Emu.GetStatsAsync(limit: 0);
        _log.WriteLine($"throttle {throttle}: at most {stats.MaxConcurrent} at once");
        Assert.Equal(count, stats.BalanceRequests);
        Assert.InRange(stats.MaxConcurrent, 1, throttle);
        // And the limit is used, not merely respected: requests really overlap.
        Assert.True(stats.MaxConcurrent >= Math.Max(1, throttle / 2), $"max concurrent {stats.MaxConcurrent} for throttle {throttle}");
    }

    [Fact]
    public async Task Throttle_limit_bounds_Test_AhrvoCardBalance_too()
    {
        var ids = _fx.Ids(120, dedicatedOnly: true);
        await Emu.SetConfigAsync(new { latencyMs = 20 });

        var r = PowerShellHost.Run(PowerShellHost.ConnectLine +
            "Test-AhrvoCardBalance -CardId $ids -Amount 1 -ThrottleLimit 3 | Measure-Object | ForEach-Object Count", _fx.Variables(ids));

        Assert.Null(r.Terminating);
        Assert.Equal(ids.Length, (int)r.Output.Single().BaseObject);
        var stats = await Emu.GetStatsAsync(limit: 0);
        Assert.InRange(stats.MaxConcurrent, 2, 3);
    }

    [Fact]
    public async Task Progress_is_silent_when_ProgressPreference_says_so()
    {
        var ids = _fx.Ids(150, dedicatedOnly: true);
        await Emu.SetConfigAsync(new { latencyMs = 20 }); // ~1.5 s at throttle 2: long enough to report

        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + """
            $ProgressPreference = 'SilentlyContinue'
            Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 2 | Measure-Object | ForEach-Object Count
            """, _fx.Variables(ids));

        Assert.Null(r.Terminating);
        Assert.Equal(ids.Length, (int)r.Output.Single().BaseObject);
        Assert.Empty(r.Progress);
    }

    [Fact]
    public async Task Progress_reports_done_of_total_rate_and_failures_on_long_runs()
    {
        var ids = _fx.Ids(150); // with 3 Shared cards, which fail
        await Emu.SetConfigAsync(new { latencyMs = 20 });

        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + """
            $ProgressPreference = 'Continue'
            Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 2 -ErrorAction SilentlyContinue | Measure-Object | ForEach-Object Count
            """, _fx.Variables(ids));

        Assert.Null(r.Terminating);
        Assert.Equal(147, (int)r.Output.Single().BaseObject);
        var running = r.Progress.Where(p => p.RecordType == ProgressRecordType.Processing).ToList();
        Assert.NotEmpty(running);
        // Throttled: a ~1.5 s run gets a handful of updates, not one per card.
        Assert.True(running.Count <= 10, $"{running.Count} progress records");
        foreach (var p in running)
        {
            Assert.Matches(@"^\d+ of 150 cards, [\d.]+ cards/s, \d+ failed$", p.StatusDescription);
            Assert.InRange(p.PercentComplete, 0, 100);
        }
        Assert.Equal(ProgressRecordType.Completed, r.Progress[^1].RecordType);
    }

    [Fact]
    public async Task Progress_without_a_known_total_counts_cards()
    {
        var ids = _fx.Ids(150, dedicatedOnly: true);
        await Emu.SetConfigAsync(new { latencyMs = 20 });

        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + """
            $ProgressPreference = 'Continue'
            $ids | Get-AhrvoCardBalance -ThrottleLimit 2 | Measure-Object | ForEach-Object Count
            """, _fx.Variables(ids));

        Assert.Null(r.Terminating);
        var running = r.Progress.Where(p => p.RecordType == ProgressRecordType.Processing).ToList();
        Assert.NotEmpty(running);
        Assert.All(running, p => Assert.Matches(@"^\d+ cards, [\d.]+ cards/s, 0 failed$", p.StatusDescription));
    }

    [Fact]
    public async Task Every_card_gets_its_own_balance_under_concurrency()
    {
        var ids = _fx.Ids(BulkEmulatorFixture.CardCount);
        await Emu.SetConfigAsync(new { latencyMs = 1 });

        var r = PowerShellHost.Run(PowerShellHost.ConnectLine +
            "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 16", _fx.Variables(ids));

        Assert.Null(r.Terminating);
        var expected = _fx.Cards.Where(c => c.Type == EmulatorCard.Dedicated).ToList();
        var got = r.Output.Select(o => (CardBalance)o.BaseObject).ToList();
        Assert.Equal(expected.Select(c => c.Id), got.Select(b => b.CardId)); // none missing, none twice, in order
        foreach (var (card, balance) in expected.Zip(got))
        {
            Assert.Equal(decimal.Parse(card.AvailableBalance!, CultureInfo.InvariantCulture), balance.AvailableBalance);
            Assert.Equal(card.CardNumber, balance.CardNumber);
        }
        // A Shared card is an error of its own, never a made-up balance.
        var shared = _fx.Cards.Where(c => c.Type == EmulatorCard.Shared).Select(c => c.Id).ToList();
        Assert.Equal(shared, r.Errors.Select(e => (string)e.TargetObject));
        Assert.All(r.Errors, e => Assert.Equal("Ahrvo.InvalidCard", e.FullyQualifiedErrorId.Split(',')[0]));

        var stats = await Emu.GetStatsAsync(limit: 0);
        Assert.Equal(ids.Length, stats.BalanceRequests);
        Assert.All(stats.RequestsPerCard.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Test_AhrvoCardBalance_checks_each_card_against_its_own_amount_under_concurrency()
    {
        var cards = _fx.Cards.Take(600).Where(c => c.Type == EmulatorCard.Dedicated).ToList();
        // Per-record amounts from the pipeline: the exact balance (enough) or one cent more (not enough).
        var rows = cards.Select((c, i) => new PSObject(new
        {
            card_id = c.Id,
            Amount = decimal.Parse(c.AvailableBalance!, CultureInfo.InvariantCulture) + (i % 2 == 0 ? 0m : 0.01m),
        })).ToArray();
        await Emu.SetConfigAsync(new { latencyMs = 1 });

        var vars = _fx.Variables(Array.Empty<string>());
        vars["rows"] = rows;
        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + "$rows | Test-AhrvoCardBalance -Detailed -ThrottleLimit 16", vars);

        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var checks = r.Output.Select(o => o.BaseObject).Cast<BalanceCheck>().ToList();
        Assert.Equal(cards.Select(c => c.Id), checks.Select(c => c.CardId));
        for (int i = 0; i < checks.Count; i++)
        {
            Assert.Equal(decimal.Parse(cards[i].AvailableBalance!, CultureInfo.InvariantCulture), checks[i].AvailableBalance);
            Assert.Equal(i % 2 == 0, checks[i].Sufficient);
        }
    }

    [Fact]
    public async Task Stop_mid_run_returns_within_a_second_and_sends_nothing_more()
    {
        var ids = _fx.Ids(1000, dedicatedOnly: true);
        await Emu.SetConfigAsync(new { latencyMs = 50 }); // ~6 s in all at throttle 8

        TimeSpan stopTook = default;
        long stoppedAt = 0;
        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + "$ids | Get-AhrvoCardBalance -ThrottleLimit 8", _fx.Variables(ids), whileRunning: ps =>
        {
            // Let it get going (connect, first answers), then press Ctrl+C.
            var deadline = Stopwatch.StartNew();
            while (ps.InvocationStateInfo.State == PSInvocationState.Running && deadline.Elapsed < TimeSpan.FromSeconds(1.5)) Thread.Sleep(20);
            Assert.Equal(PSInvocationState.Running, ps.InvocationStateInfo.State);
            var sw = Stopwatch.StartNew();
            ps.Stop();
            stopTook = sw.Elapsed;
            stoppedAt = NowMs();
        });

        Assert.IsAssignableFrom<PipelineStoppedException>(r.Terminating);
        Assert.True(stopTook < TimeSpan.FromSeconds(1), $"Stop took {stopTook}");
        Assert.InRange(r.Output.Count, 1, ids.Length - 100);

        await Task.Delay(400);
        var stats = await Emu.GetStatsAsync();
        Assert.True(stats.BalanceRequests < ids.Length / 2, $"{stats.BalanceRequests} requests");
        // Requests in flight at the stop may still reach the server a moment later; nothing new after that.
        Assert.DoesNotContain(stats.Requests, q => q.StartedAt > stoppedAt + 100);
        Assert.Equal(0, stats.CurrentConcurrent);
    }
}
