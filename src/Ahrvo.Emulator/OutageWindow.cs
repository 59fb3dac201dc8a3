using System.Text.Json.Serialization;

namespace Ahrvo.Emulator;

/// <summary>
/// One timed window of the "outages" list: from <see cref="StartMs"/> after the config POST that set it, for
/// <see cref="DurationMs"/>, every balance request gets <see cref="Kind"/>. The window is anchored to absolute
/// monotonic timestamps when merged, so later POSTs that do not mention "outages" leave it where it was.
/// </summary>
public sealed record OutageWindow
{
    // 520-530: a CDN in front of the API that cannot reach it (Cloudflare's codes), answered with
    // the CDN's HTML page, not the API's JSON.
    public static readonly string[] Kinds = ["503", "hang", "reset", "500", "502", "504", "429", "520", "522", "524", "530"];

    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? Kind { get; init; }

    /// <summary>On POST: ms after the POST was applied (negative: already started). On GET: ms from now.</summary>
    public long StartMs { get; init; }

    public long DurationMs { get; init; }

    /// <summary>Retry-After for the status kinds; the header is omitted when null.</summary>
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? RetryAfter { get; init; }

    /// <summary>Absolute TimeProvider timestamps: active while StartTimestamp &lt;= now &lt; EndTimestamp.</summary>
    [JsonIgnore] public long StartTimestamp { get; private init; }
    [JsonIgnore] public long EndTimestamp { get; private init; }

    /// <summary>"outage-&lt;kind&gt;", precomputed so the hot path does not allocate.</summary>
    [JsonIgnore] public string FaultName { get; private init; } = "";

    /// <summary>The HTTP status for the status kinds, 0 for hang and reset.</summary>
    [JsonIgnore] public int Status { get; private init; }

    // 10^12 ms is ~31 years; the bound keeps timestamp arithmetic far from overflow at any clock frequency.
    private const long MaxMs = 1_000_000_000_000;

    /// <summary>Validates the window and fixes it in time, relative to <paramref name="appliedTimestamp"/>.</summary>
    public OutageWindow Anchored(long appliedTimestamp, long timestampFrequency)
    {
        string kind = Kind?.Trim().ToLowerInvariant() ?? throw new ConfigException("An outage needs a 'kind'.");
        if (Array.IndexOf(Kinds, kind) < 0)
        {
            throw new ConfigException($"Unknown outage kind '{Kind}'. Known: {string.Join(", ", Kinds)}.");
        }
        if (DurationMs < 0 || DurationMs > MaxMs || Math.Abs(StartMs) > MaxMs)
        {
            throw new ConfigException($"An outage's 'durationMs' must be 0 to {MaxMs} and 'startMs' within ±{MaxMs}.");
        }
        long start = appliedTimestamp + ToTicks(StartMs, timestampFrequency);
        return this with
        {
            Kind = kind,
            StartTimestamp = start,
            EndTimestamp = start + ToTicks(DurationMs, timestampFrequency),
            FaultName = "outage-" + kind,
            Status = int.TryParse(kind, out int status) ? status : 0,
        };
    }

    /// <summary>The first window active at <paramref name="timestamp"/>, or null. No allocation.</summary>
    public static OutageWindow? Select(IReadOnlyList<OutageWindow> outages, long timestamp)
    {
        for (int i = 0; i < outages.Count; i++)
        {
            var o = outages[i];
            if (timestamp >= o.StartTimestamp && timestamp < o.EndTimestamp) return o;
        }
        return null;
    }

    /// <summary>This window as GET /_emulator/config shows it: startMs counted from <paramref name="nowTimestamp"/>.</summary>
    public OutageWindow RelativeTo(long nowTimestamp, long timestampFrequency) =>
        this with { StartMs = (long)Math.Round((StartTimestamp - nowTimestamp) * 1000.0 / timestampFrequency) };

    // Split so ms * frequency cannot overflow for a GHz clock.
    private static long ToTicks(long ms, long frequency) => ms / 1000 * frequency + ms % 1000 * frequency / 1000;
}
