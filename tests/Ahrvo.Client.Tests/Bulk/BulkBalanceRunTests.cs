using System.Collections.Concurrent;
using Ahrvo.Client.Bulk;
using Ahrvo.Client.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Client.Tests.Bulk;

/// <summary>
/// How the bulk run wakes its caller (the pipeline thread): in batches, never lost, never held back
/// by a slow card. Against an in-memory API whose answers the test releases by hand, so a slow card
/// is one not answered yet, never a delay. The cmdlet-level behaviour (order, streaming, early stop,
/// throttle) is tested through PowerShell.
/// </summary>
public sealed class BulkBalanceRunTests
{
    // A wait that ends by its timeout can only mean a lost wake-up: it is never reached otherwise.
    private static readonly TimeSpan WaitTimeout = InMemoryClient.Liveness;

    /// <summary>An API that answers a card only once the test releases it (at once if released before it is asked).</summary>
    private sealed class Gate
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<HttpResponseMessage>> _answers = new();

        private TaskCompletionSource<HttpResponseMessage> For(string cardId) =>
            _answers.GetOrAdd(cardId, _ => new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously));

        public ScriptedHandler Handler() => new((r, ct) => For(r.CardId).Task.WaitAsync(ct));

        public void Release(string cardId) => For(cardId).TrySetResult(ScriptedHandler.Balance(cardId));
    }

    // A clock nobody moves: no retry or timeout here, so no timer ever fires.
    private static AhrvoClient NewClient(HttpMessageHandler handler) =>
        InMemoryClient.Create(handler, new FakeTimeProvider(), o => o.MaxRetries = 0);

    private static void WaitUntilDone(IEnumerable<BulkItem> items)
    {
        if (!SpinWait.SpinUntil(() => items.All(i => i.IsDone), InMemoryClient.Liveness))
            throw new TimeoutException("Released cards did not finish.");
    }

    /// <summary>Takes every card as the caller does once all are added: sleep, then take what is done.</summary>
    private static List<BulkItem> Drain(BulkBalanceRun run)
    {
        var taken = new List<BulkItem>();
        while (!run.IsEmpty)
        {
            run.WaitForChange(WaitTimeout, CancellationToken.None);
            Assert.Equal(0, run.TimedOutWaits);
            while (run.TryTake(out var item)) taken.Add(item);
        }
        return taken;
    }

    [Fact]
    public void The_caller_sleeps_on_the_card_a_batch_ahead_and_is_woken_once_per_batch_not_once_per_card()
    {
        var gate = new Gate();
        using var client = NewClient(gate.Handler());
        // Throttle 16: a batch is 8 cards. The first sleep lasts until its card ends, never a timer.
        using var run = new BulkBalanceRun(client, throttleLimit: 16, verbose: false, debug: false) { BatchWait = WaitTimeout };
        var ids = Enumerable.Range(0, 200).Select(i => "card" + i).ToList();
        var items = ids.Select(id => run.Add(id)).ToList();
        var sleptOn = new List<long>();
        int released = 0;
        // Cards finish in order, and only while the caller sleeps: each time, every card up to the
        // one it sleeps on. A caller that slept on the oldest card would get them one at a time.
        run.BeforeSleep = awaited =>
        {
            sleptOn.Add(awaited);
            int from = released;
            for (; released <= awaited; released++) gate.Release(ids[released]);
            WaitUntilDone(items.Skip(from).Take(released - from));
        };

        var taken = Drain(run);

        Assert.Equal(ids, taken.Select(t => t.CardId));
        Assert.All(taken, t => Assert.True(t.Result!.Success));
        Assert.Equal(Enumerable.Range(1, 25).Select(n => 8L * n - 1), sleptOn);
        Assert.Equal(25, run.Wakeups);
    }

    [Fact]
    public void No_wake_up_is_lost_while_thousands_of_cards_finish_as_fast_as_they_are_sent()
    {
        // Free running: the workers and the caller race as they do against a fast server. Whatever the
        // interleaving, every card comes out once, in order, and no wait ends by its timeout.
        var handler = new ScriptedHandler(r => ScriptedHandler.Balance(r.CardId));
        using var client = NewClient(handler);
        var ids = Enumerable.Range(0, 4000).Select(i => "card" + i).ToList();
        using var run = new BulkBalanceRun(client, throttleLimit: 16, verbose: false, debug: false);

        // As CardBatchCmdlet does: add while there is room, else sleep and take.
        var taken = new List<BulkItem>();
        int next = 0;
        while (next < ids.Count || !run.IsEmpty)
        {
            while (next < ids.Count && !run.IsFull)
            {
                run.Add(ids[next++]);
                while (run.TryTake(out var early)) taken.Add(early);
            }
            run.WaitForChange(WaitTimeout, CancellationToken.None);
            Assert.Equal(0, run.TimedOutWaits);
            while (run.TryTake(out var item)) taken.Add(item);
        }

        Assert.Equal(ids, taken.Select(t => t.CardId));
        Assert.All(taken, t => Assert.True(t.Result!.Success));
        Assert.Equal(ids.Count, handler.Total);
    }

    [Fact]
    public void A_slow_oldest_card_wakes_the_caller_when_it_ends_even_after_the_batch_behind_it_finished()
    {
        var gate = new Gate();
        using var client = NewClient(gate.Handler());
        using var run = new BulkBalanceRun(client, throttleLimit: 16, verbose: false, debug: false) { BatchWait = WaitTimeout };
        var ids = Enumerable.Range(0, 300).Select(i => "card" + i).ToList();
        const int slow = 3;
        foreach (var id in ids.Where((_, i) => i != slow)) gate.Release(id);
        var items = ids.Select(id => run.Add(id)).ToList();
        var sleptOn = new List<long>();
        // The slow card ends only once the caller sleeps on it and every card behind it is done.
        run.BeforeSleep = awaited =>
        {
            sleptOn.Add(awaited);
            if (awaited != slow) return;
            WaitUntilDone(items.Where((_, i) => i != slow));
            gate.Release(ids[slow]);
        };

        var taken = Drain(run);

        Assert.Equal(ids, taken.Select(t => t.CardId));
        Assert.Contains((long)slow, sleptOn);
    }

    [Theory]
    [InlineData(600_000)]
    [InlineData(-1)] // Timeout.InfiniteTimeSpan: once made the first sleep endless
    public async Task Finished_cards_are_not_held_back_by_a_slow_card_later_in_the_same_batch(int callerTimeoutMs)
    {
        var gate = new Gate();
        using var client = NewClient(gate.Handler());
        // Throttle 16 makes a batch of 8: the slow card is the 8th, the one the caller first sleeps on.
        // BatchWait stays as shipped: its bound is what is tested.
        using var run = new BulkBalanceRun(client, throttleLimit: 16, verbose: false, debug: false);
        var ids = Enumerable.Range(0, 10).Select(i => "card" + i).ToList();
        const int slow = 7;
        gate.Release(ids[8]);
        gate.Release(ids[9]);
        var items = ids.Select(id => run.Add(id)).ToList();
        bool sleptOnSlow = false;
        // The seven before the slow card finish only once the caller sleeps on it; the slow card is
        // answered only after those seven came out. Only the bound on that first sleep can end it:
        // the caller's own timeout is far longer than the test's patience.
        run.BeforeSleep = awaited =>
        {
            if (awaited != slow || sleptOnSlow) return;
            sleptOnSlow = true;
            for (int i = 0; i < slow; i++) gate.Release(ids[i]);
            WaitUntilDone(items.Take(slow));
        };
        using var stop = new CancellationTokenSource();
        var taken = new List<string>();
        var caller = Task.Run(() =>
        {
            while (!run.IsEmpty)
            {
                run.WaitForChange(TimeSpan.FromMilliseconds(callerTimeoutMs), stop.Token);
                while (run.TryTake(out var item)) taken.Add(item.CardId);
                if (taken.Count == slow) gate.Release(ids[slow]);
            }
        });
        try
        {
            await caller.WaitAsync(InMemoryClient.Liveness);
        }
        finally
        {
            stop.Cancel(); // frees the caller's thread should the wait above have given up
        }

        Assert.True(sleptOnSlow);
        Assert.Equal(ids, taken);
        Assert.Equal(0, run.TimedOutWaits);
    }

    /// <summary>
    /// The run tells the pace what it still has to do: the cards not yet answered, and whether its
    /// caller has added all it has (then, near the end, the pace stops probing above the limit).
    /// </summary>
    [Fact]
    public void The_run_tells_the_pace_its_backlog_and_when_its_input_is_complete()
    {
        var gate = new Gate();
        using var client = NewClient(gate.Handler());
        using var run = new BulkBalanceRun(client, throttleLimit: 4, verbose: false, debug: false);
        Ahrvo.Client.Resilience.IBacklog backlog = run;
        var items = Enumerable.Range(0, 3).Select(i => run.Add($"card{i:D6}")).ToList();
        Assert.False(backlog.InputComplete);
        Assert.Equal(3, backlog.Unsettled);
        run.InputComplete();
        Assert.True(backlog.InputComplete);
        gate.Release("card000000");
        WaitUntilDone(items.Take(1));
        Assert.Equal(2, backlog.Unsettled);
        items.Add(run.Add("card000003")); // more input: the end is not near after all
        Assert.False(backlog.InputComplete);
        Assert.Equal(3, backlog.Unsettled);
        foreach (var i in new[] { 1, 2, 3 }) gate.Release($"card{i:D6}");
        WaitUntilDone(items);
        Assert.Equal(0, backlog.Unsettled);
    }

    /// <summary>
    /// A card waiting for its retry does not stop the cards behind it, however fast they go: the
    /// window grows past its usual size while a card is parked. In the simulation of the real run
    /// (one event loop, fake clock): no limit, 5 ms answers, 16 workers (3,200 answers a second),
    /// the first card refused once with Retry-After: 5. With the window held at 1,024 cards the
    /// others waited for it too, and the run took about 8 s instead of about 5.
    /// </summary>
    [Fact]
    public void A_card_waiting_for_its_retry_does_not_stop_the_cards_behind_it()
    {
        var server = new PacingSimulation.Server(double.PositiveInfinity, 1, true, TimeSpan.FromMilliseconds(5), 0, TimeSpan.FromSeconds(5))
        {
            Refuse = (card, attempt) => card == 0 && attempt == 0,
        };
        var o = new PacingSimulation(server, seed: 3).Run(new PacingSimulation.Client(16, 10_000, TimeSpan.FromSeconds(120)))[0];
        Assert.Equal(0, o.Lost);
        Assert.Equal(1, o.Throttled);
        // Card 0 comes back after 5 s (and a tenth's spread); the 9,999 others take about 3 s.
        Assert.True(o.Duration < TimeSpan.FromSeconds(6), o.ToString());
    }
}
