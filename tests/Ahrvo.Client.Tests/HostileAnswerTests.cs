using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ahrvo.Client.Tests.Support;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests;

/// <summary>
/// Whatever a server sends (any status from 200 to 599, any body, any headers), a card ends with
/// its balance or with the error kind its status means: never as this module's failure
/// (ClientFailure), and every card whose request was sent leaves its audit line, which counts
/// every request it sent. Driven through the real client and the in-memory handler, on a fake clock.
/// </summary>
public sealed class HostileAnswerTests(ITestOutputHelper log) : IDisposable
{
    private const string Card = "card201907021723076245";
    private const string ValidBody = """{"code":"SUCCESS","message":"ok","data":{"card_number":"5157********2686","available_balance":"1468.87","currency":"USD"}}""";
    private readonly string _dir = Directory.CreateTempSubdirectory("ahrvo-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A generated answer: what the server sends, and whether a balance must come of it.</summary>
    public sealed record Answer(int Status, byte[] Body, string? ContentType, string? RetryAfter, string? Location, bool ThrowsWhileRead, bool MustSucceed, string What)
    {
        public override string ToString() =>
            $"HTTP {Status}, {What}, content type {ContentType ?? "(none)"}, Retry-After {RetryAfter ?? "(none)"}, Location {Location ?? "(none)"}{(ThrowsWhileRead ? ", body fails to decode" : "")}: "
            + Convert.ToBase64String(Body.Length > 300 ? Body[..300] : Body);
    }

    // Strings as a server may write them: lone and paired surrogate escapes, control escapes, a BOM inside.
    private static readonly Gen<string> OddString = Gen.OneOfConst(
        "\\ud800", "\\udc00", "x\\ud800y", "\\ud800\\u0041", "\\udbff\\udfff", "\\uD83D\\uDE00", "\\udfff\\ud800",
        "\\u0000", "\\u001b[2J\\nFORGED", "\\/\\\"\\\\", "plain", "é€", "\\uFFFF", "\\uFEFF", "");

    // Escapes JSON does not allow: the whole body is then not JSON.
    private static readonly Gen<string> BadEscape = Gen.OneOfConst("\\x41", "\\u12", "\\u12G4", "\\U0041", "\\'", "\\u", "\\");

    private static readonly Gen<string> OddNumber = Gen.OneOfConst(
        "1e999999", "-1e-999999", "123456789012345678901234567890123456789.5", "-0", "0.000000000000000000000000000001",
        "1E+2", "79228162514264337593543950336", "1468.87", "0", "-5.25", "1" + new string('0', 400));

    private static readonly Gen<string> OddBalance = Gen.OneOf(
        OddNumber,
        Gen.OneOfConst("\"1468.87\"", "\"\\ud800\"", "\"1\\ud8004\"", "\"NaN\"", "\"1,5\"", "null", "true", "{}", "[]", "\"\"", "\"\\u0031\\u0032.50\""));

    private static Gen<string> Nested(Gen<int> depth) =>
        from d in depth
        from open in Gen.OneOfConst("[", "{\"a\":")
        select open == "[" ? new string('[', d) + new string(']', d) : string.Concat(Enumerable.Repeat(open, d)) + "1" + new string('}', d);

    /// <summary>Bodies built on the real answer: those with only harmless oddities must still give the balance.</summary>
    private static readonly Gen<(string json, bool harmless, string what)> Json =
        from message in OddString
        from extraName in OddString
        from extraValue in Gen.OneOf(OddNumber, OddString.Select(s => "\"" + s + "\""), Nested(Gen.Int[1, 20]))
        from shape in Gen.Int[0, 9]
        from code in Gen.OneOf(Gen.Const("\"SUCCESS\""), OddString.Select(s => "\"" + s + "\""), OddNumber)
        from balance in OddBalance
        from badEscape in BadEscape
        from deep in Nested(Gen.OneOfConst(31, 32, 33, 64, 1000, 100_000))
        from duplicate in Gen.OneOfConst("code", "message", "data", "msg")
        select shape switch
        {
            // The real answer with a message, an extra property and its value that are odd but valid JSON.
            0 or 1 or 2 => ($$$"""{"code":"SUCCESS","message":"{{{message}}}","{{{extraName}}}":{{{extraValue}}},"data":{"card_number":"5157********2686","available_balance":"1468.87","currency":"USD","{{{extraName}}}x":1}}""", true, "harmless oddities"),
            3 => ($$$"""{"code":{{{code}}},"message":"{{{message}}}","data":{"card_number":"5157********2686","available_balance":{{{balance}}}}}""", false, "odd code or balance"),
            4 => ($$$"""{"code":"SUCCESS","message":"{{{badEscape}}}","data":{"available_balance":"1.00"}}""", false, "invalid escape"),
            5 => ($$$"""{"code":"SUCCESS","deep":{{{deep}}},"data":{"available_balance":"1.00"}}""", false, "deep nesting"),
            6 => ($$$"""{"{{{duplicate}}}":"x","code":"SUCCESS","message":"m","msg":"m","data":{"available_balance":"1.00"},"{{{duplicate}}}":"y"}""", false, "duplicate key"),
            7 => ($$$"""{"code":"SUCCESS","data":{"available_balance":"1.00","available_balance":{{{balance}}}}}""", false, "duplicate balance"),
            8 => ($$$"""{"\{{{message}}}":{{{extraValue}}},"code":"\u0053UCCESS","data":{"av\u0061ilable_balance":"1468.87"}}""", false, "escaped names"),
            _ => ("[" + ValidBody + "]", false, "array"),
        };

    private static readonly Gen<(byte[] body, bool harmless, string what)> Bodies = Gen.Frequency<(byte[] body, bool harmless, string what)>(
        (6, Json.Select(j => (Encoding.UTF8.GetBytes(j.json), j.harmless, j.what))),
        // The real answer behind a BOM: still the balance.
        (1, Gen.Const<(byte[] body, bool harmless, string what)>(([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(ValidBody)], true, "BOM"))),
        // Truncated anywhere.
        (2, from j in Json from f in Gen.Double[0, 1] select (Truncate(Encoding.UTF8.GetBytes(j.json), f), false, "truncated " + j.what)),
        // Invalid UTF-8 spliced in: a stray byte, an overlong form, an encoded surrogate, a cut sequence.
        (2, from j in Json
            from bad in Gen.OneOfConst<byte[]>([0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80])
            from f in Gen.Double[0, 1]
            select (Splice(Encoding.UTF8.GetBytes(j.json), bad, f), false, "invalid UTF-8 in " + j.what)),
        (1, Gen.Byte.Array[0, 300].Select(b => (b, false, "random bytes"))),
        (1, Gen.OneOfConst("", " ", "null", "\"SUCCESS\"", "<html><body>502</body></html>", "{", "}", "{}{}", ValidBody + "x", ValidBody + ValidBody, "\uFEFF\uFEFF" + ValidBody)
            .Select(s => (Encoding.UTF8.GetBytes(s), false, "odd text"))));

    private static byte[] Truncate(byte[] b, double f) => b[..(int)(b.Length * f)];

    private static byte[] Splice(byte[] b, byte[] bad, double f)
    {
        int at = (int)(b.Length * f);
        return [.. b[..at], .. bad, .. b[at..]];
    }

    private static readonly Gen<Answer> Answers =
        from status in Gen.Frequency((4, Gen.Const(200)), (6, Gen.Int[200, 599]), (2, Gen.OneOfConst(400, 401, 403, 404, 429, 500, 503)))
        from body in Bodies
        from contentType in Gen.OneOfConst<string?>("application/json", "application/json; charset=utf-8", "text/html", "text/plain", "application/octet-stream",
            "application/json; charset=utf-16", "application/problem+json", "nonsense", "a/b/c", null)
        from retryAfter in Gen.OneOfConst<string?>(null, "0", "1", "-1", "99999999999", "2147483647", "1.5", "soon", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT")
        from location in Gen.OneOfConst<string?>(null, "https://elsewhere.example/x", "/relative", "::::", "http://[bad")
        from throws in Gen.Int[0, 19].Select(i => i == 0)
        select new Answer(status, body.body, contentType, retryAfter, location, throws,
            MustSucceed: status == 200 && body.harmless && !throws, What: body.what);

    /// <summary>The error kinds a status may end a card with.</summary>
    private static AhrvoErrorKind[] KindsFor(int status) => status switch
    {
        200 => [AhrvoErrorKind.InvalidResponse, AhrvoErrorKind.ApiError],
        >= 300 and < 400 => [AhrvoErrorKind.Redirect],
        // A web page's 400, 403 or 404 is a gateway's, a firewall's or a wrong address's (UnexpectedStatus).
        400 => [AhrvoErrorKind.InvalidCard, AhrvoErrorKind.UnexpectedStatus],
        401 => [AhrvoErrorKind.Unauthorized],
        403 => [AhrvoErrorKind.Forbidden, AhrvoErrorKind.UnexpectedStatus],
        404 => [AhrvoErrorKind.CardNotFound, AhrvoErrorKind.UnexpectedStatus],
        // Waited out until the card's time is up, then given up as the service's (or its outage's).
        // Every 5xx but 501 and 505 is a gateway's or the service's trouble (issue 17): 520-530 included.
        408 or 429 or (>= 500 and < 600 and not 501 and not 505) => [AhrvoErrorKind.ServiceUnavailable, AhrvoErrorKind.CircuitOpen],
        _ => [AhrvoErrorKind.UnexpectedStatus],
    };

    private static HttpResponseMessage Respond(Answer a)
    {
        var r = new HttpResponseMessage((HttpStatusCode)a.Status)
        {
            Content = a.ThrowsWhileRead ? new UndecodableContent(a.Body) : new ByteArrayContent(a.Body),
        };
        r.Content.Headers.Remove("Content-Type");
        if (a.ContentType != null) r.Content.Headers.TryAddWithoutValidation("Content-Type", a.ContentType);
        if (a.RetryAfter != null) r.Headers.TryAddWithoutValidation("Retry-After", a.RetryAfter);
        if (a.Location != null) r.Headers.TryAddWithoutValidation("Location", a.Location);
        return r;
    }

    /// <summary>A body whose decoding fails part way, as gzip that is not gzip does under automatic decompression.</summary>
    private sealed class UndecodableContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            throw new InvalidDataException("The archive entry was compressed using an unsupported compression method.");
        }

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new FailingStream(body[..(body.Length / 2)]));

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        private sealed class FailingStream(byte[] first) : MemoryStream(first)
        {
            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = base.Read(buffer, offset, count);
                return n > 0 ? n : throw new InvalidDataException("The archive entry was compressed using an unsupported compression method.");
            }

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                int n = base.Read(buffer.Span);
                return n > 0 ? new ValueTask<int>(n) : throw new InvalidDataException("The archive entry was compressed using an unsupported compression method.");
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        }
    }

    private async Task Check(Answer a)
    {
        var clock = new SteppedClock();
        var audit = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".jsonl");
        var handler = new ScriptedHandler(_ => Respond(a));
        using var client = InMemoryClient.Create(handler, clock, o =>
        {
            o.AuditLogPath = audit;
            o.MaxRetries = 1;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(100);
            o.MaxRetryDelay = TimeSpan.FromSeconds(2);
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
            o.TotalTimeout = TimeSpan.FromSeconds(20);
        });
        var lines = new List<string>();
        var diag = new Ahrvo.Client.Diagnostics.RequestDiagnostics(true, true, m => { lock (lines) lines.Add(m.Text); });
        var result = await clock.RunAsync(client.GetBalanceAsync(Card, diag));

        Assert.True(handler.Total >= 1, "the request was sent");
        if (result.Success)
        {
            Assert.Equal(200, a.Status);
            // Only balances the generated bodies hold (the harmless ones all hold 1468.87).
            Assert.Contains(result.AvailableBalance, new[] { 1468.87m, 0m, -5.25m, 1.00m, 12.50m });
            if (a.MustSucceed) Assert.Equal(1468.87m, result.AvailableBalance);
        }
        else
        {
            var kind = result.Error!.Kind;
            Assert.True(kind != AhrvoErrorKind.ClientFailure, "the server's answer was blamed on the module: " + result.Error.Message);
            Assert.True(KindsFor(a.Status).Contains(kind), $"HTTP {a.Status} ended as {kind}: {result.Error.Message}");
            Assert.Contains(Card, result.Error.Message);
            Assert.False(a.MustSucceed, $"a balance was expected, got {kind}: {result.Error.Message}");
        }

        // One audit line for the card, counting every request it sent.
        var audited = File.ReadAllLines(audit).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var line = Assert.Single(audited);
        Assert.Equal(Card, line.GetProperty("cardId").GetString());
        Assert.Equal(result.Success ? "Success" : result.Error!.Kind.ToString(), line.GetProperty("outcome").GetString());
        Assert.Equal(handler.Total, line.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Any_answer_ends_the_card_with_its_balance_or_the_kind_its_status_means_and_leaves_its_audit_line()
    {
        int count = 0;
        await Answers.SampleAsync(async a =>
        {
            await Check(a);
            Interlocked.Increment(ref count);
        }, iter: 1000, threads: 1, print: a => a.ToString());
        log.WriteLine($"{count} answers checked");
    }

    public static TheoryData<int> EveryStatus() => new(Enumerable.Range(200, 400));

    [Fact]
    public async Task Each_status_from_200_to_599_with_a_lone_surrogate_in_its_body_ends_as_its_status_means()
    {
        // The issue's two bodies, under every status: the first must still give the balance under 200.
        var bodies = new[]
        {
            """{"code":"SUCCESS","message":"\udc00","data":{"card_number":"5157********2686","available_balance":"1468.87"}}""",
            """{"code":"\ud800"}""",
            """{"\ud800":"x","code":"E","message":"\udfff\ud800"}""",
        };
        foreach (var status in Enumerable.Range(200, 400))
            foreach (var (body, i) in bodies.Select((b, i) => (b, i)))
                await Check(new Answer(status, Encoding.UTF8.GetBytes(body), "application/json", null, null, false, MustSucceed: status == 200 && i == 0, What: "lone surrogate " + i));
    }
}
