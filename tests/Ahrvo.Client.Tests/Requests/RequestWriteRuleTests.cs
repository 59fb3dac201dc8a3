using System.Net.Sockets;
using Ahrvo.Client.Requests;
using Ahrvo.Client.Tests.Support;
using CsCheck;
using Xunit;

namespace Ahrvo.Client.Tests.Requests;

/// <summary>
/// The write rule over the whole space of first outcomes: every 5xx status, 408, a reset after
/// sending, a timeout, a 429 with any Retry-After, a connection refused before sending; for every
/// method, with and without an Idempotency-Key. The whole client against an in-memory API on a
/// fake clock. CsCheck prints the seed of a failing case ("Set seed: ...") to replay it.
/// </summary>
public sealed class RequestWriteRuleTests
{
    private static readonly string[] AllMethods = { "GET", "POST", "PUT", "PATCH", "DELETE" };

    /// <summary>What went wrong with the first attempt (the second, if any, is answered 200).</summary>
    public sealed record First(string Kind, int Status, int RetryAfter)
    {
        public override string ToString() => Kind switch
        {
            "status" => "HTTP " + Status,
            "throttle" => "HTTP 429, Retry-After " + (RetryAfter < 0 ? "none" : RetryAfter + " s"),
            _ => Kind,
        };
    }

    private static readonly Gen<First> Firsts = Gen.OneOf(
        Gen.Int[500, 599].Select(s => new First("status", s, -1)),
        Gen.Const(new First("status", 408, -1)),
        Gen.Const(new First("reset", 0, -1)),
        Gen.Const(new First("timeout", 0, -1)),
        Gen.Const(new First("refused", 0, -1)),
        Gen.Int[-1, 45].Select(r => new First("throttle", 429, r)));

    private static async Task<HttpResponseMessage> Fail(First first, CancellationToken ct)
    {
        switch (first.Kind)
        {
            case "reset":
                // As SocketsHttpHandler reports a connection reset once the request was written.
                throw new HttpRequestException("An error occurred while sending the request.",
                    new IOException("Unable to read data from the transport connection: Connection reset by peer.", new SocketException((int)SocketError.ConnectionReset)));
            case "refused":
                // As it reports a connect that failed: no stream was ever opened.
                throw new HttpRequestException("Connection refused (api.example.test:443)", new SocketException((int)SocketError.ConnectionRefused));
            case "timeout":
                await Task.Delay(Timeout.Infinite, ct);
                throw new InvalidOperationException("unreachable: the attempt's token ends the wait");
            default:
                var r = RecordingApi.Json(first.Status, $$"""{"code":"E{{first.Status}}","message":"scripted"}""");
                if (first.RetryAfter >= 0) r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(first.RetryAfter));
                return r;
        }
    }

    /// <summary>Whether the outcome could mean the request reached the server (and a write may have been applied).</summary>
    private static bool MayHaveReached(First f) => f.Kind is "reset" or "timeout" || (f.Kind == "status" && (f.Status == 408 || f.Status >= 500));

    /// <summary>Whether a read would retry it (the balance query's rules).</summary>
    private static bool Transient(First f) => f.Kind != "status" || (f.Status != 501 && f.Status != 505);

    [Fact]
    public void A_write_is_never_sent_again_once_it_may_have_reached_the_server_and_is_retried_only_when_it_certainly_was_not()
    {
        Gen.Select(Gen.Int[0, AllMethods.Length - 1], Gen.Bool, Firsts).Sample((m, withKey, first) =>
        {
            var method = AllMethods[m];
            bool write = method != "GET";
            var clock = new SteppedClock();
            var api = new RecordingApi(clock, (s, ct) => s.Number == 1 ? Fail(first, ct) : Task.FromResult(RecordingApi.Ok()));
            using var client = InMemoryClient.Create(api, clock);
            var request = new ApiRequest(method, "/card/issuance/api/issuing/card/v2/normal/topup") { Body = write && method != "DELETE" ? """{"amount":"10.00"}""" : null };
            if (withKey) request.IdempotencyKey = "key-" + m;
            var response = clock.RunAsync(client.SendAsync(request)).GetAwaiter().GetResult();
            string what = $"{method}{(withKey ? " with a key" : "")} after {first}: {api.Count} sent, {response.Error?.Kind.ToString() ?? "success"} ({response.Error?.Message})";

            if (first.Kind is "throttle" or "refused")
            {
                // Certainly not processed: sent again, whatever the method.
                Assert.True(api.Count == 2 && response.Success, what);
                if (first.Kind == "throttle" && first.RetryAfter > 0)
                {
                    var gap = api.Requests[1].At - api.Requests[0].At;
                    var asked = TimeSpan.FromSeconds(Math.Min(first.RetryAfter, client.Options.MaxRetryDelay.TotalSeconds));
                    Assert.True(gap >= asked, $"{what}: sent again after {gap}, before the {asked} asked for");
                }
            }
            else if (write && !withKey)
            {
                // May have been applied: exactly once, and its own kind, never a plain failure.
                Assert.True(api.Count == 1, what);
                Assert.True(response.Error?.Kind == AhrvoErrorKind.MayHaveBeenApplied, what);
                Assert.Contains("may have been applied: check before retrying", response.Error!.Message);
                Assert.Equal(first.Kind == "status" ? first.Status : null, response.StatusCode);
            }
            else if (Transient(first))
            {
                // A read, or a write with an Idempotency-Key: retried like a balance query.
                Assert.True(api.Count == 2 && response.Success, what);
                if (withKey) Assert.All(api.Requests, s => Assert.Equal("key-" + m, s.Headers["Idempotency-Key"]));
            }
            else
            {
                // 501 or 505: asking again will not help, and a write's fate stays unknown.
                Assert.True(api.Count == 1, what);
                Assert.True(response.Error?.Kind == (write ? AhrvoErrorKind.MayHaveBeenApplied : AhrvoErrorKind.UnexpectedStatus), what);
            }
            Assert.Equal(withKey, api.Requests[0].Headers.ContainsKey("Idempotency-Key"));
            Assert.True(MayHaveReached(first) || first.Kind is "throttle" or "refused", "the generator's cases are all classified");
        }, iter: 400);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task A_write_with_a_key_that_kept_failing_ends_as_may_have_been_applied_not_as_a_plain_failure(string method)
    {
        var clock = new SteppedClock();
        var api = new RecordingApi(clock, _ => RecordingApi.Json(503, """{"code":"SERVICE_UNAVAILABLE","message":"down"}"""));
        using var client = InMemoryClient.Create(api, clock, o => o.MaxRetries = 2);
        var response = await clock.RunAsync(client.SendAsync(new ApiRequest(method, "/card/issuance/api/x") { IdempotencyKey = "k1" }));
        Assert.Equal(AhrvoErrorKind.MayHaveBeenApplied, response.Error?.Kind);
        Assert.Equal(3, api.Count);
        Assert.Contains("Idempotency-Key", response.Error!.Message);
    }

    [Fact]
    public async Task A_write_throttled_until_its_time_ran_out_certainly_was_not_processed_and_says_so()
    {
        var clock = new SteppedClock();
        var api = new RecordingApi(clock, _ =>
        {
            var r = RecordingApi.Json(429, """{"code":"RATE_LIMITED","message":"Too many requests."}""");
            r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(5));
            return r;
        });
        using var client = InMemoryClient.Create(api, clock, o => o.TotalTimeout = TimeSpan.FromSeconds(12));
        var response = await clock.RunAsync(client.SendAsync(new ApiRequest("POST", "/card/issuance/api/x") { Body = "{}" }));
        Assert.Equal(AhrvoErrorKind.ServiceUnavailable, response.Error?.Kind);
        Assert.True(response.Error!.Throttled);
        Assert.Contains("not processed", response.Error.Message);
        Assert.True(api.Count >= 2, $"{api.Count} sent");
    }

    [Fact]
    public async Task A_write_refused_with_401_is_sent_once_more_with_a_renewed_token_since_nothing_was_processed()
    {
        var clock = new SteppedClock();
        int tokens = 0;
        var api = new RecordingApi(clock, s => s.Number == 1
            ? RecordingApi.Json(401, """{"code":"UNAUTHORIZED","message":"expired"}""")
            : RecordingApi.Ok());
        using var client = InMemoryClient.Create(api, clock, o => o.AccessTokenProvider = _ => Task.FromResult(TestSecrets.Secure("token-" + Interlocked.Increment(ref tokens))));
        var response = await clock.RunAsync(client.SendAsync(new ApiRequest("POST", "/card/issuance/api/x") { Body = "{}" }));
        Assert.True(response.Success, response.Error?.Message);
        Assert.Equal(2, api.Count);
        Assert.NotEqual(api.Requests[0].Headers["Authorization"], api.Requests[1].Headers["Authorization"]);
    }
}
