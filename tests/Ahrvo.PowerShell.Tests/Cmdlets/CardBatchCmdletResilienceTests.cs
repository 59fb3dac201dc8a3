using System.Diagnostics;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using Ahrvo.Emulator;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.PowerShell.Tests;

/// <summary>
/// Faults, throttling and cancellation against the emulator, through the cmdlets as a user runs them.
/// Backoff is shortened with -RetryBaseDelayMs so the suite stays fast; the behaviour is the same.
/// </summary>
public sealed class ResilienceTests(CardsEmulatorFixture fx, ITestOutputHelper log) : IClassFixture<CardsEmulatorFixture>
{
    private static string Connect(string parameters = "") => CardsEmulatorFixture.Connect(parameters);

    private static List<CardBalance> Balances(ScriptResult r) => r.Output.Select(o => (CardBalance)o.BaseObject).ToList();

    private static string ErrorId(ErrorRecord e) => e.FullyQualifiedErrorId.Split(',')[0];

    /// <summary>
    /// Runs <paramref name="command"/> after <paramref name="setup"/> and times the command alone,
    /// inside the runspace: creating the runspace (slow on a loaded machine) is not counted.
    /// </summary>
    private static (ScriptResult result, TimeSpan elapsed) Timed(string setup, string command, Dictionary<string, object?> vars)
    {
        var r = PowerShellHost.Run(setup + "$__sw = [Diagnostics.Stopwatch]::StartNew()\n" + command + "\n$__sw.Elapsed", vars);
        var last = r.Output.LastOrDefault();
        if (last?.BaseObject is not TimeSpan elapsed) throw new InvalidOperationException("The timed script did not finish: " + r.AllText());
        var output = new System.Collections.ObjectModel.Collection<PSObject>(r.Output.Take(r.Output.Count - 1).ToList());
        return (new ScriptResult
        {
            Output = output, Errors = r.Errors, Verbose = r.Verbose, Debug = r.Debug, Warning = r.Warning,
            Progress = r.Progress, Information = r.Information, Terminating = r.Terminating,
        }, elapsed);
    }

    [Fact]
    public async Task Twenty_percent_transient_failures_lose_no_card_and_cost_at_most_1_3_requests_per_card()
    {
        var emu = await fx.FreshAsync();
        const int count = 2000;
        // 20% of the cards (every 5th) fail their first attempt, spread over every transient kind.
        string[] kinds = ["500", "502", "503", "504", "408", "429", "reset"];
        var faulty = Enumerable.Range(0, count).Where(i => i % 5 == 2).Select(CardGenerator.IdFor).ToArray();
        var rules = kinds.Select((k, n) => new
        {
            kind = k,
            firstAttempts = 1,
            cardIds = faulty.Where((_, j) => j % kinds.Length == n).ToArray(),
        }).ToArray();
        await emu.SetConfigAsync(new { faults = rules });

        var ids = CardsEmulatorFixture.Ids(count);
        var (r, elapsed) = Timed(Connect("-MaxRetries 3 -RetryBaseDelayMs 20"), "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 16", fx.Variables(("ids", ids)));
        Assert.Null(r.Terminating);

        var expected = CardsEmulatorFixture.Cards.Take(count).Where(c => !c.IsShared).ToList();
        var got = Balances(r);
        // Every Dedicated card once, in input order, with its exact balance.
        Assert.Equal(expected.Select(c => c.Id), got.Select(b => b.CardId));
        Assert.Equal(expected.Select(c => decimal.Parse(c.AvailableBalance!, System.Globalization.CultureInfo.InvariantCulture)), got.Select(b => b.AvailableBalance));
        // The Shared cards (every 50th) are the only errors: the API's 400, not a transient failure.
        var shared = CardsEmulatorFixture.Cards.Take(count).Where(c => c.IsShared).Select(c => c.Id).ToList();
        Assert.Equal(shared, r.Errors.Select(e => (string)e.TargetObject));
        Assert.All(r.Errors, e => Assert.Equal("Ahrvo.InvalidCard", ErrorId(e)));

        var stats = await emu.GetStatsAsync(limit: 0);
        double perCard = stats.BalanceRequests / (double)count;
        log.WriteLine($"{count} cards, {faulty.Length} faulted first attempts: {stats.BalanceRequests} requests ({perCard:0.000}/card) in {elapsed.TotalSeconds:0.00} s");
        Assert.True(perCard <= 1.3, $"{perCard:0.000} requests per card");
        Assert.All(faulty, id => Assert.Equal(2, stats.RequestsPerCard[id]));
    }

    [Fact]
    public async Task A_card_that_always_fails_gives_one_error_after_the_retry_budget()
    {
        var emu = await fx.FreshAsync();
        var ids = CardsEmulatorFixture.Ids(20);
        string bad = ids[5];
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "503", cardIds = new[] { bad } } } });

        var (r, elapsed) = Timed(Connect("-MaxRetries 2 -RetryBaseDelayMs 50 -TimeoutSec 10"), "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));

        var error = Assert.Single(r.Errors);
        Assert.Equal(bad, error.TargetObject);
        Assert.Equal("Ahrvo.ServiceUnavailable", ErrorId(error));
        Assert.Contains("3 attempt", error.Exception.Message);
        Assert.Equal(19, r.Output.Count);
        Assert.Equal(3, (await emu.GetStatsAsync(limit: 0)).RequestsPerCard[bad]);
        Assert.True(elapsed < TimeSpan.FromSeconds(10), elapsed.ToString());
    }

    [Fact]
    public async Task A_card_that_always_hangs_fails_once_within_the_total_timeout()
    {
        var emu = await fx.FreshAsync();
        var ids = CardsEmulatorFixture.Ids(10);
        string bad = ids[3];
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "slow", delayMs = 30000, cardIds = new[] { bad } } } });

        var (r, elapsed) = Timed(Connect("-MaxRetries 5 -RetryBaseDelayMs 50 -AttemptTimeoutSec 1 -TimeoutSec 3"), "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));

        var error = Assert.Single(r.Errors);
        Assert.Equal(bad, error.TargetObject);
        Assert.Equal("Ahrvo.Timeout", ErrorId(error));
        Assert.Equal(9, r.Output.Count);
        log.WriteLine($"hanging card: error after {elapsed.TotalSeconds:0.00} s: {error.Exception.Message}");
        Assert.True(elapsed < TimeSpan.FromSeconds(4.5), elapsed.ToString());
        Assert.True((await emu.GetStatsAsync(limit: 0)).RequestsPerCard[bad] <= 3);
    }

    [Fact]
    public async Task A_429_makes_only_its_card_wait_while_the_others_keep_flowing()
    {
        var emu = await fx.FreshAsync();
        var ids = CardsEmulatorFixture.Ids(300);
        string victim = ids[40];
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "429", retryAfter = "1", firstAttempts = 1, cardIds = new[] { victim } } } });

        var r = PowerShellHost.Run(Connect("-MaxRetries 0 -RetryBaseDelayMs 10 -AttemptTimeoutSec 2") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 8 -Verbose", fx.Variables(("ids", ids)));
        Assert.Null(r.Terminating);
        Assert.All(r.Errors, e => Assert.Equal("Ahrvo.InvalidCard", ErrorId(e))); // the 6 Shared cards
        Assert.Equal(294, r.Output.Count);
        Assert.Equal(ids.Where(id => !CardsEmulatorFixture.IsShared(id)), Balances(r).Select(b => b.CardId)); // in order, each once
        Assert.Contains(Balances(r), b => b.CardId == victim); // a 429 is not a failure: -MaxRetries 0 does not lose it

        var stats = await emu.GetStatsAsync();
        var told = Assert.Single(stats.Requests, q => q.Status == 429);
        var retry = stats.Requests.Single(q => q.CardId == victim && q.Status == 200);
        int meanwhile = stats.Requests.Count(q => q.CardId != victim && q.StartedAt > told.EndedAt && q.StartedAt < retry.StartedAt);
        log.WriteLine($"the victim was retried {retry.StartedAt - told.EndedAt} ms after its 429; {meanwhile} other requests started meanwhile");
        Assert.True(retry.StartedAt - told.EndedAt >= 950, "the card did not wait its Retry-After"); // whole ms of the server's clock
        Assert.True(meanwhile > 0, "the other cards stopped while one card waited");
        Assert.Contains(r.Verbose, v => v.Contains(victim) && v.Contains("Retry-After"));
    }

    [Theory]
    [InlineData("500")]
    [InlineData("503")]
    [InlineData("reset")]
    [InlineData("hang")]
    [InlineData("refused")]
    public async Task A_dead_service_ends_a_500_card_run_fast_with_errors_and_no_balances(string mode)
    {
        var emu = await fx.FreshAsync();
        var ids = CardsEmulatorFixture.Ids(500);
        var vars = fx.Variables(("ids", ids));
        string parameters = "";
        switch (mode)
        {
            case "hang":
                await emu.SetConfigAsync(new { faults = new[] { new { kind = "slow", delayMs = 60000 } } });
                parameters = "-AttemptTimeoutSec 1";
                break;
            case "refused":
                // A port that was just free: nothing listens there.
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                vars["emuUri"] = new Uri($"http://127.0.0.1:{((IPEndPoint)l.LocalEndpoint).Port}/");
                l.Stop();
                break;
            default:
                await emu.SetConfigAsync(new { failAll = mode });
                break;
        }

        // Default retry settings but the budget: an outage is waited out for -TimeoutSec, then every
        // remaining card fails at once.
        var (r, elapsed) = Timed(Connect(parameters + " -TimeoutSec 4"), "Get-AhrvoCardBalance -CardId $ids", vars);

        var stats = await emu.GetStatsAsync(limit: 0);
        var kinds = r.Errors.GroupBy(ErrorId).ToDictionary(g => g.Key, g => g.Count());
        log.WriteLine($"{mode}: {elapsed.TotalSeconds:0.00} s, {stats.BalanceRequests} requests, errors: {string.Join(", ", kinds.Select(k => k.Key + "=" + k.Value))}");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Output);
        Assert.Equal(ids, r.Errors.Select(e => (string)e.TargetObject));
        Assert.True(kinds.ContainsKey("Ahrvo.CircuitOpen"), "the circuit breaker never opened");
        Assert.True(elapsed < TimeSpan.FromSeconds(30), elapsed.ToString());
        if (mode != "refused") Assert.True(stats.BalanceRequests <= ids.Length / 4, $"{stats.BalanceRequests} requests for {ids.Length} cards");
        var open = r.Errors.First(e => ErrorId(e) == "Ahrvo.CircuitOpen");
        Assert.Contains("circuit", open.Exception.Message);
    }

    [Theory]
    [InlineData("in-flight")]
    [InlineData("retry-after")]
    [InlineData("rate-limit")]
    public async Task Ctrl_C_returns_within_a_second_and_sends_nothing_afterwards(string waitingOn)
    {
        var emu = await fx.FreshAsync();
        var ids = CardsEmulatorFixture.Ids(300);
        string parameters = "";
        switch (waitingOn)
        {
            case "in-flight":
                await emu.SetConfigAsync(new { latencyMs = 5000 });
                break;
            case "retry-after":
                // Every worker ends up waiting out a 20 s Retry-After.
                await emu.SetConfigAsync(new { faults = new[] { new { kind = "503", retryAfter = "20" } } });
                parameters = "-MaxRetryDelaySec 30";
                break;
            case "rate-limit":
                parameters = "-MaxRequestsPerSecond 2";
                break;
        }

        long stopCalled = 0, stopReturned = 0;
        TimeSpan stopTook = default;
        var r = PowerShellHost.Run(Connect(parameters) + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 8", fx.Variables(("ids", ids)), whileRunning: ps =>
        {
            var deadline = Stopwatch.StartNew();
            while (emu.GetStatsAsync(limit: 0).GetAwaiter().GetResult().BalanceRequests < 3 && deadline.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(50);
            Thread.Sleep(700);
            stopCalled = CardsEmulatorFixture.NowMs();
            var sw = Stopwatch.StartNew();
            ps.Stop();
            stopTook = sw.Elapsed;
            stopReturned = CardsEmulatorFixture.NowMs();
        });
        Thread.Sleep(1500); // anything sent after Stop would have arrived by now

        var stats = await emu.GetStatsAsync();
        log.WriteLine($"{waitingOn}: Stop() took {stopTook.TotalMilliseconds:0} ms; {stats.BalanceRequests} requests in all, {stats.CurrentConcurrent} still open");
        Assert.IsType<PipelineStoppedException>(r.Terminating);
        Assert.True(stopTook < TimeSpan.FromSeconds(1), $"Stop took {stopTook.TotalMilliseconds:0} ms");
        Assert.DoesNotContain(stats.Requests, q => q.StartedAt > stopReturned);
        // Requests in flight were abandoned, not left to run: the emulator saw the client go.
        Assert.Equal(0, stats.CurrentConcurrent);
        Assert.All(stats.Requests.Where(q => q.Status == 499), q => Assert.True(q.EndedAt <= stopReturned + 1000));
        Assert.True(stats.BalanceRequests < ids.Length);
    }

    [Fact]
    public async Task The_client_rate_limit_spreads_requests_over_time()
    {
        var emu = await fx.FreshAsync();
        var ids = CardsEmulatorFixture.Ids(40);
        var (r, elapsed) = Timed(Connect("-MaxRequestsPerSecond 20"), "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 16", fx.Variables(("ids", ids)));
        Assert.Empty(r.Errors);
        Assert.Equal(40, r.Output.Count);
        var starts = (await emu.GetStatsAsync()).Requests.Select(q => q.StartedAt).Order().ToArray();
        int busiest = starts.Max(t => starts.Count(u => u >= t && u < t + 1000));
        log.WriteLine($"40 cards at 20/s: {elapsed.TotalSeconds:0.00} s, busiest second {busiest} requests");
        // 20 a second and the one token the bucket starts with: 21, in every run here. One more is
        // allowed for a stall: a request held up after its token (a busy machine, a starved thread pool) reaches
        // the server next to the one after it. The total time below shows the rate itself.
        Assert.True(busiest <= 22, $"{busiest} requests in one second");
        Assert.True(elapsed >= TimeSpan.FromSeconds(1.8), elapsed.ToString());
    }

    [Fact]
    public async Task Verbose_explains_each_retry_which_card_why_and_how_long()
    {
        var emu = await fx.FreshAsync();
        var ids = CardsEmulatorFixture.Ids(3);
        await emu.SetConfigAsync(new { faults = new object[]
        {
            new { kind = "502", firstAttempts = 1, cardIds = new[] { ids[0] } },
            new { kind = "reset", firstAttempts = 1, cardIds = new[] { ids[1] } },
            new { kind = "503", retryAfter = "1", firstAttempts = 1, cardIds = new[] { ids[2] } },
        } });
        var r = PowerShellHost.Run(Connect("-RetryBaseDelayMs 10") + "Get-AhrvoCardBalance -CardId $ids -Verbose", fx.Variables(("ids", ids)));
        Assert.Empty(r.Errors);
        Assert.Equal(3, r.Output.Count);
        foreach (var v in r.Verbose) log.WriteLine(v);
        Assert.Contains(r.Verbose, v => v.Contains(ids[0]) && v.Contains("HTTP 502") && v.Contains("retrying in"));
        Assert.Contains(r.Verbose, v => v.Contains(ids[1]) && v.Contains("network") && v.Contains("retrying in"));
        Assert.Contains(r.Verbose, v => v.Contains(ids[2]) && v.Contains("HTTP 503") && v.Contains("Retry-After") && v.Contains("retrying in 1 s"));
    }

    [Fact]
    public void Settings_are_shown_by_Get_AhrvoConnection_with_good_defaults()
    {
        var r = PowerShellHost.Run(Connect() + "Get-AhrvoConnection\n"
            + Connect("-MaxRetries 5 -TimeoutSec 60 -AttemptTimeoutSec 10 -MaxRetryDelaySec 7 -RetryBaseDelayMs 250 -MaxRequestsPerSecond 12.5 -Proxy http://127.0.0.1:3128/") + "Get-AhrvoConnection",
            fx.Variables());
        Assert.Empty(r.Errors);
        var d = (AhrvoConnection)r.Output[0].BaseObject;
        Assert.Equal(3, d.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(30), d.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(120), d.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(30), d.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(500), d.RetryBaseDelay);
        Assert.Null(d.MaxRequestsPerSecond);
        Assert.Null(d.Proxy);
        var c = (AhrvoConnection)r.Output[1].BaseObject;
        Assert.Equal(5, c.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(10), c.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), c.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(7), c.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(250), c.RetryBaseDelay);
        Assert.Equal(12.5, c.MaxRequestsPerSecond);
        Assert.Equal(new Uri("http://127.0.0.1:3128/"), c.Proxy);
    }
}
