using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ahrvo.Emulator;

/// <summary>
/// The live, run-time configuration. Immutable: POST /_emulator/config builds a new instance and swaps
/// the reference, so a request always sees one consistent snapshot without locking.
/// </summary>
public sealed record EmulatorConfig
{
    public int LatencyMs { get; init; }
    public bool IssuanceDisabled { get; init; }
    public IReadOnlyList<FaultRule> Faults { get; init; } = [];
    public string? FailAll { get; init; }
    public int RateLimitPerSecond { get; init; }

    /// <summary>Token bucket capacity; 0 means one second's worth (= RateLimitPerSecond).</summary>
    public int RateLimitBurst { get; init; }

    /// <summary>How the rate limit counts: "bucket" (a token bucket, the default), "fixed" (at most the limit in each second of the clock) or "sliding" (in any second before now); see WindowLimiter.</summary>
    public string RateLimitWindow { get; init; } = DefaultRateLimitWindow;

    /// <summary>Retry-After of the rate limiter's 429s: delta seconds, an HTTP date, or "auto" (seconds until a token is free).</summary>
    public string RateLimitRetryAfter { get; init; } = DefaultRetryAfter;

    /// <summary>Timed windows, anchored to absolute timestamps when merged (see OutageWindow).</summary>
    public IReadOnlyList<OutageWindow> Outages { get; init; } = [];
    public string? RedirectTo { get; init; }
    public string ApiKey { get; init; } = EmulatorDefaults.ApiKey;
    public string AccessToken { get; init; } = EmulatorDefaults.AccessToken;

    /// <summary>
    /// Applies a JSON patch: properties present replace the current value (null clears it), absent ones are kept,
    /// unknown ones are rejected so a typo does not silently disable a test's fault.
    /// </summary>
    public static EmulatorConfig Merge(EmulatorConfig current, JsonObject patch) => Merge(current, patch, TimeProvider.System);

    /// <summary>As above; outages' startMs are counted from <paramref name="time"/>'s timestamp now.</summary>
    public static EmulatorConfig Merge(EmulatorConfig current, JsonObject patch, TimeProvider time)
    {
        long applied = time.GetTimestamp();
        var c = current;
        foreach (var (name, node) in patch)
        {
            c = name.ToLowerInvariant() switch
            {
                "latencyms" => c with { LatencyMs = NonNegative(name, Read<int?>(node, name) ?? 0) },
                "issuancedisabled" => c with { IssuanceDisabled = Read<bool?>(node, name) ?? false },
                "faults" => c with { Faults = (Read<List<FaultRule>?>(node, name) ?? []).Select(f => f.Validated()).ToList() },
                "failall" => c with { FailAll = ValidateKind(ReadString(node, name), allowNull: true) },
                "ratelimitpersecond" => c with { RateLimitPerSecond = NonNegative(name, Read<int?>(node, name) ?? 0) },
                "ratelimitburst" => c with { RateLimitBurst = NonNegative(name, Read<int?>(node, name) ?? 0) },
                "ratelimitwindow" => c with { RateLimitWindow = ValidateWindow(name, ReadString(node, name)) ?? DefaultRateLimitWindow },
                "ratelimitretryafter" => c with { RateLimitRetryAfter = ValidateRetryAfter(name, ReadString(node, name)) ?? DefaultRetryAfter },
                "outages" => c with
                {
                    Outages = (Read<List<OutageWindow>?>(node, name) ?? [])
                        .Select(o => (o ?? throw new ConfigException("An outage cannot be null.")).Anchored(applied, time.TimestampFrequency))
                        .ToArray(),
                },
                "redirectto" => c with { RedirectTo = ValidateRedirect(ReadString(node, name)) },
                "apikey" => c with { ApiKey = ReadString(node, name) ?? throw new ConfigException("apiKey cannot be null.") },
                "accesstoken" => c with { AccessToken = ReadString(node, name) ?? throw new ConfigException("accessToken cannot be null.") },
                _ => throw new ConfigException($"Unknown config property '{name}'. Known: latencyMs, issuanceDisabled, faults, failAll, rateLimitPerSecond, rateLimitBurst, rateLimitWindow, rateLimitRetryAfter, outages, redirectTo, apiKey, accessToken."),
            };
        }
        return c;
    }

    public const string DefaultRetryAfter = "1";
    public const string DefaultRateLimitWindow = "bucket";
    public const string AutoRetryAfter = "auto";

    /// <summary>True when the patch sets the rate limit, which refills the bucket.</summary>
    public static bool TouchesRateLimit(JsonObject patch) =>
        patch.Any(p => p.Key.Equals("rateLimitPerSecond", StringComparison.OrdinalIgnoreCase)
                    || p.Key.Equals("rateLimitBurst", StringComparison.OrdinalIgnoreCase)
                    || p.Key.Equals("rateLimitWindow", StringComparison.OrdinalIgnoreCase));

    /// <summary>The config as GET /_emulator/config shows it: outages' startMs counted from now.</summary>
    public EmulatorConfig ForDisplay(TimeProvider time)
    {
        if (Outages.Count == 0) return this;
        long now = time.GetTimestamp();
        return this with { Outages = Outages.Select(o => o.RelativeTo(now, time.TimestampFrequency)).ToArray() };
    }

    private static string? ValidateWindow(string name, string? value)
    {
        if (value is null) return null;
        string v = value.Trim().ToLowerInvariant();
        return v is "bucket" or "fixed" or "sliding" ? v : throw new ConfigException($"'{name}' must be \"bucket\", \"fixed\" or \"sliding\".");
    }

    // "auto", delta seconds, or an HTTP date; anything else would be a header clients cannot parse.
    private static string? ValidateRetryAfter(string name, string? value)
    {
        if (value is null) return null;
        string v = value.Trim();
        if (v.Equals(AutoRetryAfter, StringComparison.OrdinalIgnoreCase)) return AutoRetryAfter;
        if (v.Length > 0 && v.All(char.IsAsciiDigit)) return v;
        if (DateTimeOffset.TryParseExact(v, "r", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _)) return v;
        throw new ConfigException($"'{name}' must be \"auto\", whole seconds, or an HTTP date.");
    }

    private static T? Read<T>(JsonNode? node, string name)
    {
        try
        {
            return node is null ? default : node.Deserialize<T>(Json.ConfigOptions);
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"'{name}': {ex.Message}");
        }
    }

    // Numbers are accepted as their literal text: PowerShell hashtables often say failAll = 503.
    private static string? ReadString(JsonNode? node, string name) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => null,
        JsonValueKind.String => node.GetValue<string>(),
        JsonValueKind.Number => node.ToJsonString(),
        _ => throw new ConfigException($"'{name}' must be a string."),
    };

    private static int NonNegative(string name, int value) =>
        value >= 0 ? value : throw new ConfigException($"'{name}' must not be negative.");

    internal static string? ValidateKind(string? kind, bool allowNull)
    {
        if (kind is null)
        {
            return allowNull ? null : throw new ConfigException("A fault needs a 'kind'.");
        }
        string k = kind.Trim().ToLowerInvariant();
        return FaultRule.Kinds.Contains(k)
            ? k
            : throw new ConfigException($"Unknown fault kind '{kind}'. Known: {string.Join(", ", FaultRule.Kinds)}.");
    }

    private static string? ValidateRedirect(string? url)
    {
        if (string.IsNullOrEmpty(url)) return null;
        return Uri.TryCreate(url, UriKind.Absolute, out _) ? url.TrimEnd('/') : throw new ConfigException("'redirectTo' must be an absolute URL.");
    }
}
