using System.Text;
using System.Text.Json;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Requests;
using Ahrvo.Client.Tests.Support;
using Xunit;

namespace Ahrvo.Client.Tests.Requests;

/// <summary>Where a request goes, what it carries, and what comes back: the issue's list of what other modules' request cmdlets get wrong.</summary>
public sealed class ApiRequestTests : IDisposable
{
    private readonly SteppedClock _clock = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("ahrvo-request-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (AhrvoClient Client, RecordingApi Api) Make(Func<RecordingApi.Sent, HttpResponseMessage> answer, Action<AhrvoClientOptions>? tune = null)
    {
        var api = new RecordingApi(_clock, answer);
        return (InMemoryClient.Create(api, _clock, tune), api);
    }

    [Theory]
    [InlineData("https://evil.example/card/issuance/api/x")]        // another host
    [InlineData("https://api.example.test:8443/card/issuance/api/x")] // another port
    [InlineData("http://api.example.test/card/issuance/api/x")]      // another scheme
    [InlineData("//evil.example/card/issuance/api/x")]               // scheme-relative: another host
    [InlineData("https://user:pw@api.example.test/card/x")]          // credentials in the URI
    [InlineData("/card/../../x y")]                                   // a space: belongs in -Query
    [InlineData("")]
    public async Task A_target_off_the_connection_s_origin_is_refused_before_anything_is_sent(string path)
    {
        var (client, api) = Make(_ => RecordingApi.Ok());
        using (client)
            await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(new ApiRequest("GET", path)));
        Assert.Equal(0, api.Count);
        Assert.Equal(0, client.RequestsSent);
    }

    [Fact]
    public async Task An_absolute_uri_on_the_connection_s_own_origin_and_a_relative_path_both_go_under_the_base()
    {
        var (client, api) = Make(_ => RecordingApi.Ok());
        using (client)
        {
            Assert.True((await _clock.RunAsync(client.SendAsync(new ApiRequest("GET", "https://API.example.test/card/issuance/api/a")))).Success);
            Assert.True((await _clock.RunAsync(client.SendAsync(new ApiRequest("GET", "card/issuance/api/b")))).Success);
        }
        Assert.Equal("https://api.example.test/card/issuance/api/a", api.Requests[0].Uri.AbsoluteUri);
        Assert.Equal("https://api.example.test/card/issuance/api/b", api.Requests[1].Uri.AbsoluteUri);
    }

    [Fact]
    public void A_path_under_a_base_with_a_path_of_its_own_stays_under_it()
    {
        var target = RequestTarget.Resolve(new Uri("https://api.example.test/v1"), "/card/x", null, out var problem);
        Assert.Null(problem);
        Assert.Equal("https://api.example.test/v1/card/x", target!.AbsoluteUri);
    }

    [Fact]
    public async Task Each_query_value_is_url_encoded_on_its_own()
    {
        var (client, api) = Make(_ => RecordingApi.Ok());
        var request = new ApiRequest("GET", "/card/issuance/api/issuing/card/v2/normal/list");
        request.Query.Add(new("card_id", "a&b=c d"));
        request.Query.Add(new("note", "café/€+?#"));
        request.Query.Add(new("page", "2"));
        using (client) Assert.True((await _clock.RunAsync(client.SendAsync(request))).Success);
        var query = System.Web.HttpUtility.ParseQueryString(api.Requests[0].Uri.Query);
        Assert.Equal("a&b=c d", query["card_id"]);
        Assert.Equal("café/€+?#", query["note"]);
        Assert.Equal("2", query["page"]);
        Assert.Equal(3, query.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("text/plain")]
    public async Task A_body_is_sent_as_utf8_with_the_charset_stated(string? contentType)
    {
        var (client, api) = Make(_ => RecordingApi.Ok());
        const string body = """{"remark":"Café – ünïcødé € 日本"}""";
        using (client) Assert.True((await _clock.RunAsync(client.SendAsync(new ApiRequest("POST", "/card/x") { Body = body, ContentType = contentType }))).Success);
        var sent = api.Requests[0];
        Assert.Equal(Encoding.UTF8.GetBytes(body), sent.Body);
        Assert.Contains("charset=utf-8", sent.ContentType);
        Assert.DoesNotContain("iso-8859-1", sent.ContentType);
        Assert.StartsWith(contentType?.Split(';')[0] ?? "application/json", sent.ContentType);
    }

    [Theory]
    [InlineData("text/plain", "OK: 3 orders queued")]
    [InlineData("text/html", "<html><body>502 Bad Gateway</body></html>")]
    [InlineData("application/json", "{not json")]
    [InlineData("application/json", "")]
    public async Task A_non_json_body_comes_back_as_text_never_as_a_parse_failure(string contentType, string body)
    {
        var (client, _) = Make(_ => RecordingApi.Json(200, body, contentType));
        ApiResponse r;
        using (client) r = await _clock.RunAsync(client.SendAsync(new ApiRequest("GET", "/card/x")));
        Assert.True(r.Success, r.Error?.Message);
        Assert.False(r.BodyIsJson);
        Assert.Equal(body, r.Body);
    }

    [Fact]
    public async Task Status_and_headers_are_there_when_the_request_fails()
    {
        var (client, _) = Make(_ =>
        {
            var r = RecordingApi.Json(404, """{"code":"CARD_NOT_FOUND","message":"Card does not exist."}""");
            r.Headers.Add("X-Request-Id", "req-42");
            return r;
        });
        ApiResponse response;
        using (client) response = await _clock.RunAsync(client.SendAsync(new ApiRequest("GET", "/card/issuance/api/issuing/card/v2/normal/details")));
        Assert.Equal(404, response.StatusCode);
        Assert.Equal(new[] { "req-42" }, response.Headers["x-request-id"]);
        Assert.Equal(AhrvoErrorKind.CardNotFound, response.Error!.Kind);
        Assert.Equal("CARD_NOT_FOUND", response.Error.ApiCode);
        Assert.Equal("Card does not exist.", response.Error.ApiMessage);
        Assert.True(response.BodyIsJson);
    }

    [Theory]
    [InlineData(400, AhrvoErrorKind.InvalidCard)]
    [InlineData(401, AhrvoErrorKind.Unauthorized)]
    [InlineData(403, AhrvoErrorKind.Forbidden)]
    [InlineData(404, AhrvoErrorKind.CardNotFound)]
    [InlineData(409, AhrvoErrorKind.UnexpectedStatus)]
    [InlineData(422, AhrvoErrorKind.UnexpectedStatus)]
    [InlineData(302, AhrvoErrorKind.Redirect)]
    public async Task A_non_2xx_answer_has_the_kind_a_balance_query_would_have(int status, AhrvoErrorKind kind)
    {
        var (client, api) = Make(_ => RecordingApi.Json(status, """{"code":"X","message":"said so"}"""));
        ApiResponse r;
        using (client) r = await _clock.RunAsync(client.SendAsync(new ApiRequest("POST", "/card/x") { Body = "{}" }));
        Assert.Equal(kind, r.Error?.Kind);
        Assert.Equal(1, api.Count); // a refusal is an answer: not sent again
    }

    [Fact]
    public async Task Card_numbers_are_masked_in_every_field_that_names_one_and_nothing_else_changes()
    {
        const string body = """
            {"code":"SUCCESS","data":{"card_number":"5157 3412 3456 2686","cardNumber":4111111111111111,"pan":"371449635398431",
             "virtual-card-no":"6011000990139424","masked":"5157********2686","order_id":"2026010100000012345678","created":"2026-01-01T00:00:00.1234567Z",
             "amount":1234567890123.45,"items":[{"primary_account_number":"5555555555554444","reference":"99999999999999999"}]}}
            """;
        var (client, _) = Make(_ => RecordingApi.Json(200, body));
        ApiResponse r;
        using (client) r = await _clock.RunAsync(client.SendAsync(new ApiRequest("GET", "/card/x")));
        var expected = body
            .Replace("\"5157 3412 3456 2686\"", "\"5157 34** **** 2686\"")
            .Replace("4111111111111111", "\"411111******1111\"")
            .Replace("\"371449635398431\"", "\"371449*****8431\"")
            .Replace("\"6011000990139424\"", "\"601100******9424\"")
            .Replace("\"5555555555554444\"", "\"555555******4444\"");
        Assert.Equal(expected, r.Body);
        using var doc = JsonDocument.Parse(r.Body!); // still JSON
        Assert.True(r.BodyIsJson);
    }

    [Fact]
    public void Json_values_keep_amounts_exact_and_timestamps_as_text()
    {
        var v = (System.Collections.Specialized.OrderedDictionary)JsonValues.Parse("""{"amount":0.1,"big":79228162514264337593543950335,"n":7,"t":"2026-01-01T00:00:00Z","ok":true,"none":null,"list":[1,"a"]}""")!;
        Assert.Equal(0.1m, v["amount"]);
        Assert.Equal(decimal.MaxValue, v["big"]);
        Assert.Equal(7L, v["n"]);
        Assert.Equal("2026-01-01T00:00:00Z", v["t"]);
        Assert.Equal(true, v["ok"]);
        Assert.Null(v["none"]);
        Assert.Equal(new object[] { 1L, "a" }, (object[])v["list"]!);
    }

    [Fact]
    public async Task The_audit_log_has_the_method_path_and_outcome_and_never_the_body_or_query()
    {
        var path = Path.Combine(_dir, "audit.jsonl");
        var (client, _) = Make(s => s.Number == 1 ? RecordingApi.Ok("""{"code":"SUCCESS","secret_marker":"RESPONSE-BODY-MARK"}""") : RecordingApi.Json(403, "{}"), o => o.AuditLogPath = path);
        using (client)
        {
            var request = new ApiRequest("POST", "/card/issuance/api/issuing/card/v2/normal/topup") { Body = """{"amount":"REQUEST-BODY-MARK"}""" };
            request.Query.Add(new("card_id", "QUERY-MARK"));
            await _clock.RunAsync(client.SendAsync(request));
            await _clock.RunAsync(client.SendAsync(new ApiRequest("DELETE", "/card/issuance/api/issuing/card/v2/normal/card")));
        }
        var lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("POST", first.RootElement.GetProperty("method").GetString());
        Assert.Equal("/card/issuance/api/issuing/card/v2/normal/topup", first.RootElement.GetProperty("path").GetString());
        Assert.Equal("Success", first.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(200, first.RootElement.GetProperty("httpStatus").GetInt32());
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal("Forbidden", second.RootElement.GetProperty("outcome").GetString());
        var all = string.Join("\n", lines);
        Assert.DoesNotContain("BODY-MARK", all);
        Assert.DoesNotContain("QUERY-MARK", all);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task Debug_output_shows_the_request_and_answer_with_no_secret_even_one_the_server_or_the_body_echoes()
    {
        var messages = new List<DiagnosticMessage>();
        var diag = new RequestDiagnostics(true, true, m => { lock (messages) messages.Add(m); });
        var (client, _) = Make(_ =>
        {
            var r = RecordingApi.Json(200, $$"""{"echo":"{{InMemoryClient.ApiKey}}","token":"{{InMemoryClient.Token}}"}""");
            r.Headers.Add("X-Echo", InMemoryClient.Token);
            return r;
        });
        ApiResponse response;
        using (client)
        {
            var request = new ApiRequest("POST", "/card/x") { Body = $$"""{"note":"{{InMemoryClient.ApiKey}}"}""" };
            request.Headers.Add(new("X-Trace", "trace-1"));
            response = await _clock.RunAsync(client.SendAsync(request, diag));
        }
        var text = string.Join("\n", messages.Select(m => m.Text));
        Assert.Contains("HTTP POST https://api.example.test/card/x", text);
        Assert.Contains("X-Trace: trace-1", text);
        Assert.DoesNotContain(InMemoryClient.ApiKey, text);
        Assert.DoesNotContain(InMemoryClient.Token, text);
        Assert.DoesNotContain(InMemoryClient.ApiKey, response.Body);
        Assert.DoesNotContain(InMemoryClient.Token, response.Body);
        Assert.DoesNotContain(InMemoryClient.Token, response.Headers["X-Echo"][0]);
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("x-api-key")]
    [InlineData("X-API-KEY")]
    [InlineData("Idempotency-Key")]
    [InlineData("Host")]
    public async Task A_header_of_the_connection_cannot_be_overridden_per_request(string name)
    {
        var (client, api) = Make(_ => RecordingApi.Ok());
        var request = new ApiRequest("GET", "/card/x");
        request.Headers.Add(new(name, "other"));
        using (client) await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(request));
        Assert.Equal(0, api.Count);
    }

    [Fact]
    public async Task Requests_and_balance_queries_share_the_connection_s_pace()
    {
        // 10/s for the connection: 10 balance queries and 10 requests at once take ~2 s of
        // (fake) time between the first and the last send; apart, each kind would take ~1 s.
        var sends = new List<DateTimeOffset>();
        var api = new RecordingApi(_clock, s =>
        {
            lock (sends) sends.Add(_clock.GetUtcNow());
            return s.Uri.AbsolutePath.EndsWith("/balance", StringComparison.Ordinal)
                ? ScriptedHandler.Balance("c")
                : RecordingApi.Ok();
        });
        using var client = InMemoryClient.Create(api, _clock, o => o.MaxRequestsPerSecond = 10);
        var all = new List<Task<bool>>();
        for (int i = 0; i < 10; i++)
        {
            all.Add(client.GetBalanceAsync("card" + i).ContinueWith(t => t.Result.Success));
            all.Add(client.SendAsync(new ApiRequest("GET", "/card/issuance/api/issuing/card/v2/normal/details")).ContinueWith(t => t.Result.Success));
        }
        var ok = await _clock.RunAsync(Task.WhenAll(all));
        Assert.All(ok, Assert.True);
        Assert.Equal(20, sends.Count);
        var span = sends.Max() - sends.Min();
        Assert.True(span >= TimeSpan.FromSeconds(1.8), $"20 requests at 10/s went out within {span}");
        Assert.Equal(20, client.RequestsSent);
    }

    [Fact]
    public async Task A_request_s_failures_put_the_connection_in_the_outage_state_that_balance_queries_wait_on()
    {
        // A GET that only ever gets 503: its failures are the connection's outage signal, as a card's are.
        var (client, api) = Make(_ => RecordingApi.Json(503, """{"code":"SERVICE_UNAVAILABLE","message":"down"}"""),
            o => { o.MaxRetries = 20; o.TotalTimeout = TimeSpan.FromSeconds(5); o.RetryBaseDelay = TimeSpan.FromMilliseconds(10); o.MaxRetryDelay = TimeSpan.FromMilliseconds(50); });
        using (client)
        {
            var r = await _clock.RunAsync(client.SendAsync(new ApiRequest("GET", "/card/issuance/api/issuing/card/v2/normal/details")));
            Assert.True(client.ServiceDownSince != null, $"{r.Error?.Kind} after {r.Attempts} attempts: {r.Error?.Message}");
            Assert.Equal(AhrvoErrorKind.CircuitOpen, r.Error?.Kind);
            // A balance query now meets that outage: it is given up with it (or sent as its one probe).
            int before = api.Count;
            var balance = await _clock.RunAsync(client.GetBalanceAsync("card1"));
            Assert.False(balance.Success);
            // Probes only, one at a time on the probe schedule (a new command probes at once), while
            // the outage is waited out for this command (5 s), and one more sent when that time is
            // up, whose failure ends the card: at least 0.5 s apart, 11 at most. On its own, the card would have sent 20 retries.
            Assert.True(api.Count - before <= 11, $"{api.Count - before} requests sent while the service was down");
        }
    }
}
