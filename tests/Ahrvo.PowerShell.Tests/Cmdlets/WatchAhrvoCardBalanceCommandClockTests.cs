using Ahrvo.PowerShell.Cmdlets;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>The wait between Watch-AhrvoCardBalance passes follows a monotonic clock, not the wall clock.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class WatchAhrvoCardBalanceCommandClockTests(CardsEmulatorFixture fx)
{
    private int _reads;

    /// <summary>A wall clock that steps back a day each time it is read.</summary>
    private DateTimeOffset WallClockStepsBack() => DateTimeOffset.UtcNow.AddDays(-Interlocked.Increment(ref _reads));

    [Fact]
    public async Task A_wall_clock_step_neither_stretches_nor_skips_the_wait_between_passes()
    {
        var emu = await fx.FreshAsync();
        var id = CardsEmulatorFixture.Ids(1)[0];
        var previous = WatchAhrvoCardBalanceCommand.WallClock;
        WatchAhrvoCardBalanceCommand.WallClock = WallClockStepsBack;
        try
        {
            // Two passes one second apart. Timed by the wall clock, the step back would make the wait
            // a day, and the run would be stopped at the liveness limit and fail. The cmdlet reads the
            // wall clock only to say when the next pass comes.
            var r = PowerShellHost.Run(EmulatorFixtureBase.Connect() + "Watch-AhrvoCardBalance -CardId $id -Count 2 -Interval 1 -Critical 10 -Verbose", fx.Variables(("id", id)));
            Assert.Null(r.Terminating);
            Assert.Contains(r.Verbose, v => v.StartsWith("Pass 2 finished"));
            // Both passes ran, one request each.
            Assert.Equal(2, (await emu.GetStatsAsync(limit: 0)).BalanceRequests);
        }
        finally
        {
            WatchAhrvoCardBalanceCommand.WallClock = previous;
        }
    }
}
