using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace Ahrvo.Emulator;

/// <summary>
/// GET /card/issuance/api/issuing/card/v2/normal/balance?card_id=...
/// Order: redirect, outage window, server rate limit (token bucket), latency, injected fault, then the API's own checks:
/// auth (401), issuance switch (403), card_id syntax (400), existence (404), card type (400), 200.
/// Faults come before auth because they model the gateway in front of the API.
/// </summary>
public sealed partial class BalanceEndpoint(EmulatorState state)
{
    // \z, not $: "$" would accept a trailing newline.
    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CardIdPattern();

    public async Task HandleAsync(HttpContext ctx)
    {
        long startedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long startTimestamp = Stopwatch.GetTimestamp();
        var config = state.Config; // one snapshot for the whole request
        StringValues cardValues = ctx.Request.Query["card_id"];
        string? cardId = cardValues.Count switch { 0 => null, 1 => cardValues[0], _ => cardValues.ToString() };
        string cardKey = cardId ?? "";

        int attempt = state.Stats.BeginBalanceRequest(cardKey);
        var outcome = new BalanceOutcome();
        int? status = null;
        try
        {
            await ProcessAsync(ctx, config, cardValues, cardKey, attempt, outcome, startTimestamp);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            status = 499; // the client went away (nginx's convention)
        }
        catch
        {
            status = 500;
            throw;
        }
        finally
        {
            // In finally so a failing handler still leaves the concurrency gauge balanced.
            int sent = outcome.Aborted ? 0 : status ?? ctx.Response.StatusCode;
            state.Stats.EndBalanceRequest(Record(ctx, cardId, startedAt, startTimestamp, sent, outcome, attempt));
        }
    }

    private async Task ProcessAsync(HttpContext ctx, EmulatorConfig config, StringValues cardValues, string cardKey, int attempt, BalanceOutcome outcome, long startTimestamp)
    {
        if (config.RedirectTo is { } target)
        {
            outcome.Fault = "redirect";
            ctx.Response.StatusCode = StatusCodes.Status302Found;
            ctx.Response.Headers.Location = target + ctx.Request.Path.Value + ctx.Request.QueryString.Value;
            ctx.Response.ContentLength = 0;
            return;
        }

        // Count checked first so a config without outages reads no clock.
        if (config.Outages.Count > 0 && await ApplyOutageAsync(ctx, config, outcome)) return;

        if (!state.TryAcquireRate(config, out var wait))
        {
            outcome.Fault = "ratelimit";
            state.Stats.CountRateLimited();
            ctx.Response.Headers.RetryAfter = config.RateLimitRetryAfter == EmulatorConfig.AutoRetryAfter
                ? TokenBucket.AutoRetryAfter(wait)
                : config.RateLimitRetryAfter;
            await Responses.WriteAsync(ctx, 429, Responses.RateLimited);
            return;
        }

        if (config.LatencyMs > 0)
        {
            // Counted from the request's start, and precise: see PreciseDelay for why not Task.Delay.
            await state.Latency.DelayUntilAsync(startTimestamp + config.LatencyMs * Stopwatch.Frequency / 1000, ctx.RequestAborted);
        }

        if (FaultInjector.Select(config, cardKey, attempt) is { } rule)
        {
            outcome.Fault = rule.Kind;
            if (await FaultInjector.ApplyAsync(ctx, rule, state.Cards, cardKey, outcome)) return;
        }

        if (!IsAuthorized(ctx.Request.Headers, config))
        {
            ctx.Response.Headers.WWWAuthenticate = "Bearer";
            await Responses.WriteAsync(ctx, 401, Responses.Unauthorized);
            return;
        }

        if (config.IssuanceDisabled)
        {
            await Responses.WriteAsync(ctx, 403, Responses.Forbidden);
            return;
        }

        if (cardValues.Count != 1 || cardValues[0] is not { } id || !CardIdPattern().IsMatch(id))
        {
            await Responses.WriteAsync(ctx, 400, Responses.InvalidCardId);
            return;
        }

        if (!state.Cards.TryGet(id, out var entry))
        {
            await Responses.WriteAsync(ctx, 404, Responses.CardNotFound);
            return;
        }

        if (entry.Card.IsShared)
        {
            await Responses.WriteAsync(ctx, 400, Responses.NotDedicated);
            return;
        }

        await Responses.WriteAsync(ctx, 200, entry.SuccessBody);
    }

    /// <summary>
    /// Applies the outage window active now, if any. Returns true when a response was written (or the connection
    /// aborted); false to continue normally, which is also how a "hang" ends: once its window closes, the request
    /// is checked again (a following window may apply) and then answered as usual.
    /// </summary>
    private async Task<bool> ApplyOutageAsync(HttpContext ctx, EmulatorConfig config, BalanceOutcome outcome)
    {
        var time = state.Time;
        while (OutageWindow.Select(config.Outages, time.GetTimestamp()) is { } outage)
        {
            outcome.Fault = outage.FaultName;
            switch (outage.Kind)
            {
                case "hang":
                    var remaining = time.GetElapsedTime(time.GetTimestamp(), outage.EndTimestamp);
                    // Rounded up: timers count whole ms, and a sub-ms delay of 0 would spin until the window ends.
                    if (remaining > TimeSpan.Zero)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds)), time, ctx.RequestAborted);
                    }
                    continue;
                case "reset":
                    outcome.Aborted = true;
                    ctx.Abort();
                    return true;
                default:
                    if (outage.RetryAfter is { } retryAfter) ctx.Response.Headers.RetryAfter = retryAfter;
                    if (outage.Status >= 520) await Responses.WriteAsync(ctx, outage.Status, Responses.CdnPage(outage.Status), "text/html");
                    else await Responses.WriteAsync(ctx, outage.Status, Responses.ForStatus(outage.Status));
                    return true;
            }
        }
        return false;
    }

    /// <summary>Exact match, one value each: a duplicated header counts as wrong, as a strict gateway would treat it.</summary>
    internal static bool IsAuthorized(IHeaderDictionary headers, EmulatorConfig config)
    {
        var auth = headers.Authorization;
        var key = headers["x-api-key"];
        return auth.Count == 1 && key.Count == 1
            && auth[0] is { } a && a.StartsWith("Bearer ", StringComparison.Ordinal)
            && a.AsSpan(7).SequenceEqual(config.AccessToken)
            && string.Equals(key[0], config.ApiKey, StringComparison.Ordinal);
    }

    private static EmulatorRequestRecord Record(HttpContext ctx, string? cardId, long startedAt, long startTimestamp, int status, BalanceOutcome outcome, int attempt)
    {
        var headers = ctx.Request.Headers;
        var names = new string[headers.Count];
        int i = 0;
        foreach (var h in headers) names[i++] = h.Key;

        string? query = ctx.Request.QueryString.Value;
        return new EmulatorRequestRecord
        {
            CardId = cardId,
            RawQuery = string.IsNullOrEmpty(query) ? "" : query[1..],
            StartedAt = startedAt,
            EndedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            DurationMs = Math.Round(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, 3),
            Status = status,
            Fault = outcome.Fault,
            Attempt = attempt,
            HeaderNames = names,
            HasApiKey = headers.ContainsKey("x-api-key"),
            HasAuthorization = headers.ContainsKey("Authorization"),
            Accept = headers.Accept.Count > 0 ? headers.Accept.ToString() : null,
            UserAgent = headers.UserAgent.Count > 0 ? headers.UserAgent.ToString() : null,
        };
    }
}
