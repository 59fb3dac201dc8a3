using System.Text;
using System.Text.Json.Serialization;

namespace Ahrvo.Emulator;

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
