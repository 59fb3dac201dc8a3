using Ahrvo.Client.Bulk;
using Ahrvo.Client.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests;

/// <summary>
/// Requests that hung in a short hang are sent again as soon as the service is seen to hang, not
/// after their attempt timeout. On the real clock: the fake clock's stepping jumps to the pending
/// attempt timeouts before the cancelled attempts have unwound. What is asserted is liveness, not
/// speed: the attempt timeout is ten minutes, so a run that waited for it could not end within the
/// bound, whatever the machine's load.
/// </summary>
public sealed class AhrvoClientHangRecoveryTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(3)]
    public async Task Requests_that_hung_in_a_short_hang_are_sent_again_without_waiting_out_their_attempt_timeout(double seconds)
    {
        var time = TimeProvider.System;
        int arrived = 0, hung = 0;
        long from = long.MaxValue, to = long.MaxValue;
        var handler = new ScriptedHandler(async (r, ct) =>
        {
            long now = time.GetTimestamp();
            // The hang begins once a third of the cards went out: a good run before it.
            if (Interlocked.Increment(ref arrived) == 100)
            {
                Volatile.Write(ref to, now + (long)(seconds * time.TimestampFrequency));
                Volatile.Write(ref from, now);
            }
            if (now >= Volatile.Read(ref from) && now < Volatile.Read(ref to))
            {
                Interlocked.Increment(ref hung);
                await Task.Delay(Timeout.Infinite, ct); // no answer, ever
            }
            await Task.Delay(20, ct); // answers take 20 ms: the hang threshold is learned from them
            return ScriptedHandler.Balance(r.CardId);
        });
        using var client = InMemoryClient.Create(handler, time, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMinutes(10);
            o.TotalTimeout = TimeSpan.FromMinutes(20);
        });
        using var run = new BulkBalanceRun(client, 16, verbose: false, debug: false);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // A TimeoutException here: the hung requests waited for their 10 minutes.
        var taken = await BulkDriver.DriveAsync(run, 300).WaitAsync(TimeSpan.FromMinutes(2));
        log.WriteLine($"hang for {seconds} s: {hung} requests hung, {handler.Total} requests for 300 cards, {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.True(hung > 0, "nothing hung: the test tests nothing");
        Assert.Equal(Enumerable.Range(0, 300).Select(i => "card" + i), taken.Select(t => t.CardId));
        Assert.All(taken, t => Assert.True(t.Result!.Success, $"{t.CardId}: {t.Result!.Error?.Message}"));
        Assert.All(taken, t => Assert.True(t.Result!.Attempts <= 3, $"{t.CardId}: {t.Result!.Attempts} attempts"));
    }
}
