// Shared contract: the JSON shape of GET /_emulator/stats, also compiled into tests/TestSupport.
namespace Ahrvo.Emulator;

public sealed class EmulatorStats
{
    /// <summary>Every request outside /_emulator/ (any path, any method).</summary>
    public long TotalRequests { get; init; }

    /// <summary>Requests that reached the balance endpoint.</summary>
    public long BalanceRequests { get; init; }

    public int CurrentConcurrent { get; init; }
    public int MaxConcurrent { get; init; }

    /// <summary>Balance requests per card_id as received ("" when card_id was absent).</summary>
    public Dictionary<string, int> RequestsPerCard { get; init; } = new();

    /// <summary>429s sent by the account-wide rate limiter (rateLimitPerSecond), not by faults or outages.</summary>
    public long RateLimited { get; init; }

    /// <summary>
    /// Balance responses by status code ("200", "503", ...); "0" counts requests that sent nothing:
    /// a reset fault/outage, or a client that gave up (recorded as 499 in <see cref="Requests"/>).
    /// </summary>
    public Dictionary<string, long> StatusCounts { get; init; } = new();

    /// <summary>Requests answered by a route of the route table (PUT /_emulator/routes or --routes).</summary>
    public long RouteRequests { get; init; }

    /// <summary>Route requests per route ("POST /card/issuance/api/...").</summary>
    public Dictionary<string, int> RequestsPerRoute { get; init; } = new();

    /// <summary>The most recent balance and route requests (up to 100,000), in completion order.</summary>
    public List<EmulatorRequestRecord> Requests { get; init; } = new();
}
