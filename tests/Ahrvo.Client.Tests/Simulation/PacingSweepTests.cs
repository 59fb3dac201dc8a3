using Ahrvo.Client.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests.Simulation;

/// <summary>
/// Issue 17's matrix on the pacing simulation (<see cref="PacingSimulation"/>): every account limit,
/// -ThrottleLimit, latency and Retry-After, buckets with and without burst, random 429s.
/// </summary>
public sealed class PacingSweepTests(ITestOutputHelper log)
{
    public static readonly double[] Limits = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
    public static readonly int[] Throttles = { 1, 4, 16, 64 };
    public static readonly int[] LatenciesMs = { 5, 50, 500 };
    public static readonly int[] RetryAfters = { 1, 3 };

    /// <summary>What a run can reach at most: the limit, or what the workers can do at that latency.</summary>
    internal static double Reachable(double limit, int throttle, int latencyMs) => Math.Min(limit, throttle / (latencyMs / 1000.0));

    internal static PacingSimulation.Outcome Cell(double limit, int throttle, int latencyMs, int retryAfter, bool burst, bool full, int seed, out int cards)
    {
        double reach = Reachable(limit, throttle, latencyMs);
        cards = (int)Math.Max(15, Math.Ceiling(reach * 25)); // 25 s at the reachable rate
        var server = new PacingSimulation.Server(limit, burst ? Math.Max(1, limit) : 1, full, TimeSpan.FromMilliseconds(latencyMs), 0, TimeSpan.FromSeconds(retryAfter));
        return new PacingSimulation(server, seed).Run(new PacingSimulation.Client(throttle, cards, TimeSpan.FromSeconds(120)))[0];
    }

    [Fact]
    public void Debug1()
    {
        PacingSimulation.Trace = log.WriteLine;
        var o = Cell(100, 16, 50, 1, burst: false, full: false, seed: 1, out int cards);
        PacingSimulation.Trace = null;
        log.WriteLine(o.ToString());
    }

    [Fact]
    public void Explore()
    {
        foreach (var limit in Limits)
        foreach (var t in new[] { 4, 16, 64 })
        {
            var o = Cell(limit, t, 50, 1, burst: false, full: false, seed: 1, out int cards);
            double reach = Reachable(limit, t, 50);
            log.WriteLine($"limit {limit,5} T {t,2}: {o.SteadyRate / reach:0.00}x of {reach:0.#}; {o}");
        }
    }
}
