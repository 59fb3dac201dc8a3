using System.Collections.Concurrent;
using System.Net;
using System.Security;
using System.Security.Authentication;
using System.Text;
using System.Text.RegularExpressions;
using Ahrvo.Client.Auth;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Resilience;
using Ahrvo.Client.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests;

/// <summary>
/// Every kind of error the client produces, in memory on a fake clock: it carries its facts (card,
/// status, attempts, which limit ended it...), and neither its texts nor the client's diagnostics
/// name a PowerShell parameter, cmdlet or environment variable: a C# caller has none of those.
/// The module words its own remedies (tests/Ahrvo.PowerShell.Tests/Errors/ErrorRecordsTests.cs).
/// </summary>
public sealed class AhrvoErrorTests(ITestOutputHelper log)
{
    private const string ApiKey = "test-api-key-0123";
    private const string Token = "test-token-4567";

    // A parameter (" -TimeoutSec", "(-Proxy"), not a hyphenated word such as Retry-After; a cmdlet; an environment variable.
    private static readonly Regex PowerShellWording = new(@"(?<![\w-])-[A-Z][A-Za-z]+\b|\b[A-Z][a-z]+-Ahrvo\w*|AHRVO_", RegexOptions.Compiled);

    private sealed record Outcome(BalanceResult Result, IReadOnlyList<string> Diagnostics);

    // An id refused before sending is not quoted back (it may hold control characters): the only error that names no card.
    private sealed record Scenario(string Name, AhrvoErrorKind Kind, Func<Task<Outcome>> Run, Action<AhrvoError> Facts, bool NamesCard = true);

    private static SecureString Secure(string s) => TestSecrets.Secure(s);

    private static HttpResponseMessage Json(int status, string body) =>
        new((HttpStatusCode)status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private sealed class Handler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        public int Sent;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Sent);
            return answer(request, cancellationToken);
        }
    }

    private static Handler Answer(Func<HttpResponseMessage> answer) => new((_, _) => Task.FromResult(answer()));

    private static Handler Throw(Func<Exception> failure) => new((_, _) => Task.FromException<HttpResponseMessage>(failure()));

    // Answers only when the attempt is given up: its timeout fires on the fake clock.
    private static Handler Hang() => new(async (_, ct) =>
    {
        await Task.Delay(Timeout.Infinite, ct);
        throw new InvalidOperationException("unreachable");
    });

    /// <summary>Reads one card (or several at once, returning the first that failed as <paramref name="kind"/>) with verbose and debug diagnostics on.</summary>
    private static async Task<Outcome> Read(HttpMessageHandler handler, Action<AhrvoClientOptions>? tune = null, string cardId = "card1",
        int cards = 1, AhrvoErrorKind? kind = null)
    {
        var clock = new SteppedClock();
        var options = new AhrvoClientOptions(new Uri("https://api.example.test/"), Secure(ApiKey), Secure(Token))
        {
            Time = clock,
            HandlerFactory = () => handler,
            RetryBaseDelay = TimeSpan.FromMilliseconds(100),
        };
        tune?.Invoke(options);
        var diagnostics = new ConcurrentQueue<string>();
        using var client = new AhrvoClient(options);
        var sink = new RequestDiagnostics(verbose: true, debug: true, m => diagnostics.Enqueue(m.Text));
        BalanceResult result;
        if (cards == 1)
            result = await clock.RunAsync(client.GetBalanceAsync(cardId, sink));
        else
        {
            var all = await clock.RunAsync(Task.WhenAll(Enumerable.Range(0, cards).Select(i => client.GetBalanceAsync(cardId + "-" + i, sink))));
            result = all.First(r => r.Error?.Kind == kind);
        }
        return new Outcome(result, diagnostics.ToArray());
    }

    private static IEnumerable<Scenario> Scenarios()
    {
        yield return new("404", AhrvoErrorKind.CardNotFound,
            () => Read(Answer(() => Json(404, """{"code":"CARD_NOT_FOUND","message":"No such card"}"""))),
            e => { Assert.Equal(404, e.HttpStatus); Assert.Equal("CARD_NOT_FOUND", e.ApiCode); Assert.Equal("No such card", e.ApiMessage); Assert.Equal(1, e.Attempts); });
        yield return new("400", AhrvoErrorKind.InvalidCard,
            () => Read(Answer(() => Json(400, """{"code":"INVALID_CARD","message":"Shared Funds card"}"""))),
            e => { Assert.Equal(400, e.HttpStatus); Assert.Equal("INVALID_CARD", e.ApiCode); Assert.Equal(1, e.Attempts); });
        yield return new("an id that cannot be sent", AhrvoErrorKind.InvalidCard,
            () => Read(Answer(() => throw new InvalidOperationException("nothing may be sent")), cardId: "card\u0001one"),
            e => { Assert.Null(e.HttpStatus); Assert.Equal(0, e.Attempts); Assert.Equal("card\u0001one", e.CardId); Assert.Contains("control character", e.Message); },
            NamesCard: false);
        // The server echoes the key: the message and the API message have it redacted.
        yield return new("401", AhrvoErrorKind.Unauthorized,
            () => Read(Answer(() => Json(401, "{\"code\":\"UNAUTHORIZED\",\"message\":\"bad key " + ApiKey + "\"}"))),
            e =>
            {
                Assert.Equal(401, e.HttpStatus);
                Assert.Equal("UNAUTHORIZED", e.ApiCode);
                Assert.DoesNotContain(ApiKey, e.ApiMessage);
                Assert.False(e.TokenProviderFailed);
                Assert.Contains("refused the access token or API key", e.Message);
            });
        yield return new("a token provider that fails after a 401", AhrvoErrorKind.Unauthorized,
            () => Read(Answer(() => Json(401, """{"code":"UNAUTHORIZED"}""")),
                o => o.AccessTokenProvider = _ => throw new TokenProviderException("The token script failed.")),
            e => { Assert.Equal(401, e.HttpStatus); Assert.True(e.TokenProviderFailed); Assert.IsType<TokenProviderException>(e.Exception); Assert.Equal(1, e.Attempts); });
        yield return new("403", AhrvoErrorKind.Forbidden,
            () => Read(Answer(() => Json(403, """{"code":"FORBIDDEN","message":"Issuance disabled"}"""))),
            e => { Assert.Equal(403, e.HttpStatus); Assert.Equal("FORBIDDEN", e.ApiCode); Assert.True(e.AffectsEveryCard); });
        yield return new("200 whose code is not SUCCESS", AhrvoErrorKind.ApiError,
            () => Read(Answer(() => Json(200, """{"code":"CARD_FROZEN","message":"Card is frozen."}"""))),
            e => { Assert.Equal(200, e.HttpStatus); Assert.Equal("CARD_FROZEN", e.ApiCode); Assert.Equal("Card is frozen.", e.ApiMessage); });
        yield return new("a body that is not JSON", AhrvoErrorKind.InvalidResponse,
            () => Read(Answer(() => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("<html>gateway</html>", Encoding.UTF8, "text/html") })),
            e => { Assert.Equal(200, e.HttpStatus); Assert.Equal(1, e.Attempts); });
        yield return new("a body over 1 MB", AhrvoErrorKind.InvalidResponse,
            () => Read(Answer(() => Json(200, "{\"code\":\"SUCCESS\",\"pad\":\"" + new string('x', 1_100_000) + "\"}"))),
            e => { Assert.Equal(200, e.HttpStatus); Assert.Contains("larger than 1 MB", e.Message); });
        // Retry-After 5 s, capped at 2 s: the wait is logged with the cap's value, then the budget runs out.
        yield return new("throttled until the budget ran out", AhrvoErrorKind.ServiceUnavailable,
            () => Read(Answer(() =>
                {
                    var r = Json(429, """{"code":"TOO_MANY","message":"slow down"}""");
                    r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(5));
                    return r;
                }), o => { o.TotalTimeout = TimeSpan.FromSeconds(10); o.MaxRetryDelay = TimeSpan.FromSeconds(2); }),
            e =>
            {
                Assert.Equal(429, e.HttpStatus);
                Assert.True(e.Throttled);
                Assert.Equal(AhrvoLimit.TotalTimeout, e.LimitReached);
                Assert.Equal(TimeSpan.FromSeconds(5), e.RetryAfter);
                Assert.InRange(e.Attempts, 3, 6);
                Assert.Contains("kept throttling", e.Message);
            });
        yield return new("HTTP 500 until the retries were used up", AhrvoErrorKind.ServiceUnavailable,
            () => Read(Answer(() => Json(500, """{"code":"E500"}""")), o => o.MaxRetries = 2),
            e => { Assert.Equal(500, e.HttpStatus); Assert.False(e.Throttled); Assert.Equal(AhrvoLimit.MaxRetries, e.LimitReached); Assert.Equal(3, e.Attempts); });
        yield return new("a network error until the retries were used up", AhrvoErrorKind.ServiceUnavailable,
            () => Read(Throw(() => new HttpRequestException("Connection refused (api.example.test:443)")), o => o.MaxRetries = 1),
            e =>
            {
                Assert.Null(e.HttpStatus);
                Assert.IsType<HttpRequestException>(e.Exception);
                Assert.Equal(AhrvoLimit.MaxRetries, e.LimitReached);
                Assert.Equal(2, e.Attempts);
                Assert.EndsWith("Connection refused (api.example.test:443).", e.Message); // a sentence: the module appends its remedy
            });
        yield return new("a host name that does not resolve", AhrvoErrorKind.ServiceUnavailable,
            () => Read(Throw(() => new HttpRequestException("Name or service not known (api.example.test:443)", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound)))),
            e =>
            {
                Assert.Null(e.HttpStatus);
                Assert.Equal(1, e.Attempts); // never answered: not retried
                Assert.Equal(AhrvoLimit.None, e.LimitReached);
                Assert.Contains("'api.example.test'", e.Message);
                Assert.Contains("DNS", e.RecommendedAction);
            });
        yield return new("no answer within the attempt timeout, no retry left", AhrvoErrorKind.Timeout,
            () => Read(Hang(), o => { o.MaxRetries = 0; o.AttemptTimeout = TimeSpan.FromSeconds(5); o.TotalTimeout = TimeSpan.FromSeconds(60); }),
            e => { Assert.Null(e.HttpStatus); Assert.Equal(AhrvoLimit.AttemptTimeout, e.LimitReached); Assert.Equal(TimeSpan.FromSeconds(5), e.TimeLimit); Assert.Equal(1, e.Attempts); Assert.NotNull(e.Exception); });
        yield return new("no answer before the card's budget ran out", AhrvoErrorKind.Timeout,
            () => Read(Hang(), o => { o.MaxRetries = 3; o.AttemptTimeout = TimeSpan.FromSeconds(30); o.TotalTimeout = TimeSpan.FromSeconds(10); }),
            // Attempts are cut at a third of the budget (the hang threshold before any answer): three in 10 s.
            e => { Assert.Equal(AhrvoLimit.TotalTimeout, e.LimitReached); Assert.Equal(TimeSpan.FromSeconds(10), e.TimeLimit); Assert.InRange(e.Attempts, 2, 3); Assert.Contains("10 s budget", e.Message); });
        yield return new("cancelled by something other than the caller", AhrvoErrorKind.Timeout,
            () => Read(Throw(() => new TaskCanceledException("the handler gave up"))),
            e => { Assert.Null(e.HttpStatus); Assert.IsType<TaskCanceledException>(e.Exception); Assert.Equal(AhrvoLimit.None, e.LimitReached); });
        // Many cards against a dead service: the breaker opens and the waiting cards give up at their budget.
        yield return new("a service down for longer than the budget", AhrvoErrorKind.CircuitOpen,
            () => Read(Answer(() => Json(503, """{"code":"E503"}""")), o => o.TotalTimeout = TimeSpan.FromSeconds(10), cards: 20, kind: AhrvoErrorKind.CircuitOpen),
            e => { Assert.Null(e.HttpStatus); Assert.Equal(AhrvoLimit.TotalTimeout, e.LimitReached); Assert.StartsWith("card1-", e.CardId); Assert.Contains("circuit open", e.Message); });
        yield return new("a redirect", AhrvoErrorKind.Redirect,
            () => Read(Answer(() => { var r = Json(302, "{}"); r.Headers.Location = new Uri("https://elsewhere.example.test/"); return r; })),
            e => { Assert.Equal(302, e.HttpStatus); Assert.Contains("elsewhere.example.test", e.Message); });
        yield return new("HTTP 418", AhrvoErrorKind.UnexpectedStatus,
            () => Read(Answer(() => Json(418, """{"code":"TEAPOT","message":"short and stout"}"""))),
            e => { Assert.Equal(418, e.HttpStatus); Assert.Equal("TEAPOT", e.ApiCode); Assert.Equal(1, e.Attempts); });
        yield return new("an untrusted certificate", AhrvoErrorKind.TlsFailure,
            () => Read(Throw(() => new HttpRequestException("The SSL connection could not be established.", new AuthenticationException("The remote certificate is invalid.")))),
            e => { Assert.Null(e.HttpStatus); Assert.IsType<HttpRequestException>(e.Exception); Assert.Equal(1, e.Attempts); Assert.Contains("api.example.test", e.Message); });
        if (File.Exists("/dev/full")) // Linux: every write fails with ENOSPC
            yield return new("an audit log that cannot be written", AhrvoErrorKind.AuditLogFailed,
                () => Read(Answer(() => Json(200, """{"code":"SUCCESS","data":{"available_balance":"1.00"}}""")), o => o.AuditLogPath = "/dev/full"),
                e => { Assert.IsType<AuditLogException>(e.Exception); Assert.Equal(1, e.Attempts); Assert.Contains("/dev/full", e.Message); Assert.True(e.AffectsEveryCard); });
        yield return new("a local failure of an unknown kind", AhrvoErrorKind.ClientFailure,
            () => Read(Throw(() => new InvalidOperationException("broken state " + Token))),
            e => { Assert.IsType<InvalidOperationException>(e.Exception); Assert.Equal(1, e.Attempts); });
    }

    public static IEnumerable<object[]> ScenarioNames() => Scenarios().Select(s => new object[] { s.Name });

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task Each_error_carries_its_facts_and_words_that_need_no_PowerShell(string name)
    {
        var scenario = Scenarios().Single(s => s.Name == name);
        var (result, diagnostics) = await scenario.Run();
        var e = result.Error;
        Assert.NotNull(e);
        log.WriteLine($"{e.Kind}: {e.Message}\n  action: {e.RecommendedAction}\n  limit {e.LimitReached}, attempts {e.Attempts}, status {e.HttpStatus}, throttled {e.Throttled}, retry-after {e.RetryAfter}");
        Assert.Equal(scenario.Kind, e.Kind);
        // The facts every error has: its card, named in the message too, and the result agrees with the error.
        Assert.Equal(result.CardId, e.CardId);
        if (scenario.NamesCard) Assert.Contains("'" + e.CardId + "'", e.Message);
        Assert.Equal(result.Attempts, e.Attempts);
        if (e.HttpStatus != null) Assert.Equal(result.HttpStatus, e.HttpStatus);
        scenario.Facts(e);
        // What to do, in this library's terms.
        Assert.False(string.IsNullOrWhiteSpace(e.RecommendedAction));
        foreach (var text in new[] { e.Message, e.RecommendedAction! }.Concat(diagnostics))
        {
            Assert.DoesNotMatch(PowerShellWording, text);
            Assert.DoesNotContain(ApiKey, text);
            Assert.DoesNotContain(Token, text);
        }
    }

    [Fact]
    public void The_scenarios_cover_every_kind_the_client_produces()
    {
        var covered = Scenarios().Select(s => s.Kind).ToHashSet();
        // MayHaveBeenApplied is a write's (AhrvoClient.SendAsync), never a card's: Requests/RequestWriteRuleTests covers it.
        var expected = Enum.GetValues<AhrvoErrorKind>().Where(k => (k != AhrvoErrorKind.AuditLogFailed || File.Exists("/dev/full")) && k != AhrvoErrorKind.MayHaveBeenApplied);
        Assert.Empty(expected.Except(covered));
    }

    [Fact]
    public async Task The_diagnostics_of_a_throttled_card_and_of_an_outage_name_the_values_not_parameters()
    {
        var throttled = await Scenarios().Single(s => s.Name == "throttled until the budget ran out").Run();
        // The server asked for 5 s; the cap (MaxRetryDelay, 2 s) shortened the wait.
        Assert.Contains(throttled.Diagnostics, d => d.Contains("asked for 5 s (Retry-After), capped at 2 s (MaxRetryDelay)"));
        var outage = await Scenarios().Single(s => s.Name == "a service down for longer than the budget").Run();
        Assert.Contains(outage.Diagnostics, d => d.Contains("looks down") && d.Contains("at most its time budget (10 s)"));
        Assert.All(throttled.Diagnostics.Concat(outage.Diagnostics), d => Assert.DoesNotMatch(PowerShellWording, d));
    }

    [Fact]
    public async Task A_network_failures_text_is_cleaned_in_the_retry_lines_too()
    {
        // What a proxy or the network stack says can quote anything, the request's secrets included.
        int n = 0;
        var handler = new Handler((_, _) => Interlocked.Increment(ref n) == 1
            ? Task.FromException<HttpResponseMessage>(new HttpRequestException("reset by proxy\u001b[2J for Bearer " + Token + " card 5157123456782686"))
            : Task.FromResult(Json(200, """{"code":"SUCCESS","data":{"card_number":"5157********2686","available_balance":"1.00"}}""")));
        var outcome = await Read(handler);
        Assert.True(outcome.Result.Success, outcome.Result.Error?.Message);
        var retry = Assert.Single(outcome.Diagnostics, d => d.Contains("reset by proxy"));
        Assert.DoesNotContain(Token, retry);
        Assert.DoesNotContain("\u001b", retry, StringComparison.Ordinal); // ordinal: culture comparison ignores control characters
        Assert.DoesNotContain("5157123456782686", retry);
    }

    [Fact]
    public void The_pace_lifted_after_throttling_names_the_ceiling_by_its_value()
    {
        var clock = new SteppedClock();
        var pacer = new AdaptiveRateLimiter(clock, 5);
        for (int i = 0; i < 5; i++)
        {
            pacer.Reserve(out _, out var ticket);
            pacer.OnThrottled(ticket);
        }
        Assert.NotNull(pacer.LearnedRate);
        clock.Advance(TimeSpan.FromMinutes(10));
        pacer.Reserve(out var message);
        Assert.NotNull(message);
        Assert.Contains("no longer paced beyond the ceiling of 5 requests/s", message);
        Assert.DoesNotMatch(PowerShellWording, message);
    }

    [Fact]
    public void A_proxy_address_with_credentials_is_refused_without_naming_a_parameter_or_the_password()
    {
        var options = new AhrvoClientOptions(new Uri("https://api.example.test/"), Secure(ApiKey), Secure(Token))
        {
            Proxy = new Uri("http://user:hunter2-secret@proxy.example.test:3128/"),
        };
        var refused = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("ProxyCredential", refused.Message);
        Assert.DoesNotMatch(PowerShellWording, refused.Message);
        Assert.DoesNotContain("hunter2", refused.Message);
    }

    [Fact]
    public async Task A_disposed_client_says_so_without_naming_a_cmdlet()
    {
        var client = new AhrvoClient(new AhrvoClientOptions(new Uri("https://api.example.test/"), Secure(ApiKey), Secure(Token))
        {
            HandlerFactory = () => Answer(() => Json(404, "{}")),
        });
        client.Dispose();
        var disposed = await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetBalanceAsync("card1"));
        Assert.DoesNotMatch(PowerShellWording, disposed.Message);
    }
}
