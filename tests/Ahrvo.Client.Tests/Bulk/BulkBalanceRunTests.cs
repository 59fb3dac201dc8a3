using Ahrvo.Client.Bulk;
using Ahrvo.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests.Bulk;

/// <summary>
/// How the bulk run wakes its caller (the pipeline thread): in batches, never lost. The cmdlet-level
/// behaviour (order, streaming, early stop, throttle) is tested through PowerShell in BulkTests.
/// </summary>
public sealed class BulkBalanceRunTests(ClientEmulatorFixture fx, ITestOutputHelper log) : IClassFixture<ClientEmulatorFixture>
{
    // Long enough that a wait ending by timeout can only mean a wake-up was lost.
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    private AhrvoClient NewClient() =>
        new(new AhrvoClientOptions(fx.Emulator.BaseUri, ClientEmulatorFixture.Secure(fx.Emulator.ApiKey), ClientEmulatorFixture.Secure(fx.Emulator.AccessToken)) { MaxRetries = 0 });

    /// <summary>Drives a run the way CardBatchCmdlet does: add while there is room, else sleep and take.</summary>
    private static List<BulkItem> Drive(BulkBalanceRun run, IReadOnlyList<string> ids)
    {
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
            while (run.TryTake(out var item)) taken.Add(item);
        }
        return taken;
    }

    [Fact]
    public async Task The_caller_is_woken_once_per_batch_of_cards_not_once_per_card_and_no_wake_up_is_lost()
    {
        await fx.Emulator.ResetAsync(includeConfig: true);
        using var client = NewClient();
        var ids = Enumerable.Range(0, 4000).Select(i => $"card2019{i % 200:D14}").ToList();
        using var run = new BulkBalanceRun(client, throttleLimit: 16, verbose: false, debug: false);

        var taken = Drive(run, ids);

        log.WriteLine($"{run.Wakeups} wake-ups, {run.TimedOutWaits} timed-out waits for {ids.Count} cards");
        Assert.Equal(ids, taken.Select(t => t.CardId));       // in order, each once
        Assert.All(taken, t => Assert.NotNull(t.Result));
        Assert.Equal(0, run.TimedOutWaits);
        // Woken when the card 8 places after the oldest is done: 388 to 490 wake-ups for 4,000 cards
        // here, where waking for the oldest alone took 947 to 1,719.
        Assert.True(run.Wakeups <= ids.Count / 6, $"{run.Wakeups} wake-ups for {ids.Count} cards");
    }

    [Fact]
    public async Task A_slow_oldest_card_wakes_the_caller_when_it_ends_even_after_the_batch_behind_it_finished()
    {
        await fx.Emulator.ResetAsync(includeConfig: true);
        const string slow = "card201900000000000003";
        await fx.Emulator.SetConfigAsync(new { faults = new object[] { new { kind = "slow", delayMs = 400, cardIds = new[] { slow } } } });
        try
        {
            using var client = NewClient();
            var ids = Enumerable.Range(0, 300).Select(i => $"card2019{i % 200:D14}").ToList();
            using var run = new BulkBalanceRun(client, throttleLimit: 16, verbose: false, debug: false);

            var taken = Drive(run, ids);

            Assert.Equal(ids, taken.Select(t => t.CardId));
            Assert.Equal(0, run.TimedOutWaits);
        }
        finally
        {
            await fx.Emulator.ResetAsync(includeConfig: true);
        }
    }

    [Fact]
    public async Task Finished_cards_are_not_held_back_by_a_slow_card_later_in_the_same_batch()
    {
        await fx.Emulator.ResetAsync(includeConfig: true);
        // Throttle 16 makes a batch of 8: the slow card is the 8th, the one the caller would sleep on.
        var ids = Enumerable.Range(1, 10).Select(i => $"card2019{i:D14}").ToList();
        await fx.Emulator.SetConfigAsync(new { faults = new object[] { new { kind = "slow", delayMs = 3000, cardIds = new[] { ids[7] } } } });
        try
        {
            using var client = NewClient();
            using var run = new BulkBalanceRun(client, throttleLimit: 16, verbose: false, debug: false);
            var items = ids.Select(id => run.Add(id)).ToList();
            var slowItem = items[7];

            var takenWhileSlowRan = new List<string>();
            var taken = new List<BulkItem>();
            while (!run.IsEmpty)
            {
                run.WaitForChange(WaitTimeout, CancellationToken.None);
                while (run.TryTake(out var item))
                {
                    taken.Add(item);
                    if (!slowItem.IsDone) takenWhileSlowRan.Add(item.CardId);
                }
            }

            Assert.Equal(ids, taken.Select(t => t.CardId));
            // The seven before it are written while it still runs (3 s), not all at once after it.
            Assert.Equal(ids.Take(7), takenWhileSlowRan);
            Assert.Equal(0, run.TimedOutWaits);
        }
        finally
        {
            await fx.Emulator.ResetAsync(includeConfig: true);
        }
    }
}
