using System.Text;

namespace Ahrvo.Emulator;

/// <summary>Chooses and applies faults. Pure functions of (config, cardId, attempt), so runs are reproducible.</summary>
public static class FaultInjector
{
    /// <summary>failAll first, then the first rule in "faults" that matches this card and attempt.</summary>
    public static FaultRule? Select(EmulatorConfig config, string cardKey, int attempt)
    {
        if (config.FailAll is { } kind)
        {
            // failAll uses the same defaults as a bare rule; 429/503 get Retry-After: 1 so clients can back off.
            return FailAllRules.GetValueOrDefault(kind);
        }

        foreach (var rule in config.Faults)
        {
            if (rule.CardIdSet is { } ids && !ids.Contains(cardKey)) continue;
            if (Matches(rule, cardKey, attempt)) return rule;
        }
        return null;
    }

    public static bool Matches(FaultRule rule, string cardKey, int attempt)
    {
        if (rule.FirstAttemptOnly && attempt != 1) return false;
        if (rule.FirstAttempts > 0) return attempt <= rule.FirstAttempts;
        if (rule.Rate >= 1) return true;
        if (rule.Rate <= 0) return false;
        return Unit(rule.Seed, cardKey, attempt) < rule.Rate;
    }

    /// <summary>Deterministic value in [0,1) from (seed, cardId, attempt): FNV-1a over the inputs, then SplitMix64.</summary>
    public static double Unit(int seed, string cardKey, int attempt)
    {
        ulong h = 14695981039346656037UL;
        void Add(uint v)
        {
            for (int i = 0; i < 4; i++, v >>= 8) h = (h ^ (v & 0xFF)) * 1099511628211UL;
        }
        Add((uint)seed);
        foreach (char c in cardKey) Add(c);
        Add((uint)attempt);
        return (CardGenerator.Mix(h) >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>
    /// Writes the fault's response. Returns false when the request should continue normally
    /// (kind "slow" after its delay). Sets <paramref name="outcome"/>.Aborted for "reset".
    /// </summary>
    public static async Task<bool> ApplyAsync(HttpContext ctx, FaultRule rule, CardStore store, string cardKey, BalanceOutcome outcome)
    {
        switch (rule.Kind)
        {
            case "slow":
                await Task.Delay(rule.DelayMs, ctx.RequestAborted);
                return false;

            case "reset":
                outcome.Aborted = true;
                ctx.Abort();
                return true;

            case "429" or "503":
                if (rule.RetryAfter is { } retryAfter) ctx.Response.Headers.RetryAfter = retryAfter;
                await Responses.WriteAsync(ctx, int.Parse(rule.Kind), Responses.ForStatus(int.Parse(rule.Kind)));
                return true;

            case "500" or "502" or "504" or "408":
                await Responses.WriteAsync(ctx, int.Parse(rule.Kind), Responses.ForStatus(int.Parse(rule.Kind)));
                return true;

            case "truncated":
                // A well-formed HTTP 200 whose JSON stops mid-document.
                byte[] full = store.TryGet(cardKey, out var entry) ? entry.SuccessBody : SampleBody;
                await Responses.WriteAsync(ctx, 200, full[..(full.Length / 2)]);
                return true;

            case "nonjson":
                await Responses.WriteAsync(ctx, 200, Responses.NonJson, "text/plain; charset=utf-8");
                return true;

            case "html":
                await Responses.WriteAsync(ctx, 502, Responses.HtmlGateway, "text/html");
                return true;

            case "emptybody":
                // Claims JSON but sends nothing, the usual shape of a broken proxy.
                await Responses.WriteAsync(ctx, 200, [], Responses.JsonType);
                return true;

            case "body":
                await Responses.WriteAsync(ctx, rule.Status ?? 200, rule.BodyBytes, rule.ContentType ?? Responses.JsonType);
                return true;

            default:
                throw new InvalidOperationException($"Unhandled fault kind '{rule.Kind}'.");
        }
    }

    private static readonly byte[] SampleBody =
        Encoding.UTF8.GetBytes("""{"code":"SUCCESS","data":{"card_number":"5157********2686","available_balance":"1468.87"}}""");

    private static readonly Dictionary<string, FaultRule> FailAllRules = FaultRule.Kinds.ToDictionary(
        k => k,
        k => new FaultRule { Kind = k, RetryAfter = k is "429" or "503" ? "1" : null }.Validated());
}
