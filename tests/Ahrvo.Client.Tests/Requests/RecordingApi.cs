using System.Net;
using System.Text;

namespace Ahrvo.Client.Tests.Requests;

/// <summary>An in-memory API for requests of any path: answers from a script, keeps what each request carried (method, URI, headers, body bytes) and when, on the test's clock.</summary>
public sealed class RecordingApi(TimeProvider clock, Func<RecordingApi.Sent, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
{
    public sealed record Sent(int Number, string Method, Uri Uri, Dictionary<string, string> Headers, string? ContentType, byte[]? Body, DateTimeOffset At);

    private readonly List<Sent> _sent = new();

    public RecordingApi(TimeProvider clock, Func<Sent, HttpResponseMessage> answer) : this(clock, (s, _) => Task.FromResult(answer(s))) { }

    public IReadOnlyList<Sent> Requests { get { lock (_sent) return _sent.ToArray(); } }

    public int Count { get { lock (_sent) return _sent.Count; } }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in request.Headers) headers[h.Key] = string.Join(",", h.Value);
        byte[]? body = request.Content == null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Sent sent;
        lock (_sent)
        {
            sent = new Sent(_sent.Count + 1, request.Method.Method, request.RequestUri!, headers, request.Content?.Headers.ContentType?.ToString(), body, clock.GetUtcNow());
            _sent.Add(sent);
        }
        return await answer(sent, cancellationToken);
    }

    public static HttpResponseMessage Json(int status, string body, string contentType = "application/json") =>
        new((HttpStatusCode)status) { Content = new StringContent(body, Encoding.UTF8, contentType) };

    public static HttpResponseMessage Ok(string body = """{"code":"SUCCESS","data":{"order_id":"20260101000000000001"}}""") => Json(200, body);
}
