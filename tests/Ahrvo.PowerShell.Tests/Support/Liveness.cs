using System.Diagnostics;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// The one time limit tests use: how long a handshake or a run may take before the test fails
/// instead of hanging. Generous on purpose; no test passes or fails by how fast something was.
/// </summary>
public static class Liveness
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> after <see cref="Timeout"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Timeout) throw new TimeoutException($"Never happened within {Timeout.TotalSeconds:0} s: {what}.");
            await Task.Delay(10);
        }
    }
}
