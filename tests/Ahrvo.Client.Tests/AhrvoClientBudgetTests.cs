using Ahrvo.Client.Bulk;
using Ahrvo.Client.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests;

/// <summary>Issue 17: no request is sent that cannot be answered in time; waiting for the pace is not the card's time.</summary>
public sealed class AhrvoClientBudgetTests(ITestOutputHelper log)
{
    private readonly SteppedClock _clock = new();

    [Fact]
    public async Task Cards_queued_behind_a_slow_pace_keep_their_whole_budget_and_all_get_their_balance()
    {
        // 150 cards, 64 at once, paced at 10/s, -TimeoutSec 5: the 64th card's slot is 6.4 s away.
        // Before: its budget ran while it waited, and it was sent with 1 ms to answer (or not at all).
        var handler = new ScriptedHandler(r => ScriptedHandler.Balance(r.CardId));
        using var client = InMemoryClient.Create(handler, _clock, o => { o.TotalTimeout = TimeSpan.FromSeconds(5); o.MaxRequestsPerSecond = 10; });
        var least = TimeSpan.MaxValue;
        client.SentObserver = (_, left) => { lock (handler) if (left < least) least = left; };
        using var run = new BulkBalanceRun(client, 64, verbose: false, debug: false);
        var taken = new List<BulkItem>();
        var done = Task.Run(() =>
        {
            foreach (var i in Enumerable.Range(0, 150)) run.Add("card" + i);
            while (!run.IsEmpty) { run.WaitForChange(TimeSpan.FromMilliseconds(50), default); while (run.TryTake(out var t)) taken.Add(t); }
            return taken.Count;
        });
        await _clock.RunAsync(done, TimeSpan.FromMinutes(5));
        log.WriteLine($"{handler.Total} requests; least time left at a send {least.TotalMilliseconds:0} ms");
        Assert.All(taken, t => Assert.True(t.Result!.Success, t.Result.Error?.Message));
        Assert.Equal(150, handler.Total);
        Assert.True(least >= TimeSpan.FromMilliseconds(100), $"a request went out with {least.TotalMilliseconds} ms left");
    }
}
