namespace Ahrvo.Emulator;

public sealed class EmulatorRequestRecord
{
    /// <summary>The decoded card_id (several values joined with ","), or null when absent.</summary>
    public string? CardId { get; init; }

    /// <summary>The query string exactly as received, without the leading '?'.</summary>
    public string RawQuery { get; init; } = "";

    public long StartedAt { get; init; }
    public long EndedAt { get; init; }

    /// <summary>Time in the handler, in ms with microsecond precision (StartedAt/EndedAt are whole ms of wall clock).</summary>
    public double DurationMs { get; init; }

    /// <summary>HTTP status sent; 0 when the connection was aborted by a 'reset' fault, 499 when the client went away.</summary>
    public int Status { get; init; }

    /// <summary>Fault kind applied ("503", "slow", ...), "redirect", "ratelimit", or null.</summary>
    public string? Fault { get; init; }

    /// <summary>1-based count of requests for this card_id since the last reset.</summary>
    public int Attempt { get; init; }

    /// <summary>Names (never values) of the request headers received.</summary>
    public string[] HeaderNames { get; init; } = [];

    public bool HasApiKey { get; init; }
    public bool HasAuthorization { get; init; }

    /// <summary>Accept and User-Agent are not secret, and tests assert on them.</summary>
    public string? Accept { get; init; }
    public string? UserAgent { get; init; }

    /// <summary>The method and path (no query); for a request to a route of the route table, the route ("POST /card/...").</summary>
    public string? Method { get; init; }
    public string? Path { get; init; }
    public string? Route { get; init; }

    /// <summary>Route requests only: the request's Content-Type, its Idempotency-Key header (not a secret) and its body (the first 64 KB, base64).</summary>
    public string? ContentType { get; init; }
    public string? IdempotencyKey { get; init; }
    public string? BodyBase64 { get; init; }
}
