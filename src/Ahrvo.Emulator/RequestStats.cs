using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Ahrvo.Emulator;

/// <summary>
/// Counters and the recent-request log. Lock-free: Interlocked counters, a ConcurrentDictionary of
/// per-card boxes, and a ring buffer written by slot index. Reset swaps in fresh instances.
/// </summary>
public sealed class RequestStats
{
    public const int Capacity = 100_000;

    private long _totalRequests;
    private long _balanceRequests;
    private int _currentConcurrent;
    private int _maxConcurrent;
    private long _rateLimited;
    // Indexed by status code: counting is one Interlocked.Increment, no dictionary lookup or allocation.
    private volatile long[] _statusCounts = new long[600];
    private volatile ConcurrentDictionary<string, StrongBox<int>> _perCard = NewPerCard();
    private volatile Ring _ring = new();

    public void CountRequest() => Interlocked.Increment(ref _totalRequests);

    /// <summary>Marks a balance request as in flight and returns its 1-based attempt number for the card.</summary>
    public int BeginBalanceRequest(string cardKey)
    {
        Interlocked.Increment(ref _balanceRequests);
        int now = Interlocked.Increment(ref _currentConcurrent);
        int max;
        while (now > (max = Volatile.Read(ref _maxConcurrent)) &&
               Interlocked.CompareExchange(ref _maxConcurrent, now, max) != max)
        {
        }
        var box = _perCard.GetOrAdd(cardKey, static _ => new StrongBox<int>());
        return Interlocked.Increment(ref box.Value);
    }

    private long _routeRequests;
    private volatile ConcurrentDictionary<string, StrongBox<int>> _perRoute = NewPerCard();

    /// <summary>A request answered by a route of the route table: counted per route, and logged with the balance requests.</summary>
    public void CountRoute(string route, EmulatorRequestRecord record)
    {
        Interlocked.Increment(ref _routeRequests);
        var box = _perRoute.GetOrAdd(route, static _ => new StrongBox<int>());
        Interlocked.Increment(ref box.Value);
        _ring.Add(record);
    }

    public void CountRateLimited() => Interlocked.Increment(ref _rateLimited);

    public void EndBalanceRequest(EmulatorRequestRecord record)
    {
        Interlocked.Decrement(ref _currentConcurrent);
        // 499 (the client gave up) sent nothing, like a reset: both count as "0", nothing on the wire.
        int status = record.Status is 499 or < 0 or >= 600 ? 0 : record.Status;
        Interlocked.Increment(ref _statusCounts[status]);
        _ring.Add(record);
    }

    /// <summary>Zeroes the counters. In-flight requests stay counted as concurrent so the gauge never goes negative.</summary>
    public void Reset()
    {
        _perCard = NewPerCard();
        _perRoute = NewPerCard();
        Interlocked.Exchange(ref _routeRequests, 0);
        _ring = new Ring();
        _statusCounts = new long[600];
        Interlocked.Exchange(ref _rateLimited, 0);
        Interlocked.Exchange(ref _totalRequests, 0);
        Interlocked.Exchange(ref _balanceRequests, 0);
        Interlocked.Exchange(ref _maxConcurrent, Volatile.Read(ref _currentConcurrent));
    }

    public EmulatorStats Snapshot(int maxRequests) => new()
    {
        TotalRequests = Interlocked.Read(ref _totalRequests),
        BalanceRequests = Interlocked.Read(ref _balanceRequests),
        CurrentConcurrent = Volatile.Read(ref _currentConcurrent),
        MaxConcurrent = Volatile.Read(ref _maxConcurrent),
        RequestsPerCard = _perCard.ToDictionary(kv => kv.Key, kv => Volatile.Read(ref kv.Value.Value), StringComparer.Ordinal),
        RateLimited = Interlocked.Read(ref _rateLimited),
        StatusCounts = StatusCountsSnapshot(),
        Requests = _ring.Snapshot(maxRequests),
        RouteRequests = Interlocked.Read(ref _routeRequests),
        RequestsPerRoute = _perRoute.ToDictionary(kv => kv.Key, kv => Volatile.Read(ref kv.Value.Value), StringComparer.Ordinal),
    };

    private Dictionary<string, long> StatusCountsSnapshot()
    {
        var counts = _statusCounts;
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < counts.Length; i++)
        {
            long n = Interlocked.Read(ref counts[i]);
            if (n != 0) result[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = n;
        }
        return result;
    }

    private static ConcurrentDictionary<string, StrongBox<int>> NewPerCard() => new(StringComparer.Ordinal);

    private sealed class Ring
    {
        private readonly EmulatorRequestRecord?[] _items = new EmulatorRequestRecord?[Capacity];
        private long _next;

        public void Add(EmulatorRequestRecord record)
        {
            long n = Interlocked.Increment(ref _next) - 1;
            Volatile.Write(ref _items[n % Capacity], record);
        }

        public List<EmulatorRequestRecord> Snapshot(int max)
        {
            long end = Interlocked.Read(ref _next);
            long start = Math.Max(0, end - Math.Clamp(max, 0, Capacity));
            var list = new List<EmulatorRequestRecord>((int)(end - start));
            for (long i = start; i < end; i++)
            {
                // A slot claimed but not yet written reads as null: skip it rather than wait.
                if (Volatile.Read(ref _items[i % Capacity]) is { } r) list.Add(r);
            }
            return list;
        }
    }
}
