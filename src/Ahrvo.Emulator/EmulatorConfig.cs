using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

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
                _ => throw new ConfigException($"Unknown config property '{name}'. Known: latencyMs, issuanceDisabled, faults, failAll, rateLimitPerSecond, rateLimitBurst, rateLimitRetryAfter, outages, redirectTo, apiKey, accessToken."),
            };
        }
        return c;
    }

    public const string DefaultRetryAfter = "1";
    public const string AutoRetryAfter = "auto";

    /// <summary>True when the patch sets the rate limit, which refills the bucket.</summary>
    public static bool TouchesRateLimit(JsonObject patch) =>
        patch.Any(p => p.Key.Equals("rateLimitPerSecond", StringComparison.OrdinalIgnoreCase)
                    || p.Key.Equals("rateLimitBurst", StringComparison.OrdinalIgnoreCase));

    /// <summary>The config as GET /_emulator/config shows it: outages' startMs counted from now.</summary>
    public EmulatorConfig ForDisplay(TimeProvider time)
    {
        if (Outages.Count == 0) return this;
        long now = time.GetTimestamp();
        return this with { Outages = Outages.Select(o => o.RelativeTo(now, time.TimestampFrequency)).ToArray() };
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

/// <summary>One fault rule of the "faults" list. Defaults: rate 1 (every matching request), delayMs 5000, seed 1.</summary>
public sealed record FaultRule
{
    public static readonly string[] Kinds =
        ["500", "502", "503", "504", "429", "408", "reset", "slow", "truncated", "nonjson", "html", "emptybody", "body"];

    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? Kind { get; init; }

    /// <summary>Probability 0..1, decided from hash(seed, cardId, attempt) so runs are reproducible.</summary>
    public double Rate { get; init; } = 1.0;

    /// <summary>When > 0, the first N attempts of each card fail and later ones pass (rate is ignored).</summary>
    public int FirstAttempts { get; init; }

    /// <summary>The rule can fire only on a card's first attempt; rate then picks which cards (each fails once).</summary>
    public bool FirstAttemptOnly { get; init; }

    /// <summary>Restricts the rule to these card ids (a single string is accepted too).</summary>
    [JsonConverter(typeof(StringListConverter))]
    public List<string>? CardIds { get; init; }

    /// <summary>Retry-After value for 429 and 503: delta seconds or an HTTP date. Omitted when null.</summary>
    [JsonConverter(typeof(StringOrNumberConverter))]
    public string? RetryAfter { get; init; }

    public int DelayMs { get; init; } = 5000;
    public int Seed { get; init; } = 1;

    /// <summary>For kind "body": status (default 200), content type (default application/json), and body text or bytes.</summary>
    public int? Status { get; init; }
    public string? ContentType { get; init; }
    public string? Body { get; init; }
    public string? BodyBase64 { get; init; }

    /// <summary>For kind "body": repeat the body N times, to plant e.g. a 10 MB response from a short config.</summary>
    public int Repeat { get; init; } = 1;

    [JsonIgnore] internal HashSet<string>? CardIdSet { get; private init; }
    [JsonIgnore] internal byte[] BodyBytes { get; private init; } = [];

    internal FaultRule Validated()
    {
        string kind = EmulatorConfig.ValidateKind(Kind, allowNull: false)!;
        if (Rate is < 0 or > 1 || double.IsNaN(Rate)) throw new ConfigException("A fault's 'rate' must be between 0 and 1.");
        if (FirstAttempts < 0 || DelayMs < 0) throw new ConfigException("A fault's 'firstAttempts' and 'delayMs' must not be negative.");
        if (Repeat < 0) throw new ConfigException("A fault's 'repeat' must not be negative.");
        if (Status is < 100 or > 599) throw new ConfigException("A fault's 'status' must be an HTTP status code.");
        if (Body is not null && BodyBase64 is not null) throw new ConfigException("Give either 'body' or 'bodyBase64', not both.");

        byte[] one;
        try
        {
            one = BodyBase64 is not null ? Convert.FromBase64String(BodyBase64) : Encoding.UTF8.GetBytes(Body ?? "");
        }
        catch (FormatException)
        {
            throw new ConfigException("'bodyBase64' is not valid base64.");
        }
        var bytes = new byte[checked(one.Length * Repeat)];
        for (int i = 0; i < Repeat; i++) one.CopyTo(bytes, i * one.Length);

        return this with
        {
            Kind = kind,
            CardIdSet = CardIds is null ? null : new HashSet<string>(CardIds, StringComparer.Ordinal),
            BodyBytes = bytes,
        };
    }
}

public sealed class ConfigException(string message) : Exception(message);

/// <summary>A string that may arrive as a JSON number, since PowerShell hashtables often say kind = 503.</summary>
public sealed class StringOrNumberConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadValue(ref reader);

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    internal static string? ReadValue(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
        _ => throw new JsonException("Expected a string or a number."),
    };
}

/// <summary>Accepts "a" or ["a","b"]: ConvertTo-Json turns a one-element array into a plain string surprisingly often.</summary>
public sealed class StringListConverter : JsonConverter<List<string>?>
{
    public override bool HandleNull => true;

    public override List<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.StartArray:
                var list = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    list.Add(StringOrNumberConverter.ReadValue(ref reader) ?? throw new JsonException("Card ids cannot be null."));
                }
                return list;
            default:
                return [StringOrNumberConverter.ReadValue(ref reader) ?? ""];
        }
    }

    public override void Write(Utf8JsonWriter writer, List<string>? value, JsonSerializerOptions options)
    {
        if (value is null) { writer.WriteNullValue(); return; }
        writer.WriteStartArray();
        foreach (var s in value) writer.WriteStringValue(s);
        writer.WriteEndArray();
    }
}
