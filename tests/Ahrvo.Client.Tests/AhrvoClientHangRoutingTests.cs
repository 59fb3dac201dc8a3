using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Tests.Support;
using Xunit;

namespace Ahrvo.Client.Tests;

/// <summary>Issue 18, item 5: a hang seen by the timer is told to the commands whose requests hang.</summary>
public sealed class AhrvoClientHangRoutingTests
{
    private readonly SteppedClock _clock = new();

    [Fact]
    public async Task Hang_messages_go_to_the_command_whose_requests_hang_not_to_the_one_that_started_last()
    {
        var handler = new ScriptedHandler(async (r, ct) =>
        {
            if (r.CardId.StartsWith("hang", StringComparison.Ordinal) && r.Attempt == 1) await Task.Delay(Timeout.Infinite, ct);
            // A usual answer time on the fake clock: with none measured (0 s) the hang threshold is the
            // attempt timeout, and which of the two fires first would be left to thread scheduling.
            else await Task.Delay(TimeSpan.FromMilliseconds(100), _clock, ct);
            return ScriptedHandler.Balance(r.CardId);
        });
        using var client = InMemoryClient.Create(handler, _clock, o => { o.AttemptTimeout = TimeSpan.FromSeconds(5); o.TotalTimeout = TimeSpan.FromSeconds(30); });
        var a = new List<string>();
        var b = new List<string>();
        var first = new RequestDiagnostics(true, false, m => { lock (a) a.Add(m.Text); });
        var second = new RequestDiagnostics(true, false, m => { lock (b) b.Add(m.Text); });
        // Command A's two requests hang; command B starts after them, and its card is answered at once.
        var hanging = new[] { client.GetBalanceAsync("hang1", first), client.GetBalanceAsync("hang2", first) };
        var quick = await _clock.RunAsync(client.GetBalanceAsync("quick", second));
        Assert.True(quick.Success);
        var results = await _clock.RunAsync(Task.WhenAll(hanging));
        Assert.All(results, r => Assert.True(r.Success, r.Error?.Message));
        Assert.Contains(a, m => m.Contains("no answer for", StringComparison.Ordinal));
        Assert.DoesNotContain(b, m => m.Contains("no answer for", StringComparison.Ordinal));
        Assert.Equal(0, client.Health.InFlight);
    }
}
