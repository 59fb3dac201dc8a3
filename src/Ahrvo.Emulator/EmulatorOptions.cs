using System.Globalization;

namespace Ahrvo.Emulator;

/// <summary>Command-line options, parsed by hand so the emulator needs no extra packages.</summary>
public sealed class EmulatorOptions
{
    public int Port { get; private set; }
    public string? CardsPath { get; private set; }
    public string? RoutesPath { get; private set; }
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
    public string RateLimitWindow { get; private set; } = EmulatorConfig.DefaultRateLimitWindow;
    public string RateLimitRetryAfter { get; private set; } = EmulatorConfig.DefaultRetryAfter;

    /// <summary>Rules from --fault/--faults, in order (first match wins, as in the config's "faults").</summary>
    public List<FaultRule> Faults { get; } = [];

    /// <summary>
    /// What --help prints. Written by hand, in a user's terms; a test checks that it names every entry of
    /// <see cref="OptionNames"/>, so an option cannot be added to the parser without being documented.
    /// </summary>
    public const string Usage = """
        ahrvo-emulator - a local, offline stand-in for the Ahrvo "Query Dedicated Funds Card Balance" API,
        to try scripts that use the Ahrvo.PowerShell module before they meet production. It listens on
        127.0.0.1 only, serves sample cards, and can be slowed down, rate limited or made to fail on demand.

        Usage: ahrvo-emulator [options]        (from the source tree: dotnet Ahrvo.Emulator.dll [options])
        Options are "--name value" or "--name=value"; when an option is given twice, the later one wins.

        Where it listens
          --port N               TCP port on 127.0.0.1. 0 or absent: a free port, chosen at start
                                 (read it from the AHRVO_EMULATOR_URL= line, see below).
          --parent-pid P         Stop when process P exits: pass your test script's $PID so that a
                                 crashed test run does not leave the emulator behind.

        Cards it serves
          --cards FILE           Load the cards from a .json array or a .csv file
                                 (header: card_id,card_number,available_balance,type[,currency]).
                                 Without --cards or --generate: the 12 sample cards it ships with,
                                 e.g. card201907021723076245 with 1468.87 USD.
          --generate N           Serve N generated cards instead (ids card2019 + 14 digits, balances
                                 0.00 to 10000.00, every 50th card Shared); the same N and seed always
                                 give the same cards.
          --seed S               Seed for --generate (default 1).

        The vendor's other endpoints (top-up, card details, funding orders...)
          --routes FILE          Answer these methods and paths from a route table: a JSON array of
                                 {"method","path","responses":[{"status","headers","body"}]}, the
                                 nth request to a route getting its nth response (the last repeats).
                                 Also set while it runs: PUT /_emulator/routes. See the tool's README.

        Credentials it expects (give Connect-Ahrvo the same ones)
          --api-key K            The x-api-key value (default emulator-api-key).
          --access-token T       The bearer token (default emulator-access-token).
          --issuance-disabled    Refuse every authenticated request with 403, as for an account whose
                                 card issuance is switched off.

        Slowness, rate limit and faults (all can also be changed while it runs: POST /_emulator/config)
          --latency-ms N         Add N ms to every balance request (default 0).
          --rate-limit N         Allow N requests per second for the whole account (all cards, all
                                 connections), then answer 429 RATE_LIMITED (default 0: no limit).
          --rate-limit-burst N   How many requests may come at once before the limit bites
                                 (default 0: N, one second's worth).
          --rate-limit-window W  How the limit counts: bucket (a token bucket, default), fixed (at
                                 most N in each second of the clock, as many gateways count) or
                                 sliding (at most N in any second before now).
          --rate-limit-retry-after S
                                 The Retry-After header of those 429s: seconds, an HTTP date, or
                                 "auto" (the seconds until a request is allowed again, at least 1).
                                 Default 1.
          --fault KIND:RATE[:once]
                                 Fail a share RATE (0 to 1) of the balance requests with KIND:
                                   500, 502, 503, 504, 408   that HTTP status with a JSON error body
                                   429                       Too Many Requests (no Retry-After; for
                                                             one, use the config's "retryAfter")
                                   reset                     the connection is dropped, no answer
                                   slow                      the answer comes after 5 s
                                   truncated, nonjson, html, emptybody
                                                             a broken answer (cut JSON, plain text,
                                                             a gateway's HTML page, an empty body)
                                 ":once" fails only a card's first attempt, so a client that retries
                                 gets every balance in the end. Which cards fail is chosen from the
                                 card id, so a run repeats exactly. Give it several times, or a comma
                                 list; --faults is the same option. The first matching rule wins.
                                 e.g. --faults 503:0.05:once,reset:0.02:once
                                 Timed outages (a whole window of 503s, a CDN's 520/522/524/530 HTML
                                 pages, resets or hanging requests)
                                 are set through POST /_emulator/config, see the tool's README.

          --help, -h, -?, /?     Show this text.

        When it is listening, it prints one line to stdout,
          AHRVO_EMULATOR_URL=http://127.0.0.1:<port>
        and then, on stderr, the Connect-Ahrvo line to paste into PowerShell. Ctrl+C stops it.

        Test scripts drive it over HTTP on the same port, without credentials:
          GET  /_emulator/stats          requests counted per card and per status
          POST /_emulator/reset          zero the counters (?config=true: also undo config changes)
          GET  /_emulator/config         the live settings;  POST: change some of them
          GET  /_emulator/routes         the route table;  PUT: replace it;  DELETE: clear it
          GET  /_emulator/cards[/{id}]   the cards;  PUT /_emulator/cards/{id}: add or change one
                                         (e.g. set its balance low);  DELETE: remove one
        """;

    // One entry per option: the parser knows only what is listed here, and OptionNames (which the
    // help tests read) is derived from it. A flag without a value gets the inline "=value" or null.
    private sealed record Option(string[] Names, bool TakesValue, Action<EmulatorOptions, string, string?> Apply);

    private static readonly Option[] Table =
    [
        new(["--help", "-h", "-?", "/?"], false, (o, _, _) => o.ShowHelp = true),
        new(["--port"], true, (o, n, v) => o.Port = ParseInt(n, v!, 0, 65535)),
        new(["--cards"], true, (o, _, v) => o.CardsPath = v),
        new(["--routes"], true, (o, _, v) => o.RoutesPath = v),
        new(["--generate"], true, (o, n, v) => o.GenerateCount = ParseInt(n, v!, 0, 50_000_000)),
        new(["--seed"], true, (o, n, v) => o.Seed = ParseInt(n, v!, int.MinValue, int.MaxValue)),
        new(["--latency-ms"], true, (o, n, v) => o.LatencyMs = ParseInt(n, v!, 0, int.MaxValue)),
        new(["--api-key"], true, (o, _, v) => o.ApiKey = v!),
        new(["--access-token"], true, (o, _, v) => o.AccessToken = v!),
        new(["--issuance-disabled"], false, (o, _, v) => o.IssuanceDisabled = v is null || bool.Parse(v)),
        new(["--rate-limit"], true, (o, n, v) => o.RateLimitPerSecond = ParseInt(n, v!, 0, int.MaxValue)),
        new(["--rate-limit-burst"], true, (o, n, v) => o.RateLimitBurst = ParseInt(n, v!, 0, int.MaxValue)),
        new(["--rate-limit-window"], true, (o, _, v) => o.RateLimitWindow = v!),
        new(["--rate-limit-retry-after"], true, (o, _, v) => o.RateLimitRetryAfter = v!),
        new(["--fault", "--faults"], true, (o, n, v) =>
        {
            foreach (var spec in v!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                o.Faults.Add(ParseFault(n, spec, seed: o.Faults.Count + 1));
            }
        }),
        new(["--parent-pid"], true, (o, n, v) => o.ParentPid = ParseInt(n, v!, 1, int.MaxValue)),
    ];

    private static readonly Dictionary<string, Option> ByName =
        Table.SelectMany(t => t.Names.Select(n => (n, t))).ToDictionary(p => p.n, p => p.t, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every name the parser accepts, aliases included, in table order.</summary>
    public static IReadOnlyList<string> OptionNames { get; } = Table.SelectMany(t => t.Names).ToArray();

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

            if (!ByName.TryGetValue(name, out var option))
            {
                throw new ArgumentException($"Unknown option '{arg}'. Use --help to list the options.");
            }
            string? value = inlineValue;
            if (option.TakesValue && value is null)
            {
                if (i + 1 >= args.Count) throw new ArgumentException($"{name} needs a value.");
                value = args[++i];
            }
            option.Apply(o, name, value);
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
            ["rateLimitWindow"] = RateLimitWindow,
            ["rateLimitRetryAfter"] = RateLimitRetryAfter,
        };
        EmulatorConfig merged;
        try
        {
            merged = EmulatorConfig.Merge(new EmulatorConfig(), patch);
        }
        catch (ConfigException ex)
        {
            throw new ArgumentException(ex.Message.Replace("'rateLimitRetryAfter'", "--rate-limit-retry-after", StringComparison.Ordinal).Replace("'rateLimitWindow'", "--rate-limit-window", StringComparison.Ordinal), ex);
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
