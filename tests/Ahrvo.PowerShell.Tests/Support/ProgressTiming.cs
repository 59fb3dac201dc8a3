using Ahrvo.PowerShell.Cmdlets;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// Sets the bulk cmdlets' progress timing for one test and restores it on dispose, so progress is
/// tested by what the cmdlet writes, not by making runs last longer than the real one-second delay.
/// </summary>
public sealed class ProgressTiming : IDisposable
{
    private readonly TimeSpan _delay = CardBatchCmdlet.ProgressDelay;
    private readonly TimeSpan _interval = CardBatchCmdlet.ProgressInterval;

    /// <param name="delay">How long a pass runs before its first progress record.</param>
    /// <param name="interval">The least time between two progress records.</param>
    public ProgressTiming(TimeSpan delay, TimeSpan interval)
    {
        CardBatchCmdlet.ProgressDelay = delay;
        CardBatchCmdlet.ProgressInterval = interval;
    }

    /// <summary>A record at the first chance, then none for the rest of any run a test makes.</summary>
    public static ProgressTiming OnceAtOnce() => new(TimeSpan.Zero, TimeSpan.FromDays(1));

    /// <summary>A record at every chance the cmdlet has.</summary>
    public static ProgressTiming Always() => new(TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>No record in any run a test makes.</summary>
    public static ProgressTiming Never() => new(TimeSpan.FromDays(1), TimeSpan.FromDays(1));

    public void Dispose()
    {
        CardBatchCmdlet.ProgressDelay = _delay;
        CardBatchCmdlet.ProgressInterval = _interval;
    }
}
