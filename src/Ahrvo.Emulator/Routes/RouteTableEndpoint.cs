using System.Diagnostics;
using System.Text;

namespace Ahrvo.Emulator;

/// <summary>
/// Requests to a route of the table (see <see cref="RouteTable"/>): the account's outage windows and
/// rate limit apply as to the balance endpoint (they are the account's, not one endpoint's); then the
/// route's next response: a gateway's one (5xx, 429, reset) at once, any other after the credentials
/// (401) and the issuance switch (403) are checked. Counted in the stats per route.
/// </summary>
public sealed class RouteTableEndpoint(EmulatorState state)
{
    private const int RecordedBodyBytes = 64 * 1024;

    public async Task<bool> TryHandleAsync(HttpContext ctx)
    {
        var routes = state.Routes;
        var path = ctx.Request.Path.Value ?? "/";
        var route = routes.Find(ctx.Request.Method, path);
        if (route == null) return false;

        long startedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long start = Stopwatch.GetTimestamp();
        var config = state.Config;
        // The request is read whole first (a reset then comes after the server had it all, as for a real write).
        var body = await ReadBodyAsync(ctx);
        var (response, number) = routes.Next(route);
        string? fault = null;
        int status;
        bool recorded = false;
        try
        {
            // A reset is counted before the connection drops: the client sees the reset at once,
            // and a test that reads the stats then must find the request (it did not, now and then).
            status = await AnswerAsync(ctx, config, response, b => fault = b, () => { Record(0); recorded = true; });
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            status = 499;
        }
        if (!recorded) Record(status);
        return true;

        void Record(int status) => state.Stats.CountRoute(route.Key, new EmulatorRequestRecord
        {
            Method = ctx.Request.Method,
            Path = path,
            Route = route.Key,
            RawQuery = ctx.Request.QueryString.HasValue ? ctx.Request.QueryString.Value![1..] : "",
            StartedAt = startedAt,
            EndedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            DurationMs = Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 3),
            Status = status,
            Fault = fault,
            Attempt = number,
            HeaderNames = ctx.Request.Headers.Select(h => h.Key).ToArray(),
            HasApiKey = ctx.Request.Headers.ContainsKey("x-api-key"),
            HasAuthorization = ctx.Request.Headers.ContainsKey("Authorization"),
            Accept = ctx.Request.Headers.Accept.Count > 0 ? ctx.Request.Headers.Accept.ToString() : null,
            UserAgent = ctx.Request.Headers.UserAgent.Count > 0 ? ctx.Request.Headers.UserAgent.ToString() : null,
            ContentType = ctx.Request.ContentType,
            IdempotencyKey = ctx.Request.Headers.TryGetValue("Idempotency-Key", out var key) ? key.ToString() : null,
            BodyBase64 = body.Length == 0 ? null : Convert.ToBase64String(body, 0, Math.Min(body.Length, RecordedBodyBytes)),
        });
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted);
        return ms.ToArray();
    }

    private async Task<int> AnswerAsync(HttpContext ctx, EmulatorConfig config, RouteResponse response, Action<string> setFault, Action beforeReset)
    {
        if (config.Outages.Count > 0 && OutageWindow.Select(config.Outages, state.Time.GetTimestamp()) is { } outage && outage.Kind != "hang")
        {
            setFault(outage.FaultName);
            if (outage.Kind == "reset") { beforeReset(); ctx.Abort(); return 0; }
            if (outage.RetryAfter is { } ra) ctx.Response.Headers.RetryAfter = ra;
            await Responses.WriteAsync(ctx, outage.Status, Responses.ForStatus(outage.Status));
            return outage.Status;
        }
        if (!state.TryAcquireRate(config, out var wait))
        {
            setFault("ratelimit");
            state.Stats.CountRateLimited();
            ctx.Response.Headers.RetryAfter = config.RateLimitRetryAfter == EmulatorConfig.AutoRetryAfter ? TokenBucket.AutoRetryAfter(wait) : config.RateLimitRetryAfter;
            await Responses.WriteAsync(ctx, 429, Responses.RateLimited);
            return 429;
        }
        if (response.DelayMs > 0) await Task.Delay(response.DelayMs, ctx.RequestAborted);
        if (!response.IsGateway)
        {
            if (!BalanceEndpoint.IsAuthorized(ctx.Request.Headers, config))
            {
                ctx.Response.Headers.WWWAuthenticate = "Bearer";
                await Responses.WriteAsync(ctx, 401, Responses.Unauthorized);
                return 401;
            }
            if (config.IssuanceDisabled)
            {
                await Responses.WriteAsync(ctx, 403, Responses.Forbidden);
                return 403;
            }
        }
        if (response.Fault == "reset")
        {
            setFault("reset");
            beforeReset();
            ctx.Abort();
            return 0;
        }
        if (response.IsGateway) setFault(response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var h in response.Headers) ctx.Response.Headers[h.Key] = h.Value;
        await Responses.WriteAsync(ctx, response.Status, response.Body, response.ContentType ?? Responses.JsonType);
        return response.Status;
    }
}
