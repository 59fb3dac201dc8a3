using System.Net.Http.Headers;
using System.Net.Sockets;
using Ahrvo.Client.Bulk;
using Ahrvo.Client.Tests.Support;
using Xunit;

namespace Ahrvo.Client.Tests;

/// <summary>
/// What a card retries and what not, and how long it waits between attempts: the whole client
/// against an in-memory API on a fake clock, so every wait is in fake seconds and exact.
/// </summary>
public sealed class AhrvoClientRetryTests
{
    private readonly SteppedClock _clock = new();
    private readonly List<TimeSpan> _sentAt = new(); // fake time of each request, from the clock's start

    private AhrvoClient Client(ScriptedHandler handler, Action<AhrvoClientOptions>? tune = null) => InMemoryClient.Create(handler, _clock, tune);

    /// <summary>Answers as <paramref name="answer"/> says, noting when each request came.</summary>
    private ScriptedHandler Api(Func<ScriptedHandler.Request, CancellationToken, Task<HttpResponseMessage>> answer) => new((r, ct) =>
    {
        lock (_sentAt) _sentAt.Add(_clock.GetUtcNow() - SteppedClock.Start);
        return answer(r, ct);
    });

    private ScriptedHandler Api(Func<ScriptedHandler.Request, HttpResponseMessage> answer) => Api((r, _) => Task.FromResult(answer(r)));

    private TimeSpan Gap(int request) => _sentAt[request] - _sentAt[request - 1];

    [Theory]
    [InlineData("408")]
    [InlineData("429")]
    [InlineData("500")]
    [InlineData("502")]
    [InlineData("503")]
    [InlineData("504")]
    [InlineData("507")]
    [InlineData("509")]
    [InlineData("520")]
    [InlineData("522")]
    [InlineData("530")]
    [InlineData("599")]     // a 5xx nobody has named yet
    [InlineData("empty522")] // a CDN's 522 with no body at all
    [InlineData("html")]    // a gateway's 502 page, not JSON
    [InlineData("reset")]   // the connection reset before an answer, as SocketsHttpHandler reports it
    [InlineData("timeout")] // no answer: the attempt timeout ends it
    public async Task A_transient_failure_is_retried_and_the_card_gets_its_balance(string kind)
    {
        var handler = Api(async (r, ct) =>
        {
            if (r.Attempt > 1) return ScriptedHandler.Balance(r.CardId, "12.50");
            switch (kind)
            {
                case "html":
                    return ScriptedHandler.Json(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
                case "empty522":
                    return new HttpResponseMessage((System.Net.HttpStatusCode)522);
                case "reset":
                    throw new HttpRequestException("An error occurred while sending the request.",
                        new IOException("Unable to read data from the transport connection: Connection reset by peer.", new SocketException((int)SocketError.ConnectionReset)));
                case "timeout":
                    await Task.Delay(Timeout.Infinite, ct);
                    throw new InvalidOperationException("unreachable: the attempt's token ends the wait");
                default:
                    return ScriptedHandler.Status(int.Parse(kind));
            }
        });
        using var client = Client(handler);
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(12.50m, r.AvailableBalance);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(2, handler.For("card1"));
        if (kind == "timeout") Assert.True(Gap(1) >= client.Options.AttemptTimeout, $"retried after {Gap(1)}");
    }

    [Theory]
    [InlineData(400, """{"code":"INVALID_CARD_ID","message":"bad"}""", AhrvoErrorKind.InvalidCard)]
    [InlineData(401, """{"code":"UNAUTHORIZED","message":"no"}""", AhrvoErrorKind.Unauthorized)]
    [InlineData(403, """{"code":"FORBIDDEN","message":"no"}""", AhrvoErrorKind.Forbidden)]
    [InlineData(404, """{"code":"CARD_NOT_FOUND","message":"no"}""", AhrvoErrorKind.CardNotFound)]
    [InlineData(200, """{"code":"FAILED","message":"try later","data":{"available_balance":"0.00"}}""", AhrvoErrorKind.ApiError)]
    [InlineData(200, """{"code":"SUCCESS","data":{"available_balance":"NaN"}}""", AhrvoErrorKind.InvalidResponse)]
    [InlineData(501, """{"code":"NOT_IMPLEMENTED"}""", AhrvoErrorKind.UnexpectedStatus)]
    [InlineData(302, "", AhrvoErrorKind.Redirect)]
    public async Task A_definite_answer_is_never_retried(int status, string body, AhrvoErrorKind kind)
    {
        var handler = Api(_ => ScriptedHandler.Json(status, body));
        using var client = Client(handler);
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.False(r.Success);
        Assert.Equal(kind, r.Error!.Kind);
        Assert.Equal(1, r.Attempts);
        Assert.Equal(1, handler.Total);
    }

    [Theory]
    [InlineData(400, "text/html", "<html><head><title>400 Request Header Or Cookie Too Large</title></head></html>")]
    [InlineData(403, "text/html", "<!DOCTYPE html><html><body>Access denied by the web application firewall. Ray ID 8c1f</body></html>")]
    [InlineData(404, "text/plain", "\r\n  <html><body><h1>404 Not Found</h1>nginx</body></html>")]
    public async Task A_web_page_refusing_a_card_is_blamed_on_what_sent_it_not_on_the_card_or_the_account(int status, string contentType, string body)
    {
        // A gateway, firewall or wrong address answered, not the API: its 400/403/404 page says
        // nothing of the card ("not found", "invalid") or the account ("not enabled"), and one
        // blocked card does not stop the others (a 403 from the API does).
        var handler = Api(r => r.CardId == "card2" ? ScriptedHandler.Json(status, body, contentType) : ScriptedHandler.Balance(r.CardId));
        using var client = Client(handler);
        var page = await _clock.RunAsync(client.GetBalanceAsync("card2"));
        Assert.False(page.Success);
        Assert.Equal(AhrvoErrorKind.UnexpectedStatus, page.Error!.Kind);
        Assert.False(page.Error.AffectsEveryCard);
        Assert.Contains("web page, not the API's JSON", page.Error.Message);
        Assert.DoesNotContain("not found", page.Error.Message);
        Assert.DoesNotContain("not enabled", page.Error.Message);
        Assert.Contains("BaseUri", page.Error.RecommendedAction);
        Assert.Equal(1, page.Attempts);
        // The API's own JSON answer with the same status keeps its meaning.
        var api = Api(_ => ScriptedHandler.Json(status, """{"code":"X","message":"no"}"""));
        using var apiClient = Client(api);
        var own = await _clock.RunAsync(apiClient.GetBalanceAsync("card2"));
        Assert.Equal(status switch { 400 => AhrvoErrorKind.InvalidCard, 403 => AhrvoErrorKind.Forbidden, _ => AhrvoErrorKind.CardNotFound }, own.Error!.Kind);
    }

    [Fact]
    public async Task A_Retry_After_date_is_waited_for_to_the_second_counted_from_the_answer()
    {
        _clock.Advance(TimeSpan.FromMilliseconds(600));
        var date = new DateTimeOffset(2026, 1, 1, 0, 0, 4, TimeSpan.Zero); // whole seconds, as the header carries
        var handler = Api(r =>
        {
            if (r.Attempt > 1) return ScriptedHandler.Balance(r.CardId);
            _clock.Advance(TimeSpan.FromMilliseconds(300)); // the server takes 0.3 s to answer
            var answer = ScriptedHandler.Status(503);
            answer.Headers.RetryAfter = new RetryConditionHeaderValue(date);
            return answer;
        });
        using var client = Client(handler);
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(2, r.Attempts);
        // Asked at 0.6 s, answered at 0.9 s: the retry goes out at 4 s, not 0.3 s later (a wait
        // counted from the request) nor after a backoff. Delays run in whole milliseconds.
        var retriedAt = TimeSpan.FromSeconds(4);
        Assert.InRange(_sentAt[1], retriedAt - TimeSpan.FromMilliseconds(1), retriedAt);
    }

    [Theory]
    [InlineData(503)]
    [InlineData(429)]
    public async Task A_hostile_Retry_After_is_capped_by_MaxRetryDelay(int status)
    {
        var handler = Api(r => r.Attempt > 1 ? ScriptedHandler.Balance(r.CardId) : ScriptedHandler.Status(status, retryAfterSeconds: 86_400));
        using var client = Client(handler, o => o.MaxRetryDelay = TimeSpan.FromSeconds(1));
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(2, r.Attempts);
        // A 503 waits the cap; throttled cards (429) come back spread over a tenth of it more.
        var most = status == 429 ? TimeSpan.FromSeconds(1.1) : TimeSpan.FromSeconds(1);
        Assert.InRange(Gap(1), TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(1), most);
    }

    private static HttpResponseMessage WithRetryAfter(HttpResponseMessage answer, string value)
    {
        answer.Headers.TryAddWithoutValidation("Retry-After", value);
        return answer;
    }

    [Theory]
    [InlineData(503)]
    [InlineData(429)]
    public async Task A_Retry_After_in_decimal_seconds_is_waited_for(int status)
    {
        // .NET's header parser drops "1.5": the card came back after a backoff of 0.25-0.75 s (a 503)
        // or 0.5-0.55 s (a 429), into the server's wait.
        var handler = Api(r => r.Attempt > 1 ? ScriptedHandler.Balance(r.CardId) : WithRetryAfter(ScriptedHandler.Status(status), "1.5"));
        using var client = Client(handler);
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(2, r.Attempts);
        // A 503 waits what it asked; throttled cards (429) come back spread over a tenth of it more.
        var most = status == 429 ? TimeSpan.FromSeconds(1.65) : TimeSpan.FromSeconds(1.5);
        Assert.InRange(Gap(1), TimeSpan.FromSeconds(1.5) - TimeSpan.FromMilliseconds(1), most);
    }

    [Theory]
    [InlineData(503, "soon")]
    [InlineData(503, "-1")]
    [InlineData(429, "soon")]
    [InlineData(429, "-1.5")]
    [InlineData(429, "1,5")]
    public async Task A_Retry_After_that_is_not_seconds_or_a_date_is_not_followed_and_Verbose_says_so(int status, string value)
    {
        var lines = new List<string>();
        var diag = new Ahrvo.Client.Diagnostics.RequestDiagnostics(verbose: true, debug: false, m => { lock (lines) lines.Add(m.Text); });
        var handler = Api(r => r.Attempt > 1 ? ScriptedHandler.Balance(r.CardId) : WithRetryAfter(ScriptedHandler.Status(status), value));
        using var client = Client(handler);
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1", diag));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(2, r.Attempts);
        // As before: the first backoff (0.5 s × 0.5-1.5 for a failure; 0.5 s plus up to 50 ms for a 429).
        if (status == 429) Assert.InRange(Gap(1), TimeSpan.FromMilliseconds(499), TimeSpan.FromMilliseconds(550));
        else Assert.InRange(Gap(1), TimeSpan.FromMilliseconds(249), TimeSpan.FromMilliseconds(750));
        Assert.Contains(lines, l => l.Contains("Retry-After '" + value + "' is neither a number of seconds nor an HTTP date, so it was not followed"));
    }

    [Fact]
    public async Task MaxRetryDelay_zero_means_retry_at_once()
    {
        var handler = Api(r => r.Attempt > 1 ? ScriptedHandler.Balance(r.CardId) : ScriptedHandler.Status(503, retryAfterSeconds: 5));
        using var client = Client(handler, o => o.MaxRetryDelay = TimeSpan.Zero);
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(TimeSpan.Zero, Gap(1));
    }

    [Fact]
    public async Task A_card_throttled_ten_times_gets_its_balance_within_its_budget_whatever_MaxRetries_says()
    {
        var handler = new ScriptedHandler(r => r.Attempt <= 10 ? ScriptedHandler.Status(429, retryAfterSeconds: 1) : ScriptedHandler.Balance(r.CardId, "12.50"));
        using var client = Client(handler, o => o.MaxRetries = 1);
        var result = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.True(result.Success, result.Error?.Message);
        Assert.Equal(12.50m, result.AvailableBalance);
        Assert.Equal(11, result.Attempts);
        Assert.Equal(10, client.ThrottledResponses);
        Assert.InRange(result.Elapsed.TotalSeconds, 10, 20); // fake seconds: ten Retry-After waits (with jitter), paced at about one a second
    }

    [Fact]
    public async Task Throttling_longer_than_the_budget_ends_in_one_error_that_says_so()
    {
        var handler = new ScriptedHandler(_ => ScriptedHandler.Status(429, retryAfterSeconds: 1));
        using var client = Client(handler, o => o.TotalTimeout = TimeSpan.FromSeconds(5));
        var result = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.False(result.Success);
        Assert.Equal(AhrvoErrorKind.ServiceUnavailable, result.Error!.Kind);
        Assert.Contains("kept throttling", result.Error.Message);
        // Nothing of the connection was ever accepted: the 429s' waits use the budget.
        Assert.InRange(handler.Total, 4, 5);
    }

    [Fact]
    public async Task A_card_throttled_longer_than_its_budget_while_others_are_read_waits_its_turn()
    {
        // The account's pace, not a failure: while the API accepts other requests of the connection,
        // a card's 429 waits do not use its budget (at 2/s, a card of a -TimeoutSec 5 run met five
        // 429s in a row and was lost while the others were read). 14 s of 1 s waits in a 5 s budget.
        var handler = Api(r => r.CardId == "slow" && r.Attempt <= 14 ? ScriptedHandler.Status(429, retryAfterSeconds: 1) : ScriptedHandler.Balance(r.CardId, "1.00"));
        using var client = Client(handler, o => o.TotalTimeout = TimeSpan.FromSeconds(5));
        async Task<BalanceResult> Others()
        {
            BalanceResult last = null!;
            for (int i = 0; i < 18; i++)
            {
                last = await client.GetBalanceAsync("other" + i);
                await Task.Delay(TimeSpan.FromSeconds(1), _clock);
            }
            return last;
        }
        var others = Others();
        var slow = client.GetBalanceAsync("slow");
        var result = await _clock.RunAsync(slow);
        Assert.True(result.Success, result.Error?.Message);
        Assert.Equal(15, result.Attempts);
        Assert.True(result.Elapsed > TimeSpan.FromSeconds(14), result.Elapsed.ToString());
        Assert.True((await _clock.RunAsync(others)).Success);
    }

    [Fact]
    public async Task A_card_that_keeps_failing_while_the_service_is_up_stops_after_MaxRetries()
    {
        var handler = new ScriptedHandler(r => ScriptedHandler.Status(500));
        using var client = Client(handler, o => o.MaxRetries = 2);
        var result = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.Equal(AhrvoErrorKind.ServiceUnavailable, result.Error!.Kind);
        Assert.Equal(3, result.Attempts);
        Assert.Equal(3, handler.Total);
        Assert.False(client.Health.IsDown); // three failures of one card are not an outage
    }

    /// <summary>What SocketsHttpHandler throws for a name the resolver says does not exist.</summary>
    private static HttpRequestException NoSuchHost(SocketError error = SocketError.HostNotFound) =>
        new("Name or service not known (api.example.test:443)", new SocketException((int)error));

    [Theory]
    [InlineData(SocketError.HostNotFound)]
    [InlineData(SocketError.NoData)]
    public async Task A_host_name_that_never_resolved_ends_each_card_of_a_bulk_run_at_once_naming_the_host(SocketError error)
    {
        // A typo in BaseUri, or a name only another network knows: retried, every card waited for
        // the breaker and then its whole budget (120 s) and ended as CircuitOpen, "check the service".
        var handler = Api((_, _) => Task.FromException<HttpResponseMessage>(NoSuchHost(error)));
        using var client = Client(handler);
        long began = _clock.GetTimestamp();
        using var run = new BulkBalanceRun(client, 4, verbose: false, debug: false);
        var done = BulkDriver.DriveAsync(run, 6);
        await _clock.RunAsync(done, TimeSpan.FromMinutes(10));
        var taken = await done;

        Assert.Equal(Enumerable.Range(0, 6).Select(i => "card" + i), taken.Select(t => t.CardId));
        Assert.All(taken, t =>
        {
            var e = t.Result!.Error!;
            Assert.Equal(AhrvoErrorKind.ServiceUnavailable, e.Kind);
            Assert.Equal(1, e.Attempts);
            Assert.Contains("host name 'api.example.test' does not resolve", e.Message);
            Assert.Contains("nothing is known to be wrong with the card or the API", e.Message);
            Assert.Contains("host name in BaseUri", e.RecommendedAction);
            Assert.Contains("DNS", e.RecommendedAction);
        });
        Assert.Equal(6, handler.Total); // one request each, no retry, no probe
        Assert.False(client.Health.IsDown);
        // Fake time: no backoff, no outage wait; only the pace's start window, which lets cards past
        // its first four go after 2 s when no answer comes (retried, the run took the 120 s budget).
        Assert.True(_clock.GetElapsedTime(began) <= TimeSpan.FromSeconds(3), _clock.GetElapsedTime(began).ToString());
    }

    [Theory]
    [InlineData(200)]
    [InlineData(503)] // a gateway's answer proves the name resolved as well
    public async Task A_host_name_that_fails_to_resolve_after_the_connection_was_answered_is_retried(int firstStatus)
    {
        var handler = Api(r => r.CardId == "first" && r.Attempt == 1 ? ScriptedHandler.Status(firstStatus)
            : r.CardId == "second" && r.Attempt == 1 ? throw NoSuchHost()
            : ScriptedHandler.Balance(r.CardId, "12.50"));
        using var client = Client(handler);
        await _clock.RunAsync(client.GetBalanceAsync("first"));
        var r = await _clock.RunAsync(client.GetBalanceAsync("second"));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(2, r.Attempts);
    }

    /// <summary>
    /// A 200 whose body breaks part way, as SocketsHttpHandler reports a connection that ended before
    /// the Content-Length: the first half arrives, then an IOException.
    /// </summary>
    private sealed class CutContent(byte[] body) : HttpContent
    {
        private static IOException Ended(int missing) => new($"The response ended prematurely, with at least {missing} additional bytes expected. (ResponseEnded)");

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            throw Ended(body.Length - body.Length / 2);
        }

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new Half(body));

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }

        private sealed class Half(byte[] body) : MemoryStream(body, 0, body.Length / 2)
        {
            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = base.Read(buffer, offset, count);
                return n > 0 ? n : throw Ended(body.Length - body.Length / 2);
            }

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                int n = base.Read(buffer.Span);
                return n > 0 ? new ValueTask<int>(n) : ValueTask.FromException<int>(Ended(body.Length - body.Length / 2));
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        }
    }

    private static HttpResponseMessage CutBalance(string cardId)
    {
        var whole = ScriptedHandler.Balance(cardId);
        var bytes = whole.Content.ReadAsByteArrayAsync().Result;
        return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new CutContent(bytes) };
    }

    [Fact]
    public async Task A_200_whose_body_is_cut_off_in_transit_once_is_retried_and_the_card_gets_its_balance()
    {
        var handler = Api(r => r.Attempt == 1 ? CutBalance(r.CardId) : ScriptedHandler.Balance(r.CardId, "12.50"));
        using var client = Client(handler);
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(12.50m, r.AvailableBalance);
        Assert.Equal(2, r.Attempts);
    }

    [Fact]
    public async Task A_200_whose_body_is_always_cut_off_ends_after_MaxRetries_saying_it_was_cut_off_in_transit()
    {
        // Other cards are read meanwhile: the service is up, so the card's own retries end it (a
        // connection that answers nothing at all is an outage, waited out: AhrvoClientOutageTests).
        var handler = Api(r => r.CardId == "cut" ? CutBalance(r.CardId) : ScriptedHandler.Balance(r.CardId));
        using var client = Client(handler, o => o.MaxRetries = 2);
        using var stop = new CancellationTokenSource();
        async Task<int> Others()
        {
            int read = 0;
            while (!stop.IsCancellationRequested)
            {
                if ((await client.GetBalanceAsync("other" + read)).Success) read++;
                await Task.Delay(TimeSpan.FromMilliseconds(100), _clock);
            }
            return read;
        }
        var others = Others();
        var r = await _clock.RunAsync(client.GetBalanceAsync("cut"));
        stop.Cancel();
        Assert.True(await _clock.RunAsync(others) > 0);

        Assert.False(r.Success);
        Assert.Equal(AhrvoErrorKind.ServiceUnavailable, r.Error!.Kind);
        Assert.Equal(3, r.Attempts);
        Assert.Equal(3, handler.For("cut"));
        Assert.Equal(AhrvoLimit.MaxRetries, r.Error.LimitReached);
        Assert.Contains("the answer (HTTP 200) was cut off in transit after", r.Error.Message);
        Assert.Contains("Check the network", r.Error.RecommendedAction); // the network's, not the API's answer
    }

    /// <summary>A 200 whose headers come at once and whose body never does: a read waits until its token is cancelled.</summary>
    /// <param name="ignoresToken">
    /// Its read ignores the cancellation token and ends only when the stream is disposed, as .NET
    /// Framework's response stream does (Windows PowerShell 5.1): an abort then surfaces as an IOException.
    /// </param>
    private sealed class StalledContent(bool ignoresToken = false) : HttpContent
    {
        public readonly TaskCompletionSource Reading = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => Stall(default).AsTask();

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new Stalled(this));

        protected override bool TryComputeLength(out long length)
        {
            length = 100;
            return true;
        }

        private async ValueTask<int> Stall(CancellationToken ct)
        {
            Reading.TrySetResult();
            try
            {
                if (ignoresToken)
                {
                    await _disposed.Task;
                    throw new IOException("The request was aborted: The request was canceled.");
                }
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                Cancelled.TrySetResult();
            }
            throw new InvalidOperationException("unreachable: only the token ends the wait");
        }

        private sealed class Stalled(StalledContent owner) : MemoryStream
        {
            protected override void Dispose(bool disposing)
            {
                owner._disposed.TrySetResult();
                base.Dispose(disposing);
            }

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");
            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => owner.Stall(cancellationToken);
            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => owner.Stall(cancellationToken).AsTask();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_that_stalls_after_the_headers_is_ended_by_the_attempt_timeout_and_retried(bool readIgnoresToken)
    {
        // readIgnoresToken: as on Windows PowerShell 5.1, where only disposing the stream ends a read
        // (the attempt's timeout, not the card's lost connection: retried as a timeout, not a cut).
        var stalled = new StalledContent(readIgnoresToken);
        var handler = Api(r => r.Attempt == 1 ? new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = stalled } : ScriptedHandler.Balance(r.CardId, "12.50"));
        using var client = Client(handler);
        var r = await _clock.RunAsync(client.GetBalanceAsync("card1"));
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(2, r.Attempts);
        Assert.True(stalled.Cancelled.Task.IsCompleted); // the read itself was stopped, not left behind
        // The attempt timeout (30 s, fake) covers the body: the retry went once it had elapsed.
        Assert.True(Gap(1) >= client.Options.AttemptTimeout, $"retried after {Gap(1)}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_that_stalls_after_the_headers_ends_at_once_when_the_run_is_stopped(bool readIgnoresToken)
    {
        // Nobody moves the clock here: no timeout can fire, only the run's token can end the read.
        var stalled = new StalledContent(readIgnoresToken);
        var handler = Api(_ => new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = stalled });
        using var client = Client(handler);
        using var stop = new CancellationTokenSource();
        using var run = new BulkBalanceRun(client, 4, verbose: false, debug: false, stop.Token);
        var item = run.Add("card1");
        await stalled.Reading.Task.WaitAsync(InMemoryClient.Liveness);
        stop.Cancel();
        await stalled.Cancelled.Task.WaitAsync(InMemoryClient.Liveness);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!item.IsDone && waited.Elapsed < InMemoryClient.Liveness) run.WaitForChange(TimeSpan.FromMilliseconds(50), default);
        Assert.True(item.IsDone);
        Assert.Null(item.Result); // stopped: not answered, no error made up for it
        Assert.Equal(TimeSpan.Zero, _clock.GetUtcNow() - SteppedClock.Start);
        Assert.Equal(1, handler.Total);
    }
}
