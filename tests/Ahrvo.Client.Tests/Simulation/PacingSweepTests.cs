using Ahrvo.Client.Tests.Support;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests.Simulation;

/// <summary>
/// Issue 17's matrix on the pacing simulation (<see cref="PacingSimulation"/>: the client's real pace
/// and retry decision on a fake clock): every account limit, -ThrottleLimit, latency and Retry-After,
/// buckets with and without burst, starting full or empty; random 429s; the -TimeoutSec 5 case.
/// What every cell must hold: no card lost, and no request sent with under 100 ms of its card's
/// time left. The rate reached and the share throttled are printed per cell (see the report in
/// docs/reliability.md for where they stand against the 0.9x / 5 % targets).
/// </summary>
public sealed class PacingSweepTests(ITestOutputHelper log)
{
    public static readonly double[] Limits = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
    public static readonly int[] Throttles = { 1, 4, 16, 64 };
    public static readonly int[] LatenciesMs = { 5, 50, 500 };
    public static readonly int[] RetryAfters = { 1, 3 };

    /// <summary>What a run can reach at most: the limit, or what the workers can do at that latency.</summary>
    internal static double Reachable(double limit, int throttle, int latencyMs) => Math.Min(limit, throttle / (latencyMs / 1000.0));

    private sealed record Cell(double Limit, int Throttle, int LatencyMs, int RetryAfter, bool Burst, bool Full)
    {
        public override string ToString() => $"limit {Limit}/s, ThrottleLimit {Throttle}, latency {LatencyMs} ms, Retry-After {RetryAfter} s, {(Burst ? "1 s burst" : "no burst")}, bucket {(Full ? "full" : "empty")}";
    }

    private static PacingSimulation.Outcome Run(Cell c, int seed, TimeSpan? budget = null, int? cards = null)
    {
        double reach = Reachable(c.Limit, c.Throttle, c.LatencyMs);
        int n = cards ?? (int)Math.Max(15, Math.Ceiling(reach * 20)); // 20 s at the reachable rate
        var server = new PacingSimulation.Server(c.Limit, c.Burst ? Math.Max(1, c.Limit) : 1, c.Full, TimeSpan.FromMilliseconds(c.LatencyMs), 0, TimeSpan.FromSeconds(c.RetryAfter));
        return new PacingSimulation(server, seed).Run(new PacingSimulation.Client(c.Throttle, n, budget ?? TimeSpan.FromSeconds(120)))[0];
    }

    private void AssertCell(Cell c, PacingSimulation.Outcome o)
    {
        double reach = Reachable(c.Limit, c.Throttle, c.LatencyMs);
        log.WriteLine($"{c}: {o.SteadyRate / reach:0.00}x of {reach:0.#}/s; {o}");
        Assert.True(o.Lost == 0, $"{c}: {o}");
        Assert.True(o.SentWithLittleTime == 0, $"{c}: {o.SentWithLittleTime} requests sent with under 100 ms left");
    }

    private static readonly Gen<Cell> Cells =
        from limit in Gen.Int[0, Limits.Length - 1]
        from throttle in Gen.Int[0, Throttles.Length - 1]
        from latency in Gen.Int[0, LatenciesMs.Length - 1]
        from retryAfter in Gen.Int[0, RetryAfters.Length - 1]
        from burst in Gen.Bool
        from full in Gen.Bool
        select new Cell(Limits[limit], Throttles[throttle], LatenciesMs[latency], RetryAfters[retryAfter], burst, full);

    /// <summary>The whole matrix for the hardest bucket (no burst, starting empty: 64 requests into an unknown limit are 63 429s).</summary>
    [Fact]
    public void Every_cell_of_the_matrix_with_a_bucket_without_burst_loses_nothing()
    {
        foreach (var limit in Limits)
        foreach (var t in Throttles)
        foreach (var latency in LatenciesMs)
        foreach (var ra in RetryAfters)
        {
            var cell = new Cell(limit, t, latency, ra, Burst: false, Full: false);
            var o = Run(cell, seed: 17);
            Assert.True(o.Lost == 0, $"{cell}: {o}");
            Assert.True(o.SentWithLittleTime == 0, $"{cell}: {o.SentWithLittleTime} requests sent with under 100 ms left");
            if (latency == 50 && ra == 1) log.WriteLine($"{cell}: {o.SteadyRate / Reachable(limit, t, latency):0.00}x of {Reachable(limit, t, latency):0.#}/s; {o}");
        }
    }

    /// <summary>Random cells of the same space, with burst and a full bucket too; CsCheck prints the failing seed.</summary>
    [Fact]
    public void Random_cells_with_any_bucket_lose_nothing()
    {
        Gen.Select(Cells, Gen.Int[1, 1_000_000]).Sample((cell, seed) => AssertCell(cell, Run(cell, seed)), iter: 40, threads: 1);
    }

    [Fact]
    public void TimeoutSec_5_at_a_10_per_second_limit_with_ThrottleLimit_64_loses_nothing_and_sends_nothing_without_time()
    {
        foreach (var latency in LatenciesMs)
        foreach (var full in new[] { false, true })
        {
            var cell = new Cell(10, 64, latency, 1, Burst: false, Full: full);
            AssertCell(cell, Run(cell, seed: 5, budget: TimeSpan.FromSeconds(5), cards: 150));
        }
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.05)]
    public void Random_429s_cost_only_their_own_cards_wait(double share)
    {
        foreach (var t in new[] { 4, 16, 64 })
        foreach (var latency in new[] { 5, 50 })
        {
            int cards = 2000;
            var server = new PacingSimulation.Server(double.PositiveInfinity, 1, true, TimeSpan.FromMilliseconds(latency), share, TimeSpan.FromSeconds(1));
            var o = new PacingSimulation(server, 429).Run(new PacingSimulation.Client(t, cards, TimeSpan.FromSeconds(120)))[0];
            double ideal = cards * latency / 1000.0 / t;
            log.WriteLine($"random 429s {share:P0}, ThrottleLimit {t}, latency {latency} ms: {o.Duration.TotalSeconds:0.00} s against an ideal of {ideal:0.00} s ({o.Duration.TotalSeconds / (ideal + 1):0.00}x of ideal + 1 s); {o}");
            Assert.Equal(0, o.Lost);
            Assert.Equal(0, o.SentWithLittleTime);
        }
    }

    [Fact]
    public void Two_clients_sharing_one_account_both_finish_and_lose_nothing()
    {
        var server = new PacingSimulation.Server(100, 100, true, TimeSpan.FromMilliseconds(20), 0, TimeSpan.FromSeconds(1));
        var both = new PacingSimulation(server, 2).Run(new PacingSimulation.Client(16, 995, TimeSpan.FromSeconds(120)), new PacingSimulation.Client(16, 995, TimeSpan.FromSeconds(120)));
        var end = both.Max(o => o.Duration);
        log.WriteLine($"two clients at 100/s: {string.Join("; ", both.Select(o => o.ToString()))}; together {1990 / end.TotalSeconds:0.#}/s");
        Assert.All(both, o => Assert.Equal(0, o.Lost));
    }
}
