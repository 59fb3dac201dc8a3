using System.Globalization;

namespace Ahrvo.Emulator;

/// <summary>Command-line options, parsed by hand so the emulator needs no extra packages.</summary>
public sealed class EmulatorOptions
{
    public int Port { get; private set; }
    public string? CardsPath { get; private set; }
    public int? GenerateCount { get; private set; }
    public int Seed { get; private set; } = CardGenerator.DefaultSeed;
    public int LatencyMs { get; private set; }
    public string ApiKey { get; private set; } = EmulatorDefaults.ApiKey;
    public string AccessToken { get; private set; } = EmulatorDefaults.AccessToken;
    public bool IssuanceDisabled { get; private set; }
    public int? ParentPid { get; private set; }
    public bool ShowHelp { get; private set; }
    public int RateLimitPerSecond { get; private set; }
    public int RateLimitBurst { get; private set; }
    public string RateLimitRetryAfter { get; private set; } = EmulatorConfig.DefaultRetryAfter;

    /// <summary>Rules from --fault/--faults, in order (first match wins, as in the config's "faults").</summary>
    public List<FaultRule> Faults { get; } = [];

    public const string Usage = """
        Ahrvo.Emulator - local emulator of the Ahrvo "Query Dedicated Funds Card Balance" API.

        Usage: dotnet Ahrvo.Emulator.dll [options]

          --port N               Port on 127.0.0.1 (0 or absent: a free port).
          --cards FILE           Load cards from a .json array or a .csv file
                                 (header: card_id,card_number,available_balance,type[,currency]).
          --generate N           Generate N deterministic cards instead of loading a file.
          --seed S               Seed for --generate (default 1).
          --latency-ms N         Delay added to every balance request (default 0).
          --api-key K            Expected x-api-key (default emulator-api-key).
          --access-token T       Expected bearer token (default emulator-access-token).
          --issuance-disabled    Answer every authenticated request with 403.
          --rate-limit N         Account-wide token bucket: N requests/s, then 429 (default 0: off).
          --rate-limit-burst N   Bucket capacity (default 0: N, one second's worth).
          --rate-limit-retry-after S
                                 Retry-After of those 429s: seconds, an HTTP date, or "auto"
                                 (seconds until a token is free, at least 1). Default 1.
          --fault KIND:RATE[:once]
                                 Add a fault rule: KIND (503, 429, reset, 500, ...) with probability
                                 RATE (0..1) per request; ":once" fails only a card's first attempt.
                                 Repeatable, and a value may be a comma list; --faults is the same.
                                 Rule i (1-based, over all --fault flags) gets seed i, so rules pick
                                 independent cards; the first matching rule wins.
                                 e.g. --faults 503:0.01:once,reset:0.01:once
          --parent-pid P         Exit when process P exits (harnesses pass their own pid).
          --help                 Show this text.

        Without --cards or --generate, cards/sample-cards.json next to the dll is loaded.
        When listening, one line is printed to stdout: AHRVO_EMULATOR_URL=http://127.0.0.1:<port>
        """;

    /// <summary>Parses args; later flags win, so harnesses can put defaults first. Throws ArgumentException on bad input.</summary>
    public static EmulatorOptions Parse(IReadOnlyList<string> args)
    {
        var o = new EmulatorOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inlineValue = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                inlineValue = arg[(eq + 1)..];
            }

            string Value()
            {
                if (inlineValue is not null) return inlineValue;
                if (i + 1 >= args.Count) throw new ArgumentException($"{name} needs a value.");
                return args[++i];
            }

            switch (name.ToLowerInvariant())
            {
                case "--help" or "-h" or "-?" or "/?":
                    o.ShowHelp = true;
                    break;
                case "--port":
                    o.Port = ParseInt(name, Value(), 0, 65535);
                    break;
                case "--cards":
                    o.CardsPath = Value();
                    break;
                case "--generate":
                    o.GenerateCount = ParseInt(name, Value(), 0, 50_000_000);
                    break;
                case "--seed":
                    o.Seed = ParseInt(name, Value(), int.MinValue, int.MaxValue);
                    break;
                case "--latency-ms":
                    o.LatencyMs = ParseInt(name, Value(), 0, int.MaxValue);
                    break;
                case "--api-key":
                    o.ApiKey = Value();
                    break;
                case "--access-token":
                    o.AccessToken = Value();
                    break;
                case "--issuance-disabled":
                    o.IssuanceDisabled = inlineValue is null || bool.Parse(inlineValue);
                    break;
                case "--rate-limit":
                    o.RateLimitPerSecond = ParseInt(name, Value(), 0, int.MaxValue);
                    break;
                case "--rate-limit-burst":
                    o.RateLimitBurst = ParseInt(name, Value(), 0, int.MaxValue);
                    break;
                case "--rate-limit-retry-after":
                    o.RateLimitRetryAfter = Value();
                    break;
                case "--fault" or "--faults":
                    foreach (var spec in Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        o.Faults.Add(ParseFault(name, spec, seed: o.Faults.Count + 1));
                    }
                    break;
                case "--parent-pid":
                    o.ParentPid = ParseInt(name, Value(), 1, int.MaxValue);
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{arg}'. Use --help to list the options.");
            }
        }

        if (o.CardsPath is not null && o.GenerateCount is not null)
        {
            throw new ArgumentException("Use either --cards or --generate, not both.");
        }
        return o;
    }

    /// <summary>The startup config these options describe (validated like a config POST).</summary>
    public EmulatorConfig ToConfig()
    {
        var patch = new System.Text.Json.Nodes.JsonObject
        {
            ["rateLimitPerSecond"] = RateLimitPerSecond,
            ["rateLimitBurst"] = RateLimitBurst,
            ["rateLimitRetryAfter"] = RateLimitRetryAfter,
        };
        EmulatorConfig merged;
        try
        {
            merged = EmulatorConfig.Merge(new EmulatorConfig(), patch);
        }
        catch (ConfigException ex)
        {
            throw new ArgumentException(ex.Message.Replace("'rateLimitRetryAfter'", "--rate-limit-retry-after", StringComparison.Ordinal), ex);
        }
        return merged with
        {
            LatencyMs = LatencyMs,
            IssuanceDisabled = IssuanceDisabled,
            ApiKey = ApiKey,
            AccessToken = AccessToken,
            Faults = Faults.ToArray(),
        };
    }

    // KIND:RATE[:once]
    private static FaultRule ParseFault(string name, string spec, int seed)
    {
        string[] parts = spec.Split(':');
        bool once = parts.Length == 3 && parts[2].Equals("once", StringComparison.OrdinalIgnoreCase);
        if (parts.Length is < 2 or > 3 || (parts.Length == 3 && !once)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
        {
            throw new ArgumentException($"{name} expects KIND:RATE[:once] (e.g. 503:0.01:once), got '{spec}'.");
        }
        try
        {
            return new FaultRule { Kind = parts[0], Rate = rate, FirstAttemptOnly = once, Seed = seed }.Validated();
        }
        catch (ConfigException ex)
        {
            throw new ArgumentException($"{name} '{spec}': {ex.Message}", ex);
        }
    }

    private static int ParseInt(string name, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
        {
            throw new ArgumentException($"{name} expects an integer from {min} to {max}, got '{value}'.");
        }
        return n;
    }
}
