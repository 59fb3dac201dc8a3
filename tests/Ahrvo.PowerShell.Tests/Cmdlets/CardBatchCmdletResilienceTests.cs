using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using Ahrvo.Emulator;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>
/// Faults and throttling against the emulator, through the bulk cmdlets as a user runs them. The
/// assertions are outcomes and request counts; when waits, backoff and budgets happen is the
/// client's logic, tested on a fake clock in tests/Ahrvo.Client.Tests/Resilience. Backoff is
/// shortened with -RetryBaseDelayMs so the suite stays fast; the behaviour is the same.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class CardBatchCmdletResilienceTests(CardsEmulatorFixture fx, ITestOutputHelper log) : IAsyncLifetime
{
    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Connect(string parameters = "") => EmulatorFixtureBase.Connect(parameters);

    private static List<CardBalance> Balances(ScriptResult r) => r.Output.Select(o => (CardBalance)o.BaseObject).ToList();

    [Fact]
    public async Task Twenty_percent_transient_failures_lose_no_card_and_cost_at_most_1_3_requests_per_card()
    {
        var emu = fx.Emulator;
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
        var r = PowerShellHost.Run(Connect("-MaxRetries 3 -RetryBaseDelayMs 20") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 16", fx.Variables(("ids", ids)));
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
        log.WriteLine($"{count} cards, {faulty.Length} faulted first attempts: {stats.BalanceRequests} requests ({perCard:0.000}/card)");
        Assert.True(perCard <= 1.3, $"{perCard:0.000} requests per card");
        Assert.All(faulty, id => Assert.Equal(2, stats.RequestsPerCard[id]));
    }

    [Fact]
    public async Task A_card_that_always_fails_gives_one_error_after_the_retry_budget()
    {
        var emu = fx.Emulator;
        var ids = CardsEmulatorFixture.Ids(20);
        string bad = ids[5];
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "503", cardIds = new[] { bad } } } });

        var r = PowerShellHost.Run(Connect("-MaxRetries 2 -RetryBaseDelayMs 50 -TimeoutSec 10") + "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));

        var error = Assert.Single(r.Errors);
        Assert.Equal(bad, error.TargetObject);
        Assert.Equal("Ahrvo.ServiceUnavailable", ErrorId(error));
        Assert.Contains("3 attempt", error.Exception.Message);
        Assert.Equal(19, r.Output.Count);
        Assert.Equal(3, (await emu.GetStatsAsync(limit: 0)).RequestsPerCard[bad]);
    }

    [Fact]
    public async Task A_card_that_always_hangs_fails_once_at_its_total_timeout()
    {
        var emu = fx.Emulator;
        var ids = CardsEmulatorFixture.Ids(10);
        string bad = ids[3];
        // Held for ten minutes: only the client's timeouts can end the run within the liveness limit.
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "slow", delayMs = 600_000, cardIds = new[] { bad } } } });

        var r = PowerShellHost.Run(Connect("-MaxRetries 5 -RetryBaseDelayMs 50 -AttemptTimeoutSec 1 -TimeoutSec 3") + "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));

        var error = Assert.Single(r.Errors);
        Assert.Equal(bad, error.TargetObject);
        Assert.Equal("Ahrvo.Timeout", ErrorId(error));
        Assert.Equal(9, r.Output.Count);
        log.WriteLine(error.Exception.Message);
        // Each attempt is held until it times out after 1 s, so a 3 s budget has room for 3 at most.
        var stats = await emu.WaitUntilIdleAsync();
        Assert.InRange(stats.RequestsPerCard[bad], 1, 3);
    }

    [Fact]
    public async Task While_a_card_waits_out_its_Retry_After_the_other_cards_keep_flowing()
    {
        var emu = fx.Emulator;
        var ids = CardsEmulatorFixture.Ids(300, dedicatedOnly: true);
        string victim = ids[0];
        // Ten minutes: the other cards can only have been read during the victim's wait.
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "429", retryAfter = "600", firstAttempts = 1, cardIds = new[] { victim } } } });

        using var run = PowerShellHost.Start(Connect("-MaxRetries 0 -MaxRetryDelaySec 3600 -TimeoutSec 3600") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 8 -Verbose",
            fx.Variables(("ids", ids)));
        await emu.WaitForStatsAsync(s => s.StatusCounts.GetValueOrDefault("200") == ids.Length - 1, "every other card answered");
        run.WaitForVerbose(v => v.Contains(victim) && v.Contains("Retry-After"), "saying the victim waits for its Retry-After");
        Assert.Empty(run.OutputSoFar); // the victim is first: nothing may be written before it

        run.Stop();
        run.Finish();
        var stats = await fx.SettleAfterStopAsync();
        Assert.Equal(1, stats.RequestsPerCard[victim]); // not sent again before its time
        Assert.Single(stats.Requests, q => q.Status == 429);
        Assert.Equal(ids.Length, stats.BalanceRequests);
    }

    [Fact]
    public async Task A_429_is_not_a_failure_so_MaxRetries_0_still_gets_the_balance_after_the_wait()
    {
        var emu = fx.Emulator;
        var ids = CardsEmulatorFixture.Ids(3, dedicatedOnly: true);
        string victim = ids[1];
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "429", retryAfter = "1", firstAttempts = 1, cardIds = new[] { victim } } } });

        var r = PowerShellHost.Run(Connect("-MaxRetries 0") + "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));

        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(ids, Balances(r).Select(b => b.CardId));
        var stats = await emu.GetStatsAsync();
        Assert.Equal(new[] { 429, 200 }, stats.Requests.Where(q => q.CardId == victim).Select(q => q.Status));
    }

    [Theory]
    [InlineData("500")]
    [InlineData("503")]
    [InlineData("reset")]
    [InlineData("hang")]
    [InlineData("refused")]
    public async Task A_dead_service_ends_a_500_card_run_with_errors_no_balances_and_few_requests(string mode)
    {
        var emu = fx.Emulator;
        var ids = CardsEmulatorFixture.Ids(500);
        var vars = fx.Variables(("ids", ids));
        string parameters = "";
        switch (mode)
        {
            case "hang":
                await emu.SetConfigAsync(new { faults = new[] { new { kind = "slow", delayMs = 600_000 } } });
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
        var r = PowerShellHost.Run(Connect(parameters + " -TimeoutSec 2") + "Get-AhrvoCardBalance -CardId $ids", vars);

        var stats = await emu.WaitUntilIdleAsync();
        var kinds = r.Errors.GroupBy(ErrorId).ToDictionary(g => g.Key, g => g.Count());
        log.WriteLine($"{mode}: {stats.BalanceRequests} requests, errors: {string.Join(", ", kinds.Select(k => k.Key + "=" + k.Value))}");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Output);
        Assert.Equal(ids, r.Errors.Select(e => (string)e.TargetObject));
        Assert.True(kinds.ContainsKey("Ahrvo.CircuitOpen"), "the circuit breaker never opened");
        if (mode != "refused") Assert.True(stats.BalanceRequests <= ids.Length / 4, $"{stats.BalanceRequests} requests for {ids.Length} cards");
        var open = r.Errors.First(e => ErrorId(e) == "Ahrvo.CircuitOpen");
        Assert.Contains("circuit", open.Exception.Message);
    }

    [Fact]
    public async Task MaxRequestsPerSecond_paces_the_connection_and_every_card_is_read()
    {
        // How evenly the requests are spread over time is the client's pacer, tested on a fake clock
        // (tests/Ahrvo.Client.Tests/Resilience/AdaptiveRateLimiterTests.cs) and measured for real by
        // bench/Invoke-Benchmarks.ps1; here: the setting reaches the connection and loses no card.
        var ids = CardsEmulatorFixture.Ids(5, dedicatedOnly: true);
        var r = PowerShellHost.Run(Connect("-MaxRequestsPerSecond 20") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 16\nGet-AhrvoConnection", fx.Variables(("ids", ids)));

        Assert.Empty(r.Errors);
        Assert.Equal(ids, r.Output.Take(ids.Length).Select(o => ((CardBalance)o.BaseObject).CardId));
        var connection = (AhrvoConnection)r.Output[^1].BaseObject;
        Assert.Equal(20, connection.MaxRequestsPerSecond);
        Assert.Equal(20, connection.PacedRequestsPerSecond);
        Assert.Equal(ids.Length, (await fx.Emulator.GetStatsAsync(limit: 0)).BalanceRequests);
    }

    [Fact]
    public async Task Verbose_explains_each_retry_which_card_why_and_how_long()
    {
        var emu = fx.Emulator;
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
}
