using System.Net;
using System.Text;

namespace Ahrvo.Client.Tests.Support;

/// <summary>An in-memory API: answers each request from a script, counts what it was sent. No socket.</summary>
public sealed class ScriptedHandler(Func<ScriptedHandler.Request, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
{
    /// <summary>One request: the card it asks for, the how-manieth for that card (from 1) and overall.</summary>
    public sealed record Request(string CardId, int Attempt, int Number);

    private readonly Dictionary<string, int> _perCard = new();
    private int _total;

    /// <summary>Answers at once.</summary>
    public ScriptedHandler(Func<Request, HttpResponseMessage> answer) : this((r, _) => Task.FromResult(answer(r))) { }

    public int Total => Volatile.Read(ref _total);

    public int For(string cardId) { lock (_perCard) return _perCard.GetValueOrDefault(cardId); }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var card = System.Web.HttpUtility.ParseQueryString(request.RequestUri!.Query)["card_id"] ?? "";
        int attempt;
        lock (_perCard) attempt = _perCard[card] = _perCard.GetValueOrDefault(card) + 1;
        int n = Interlocked.Increment(ref _total);
        return answer(new Request(card, attempt, n), cancellationToken);
    }

    public static HttpResponseMessage Balance(string cardId, string amount = "100.00") => Json(200,
        "{\"code\":\"SUCCESS\",\"data\":{\"card_number\":\"5157********2686\",\"available_balance\":\"" + amount + "\"}}");

    public static HttpResponseMessage Status(int status, int? retryAfterSeconds = null)
    {
        var r = Json(status, $$"""{"code":"E{{status}}","message":"scripted"}""");
        if (retryAfterSeconds is int s) r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(s));
        return r;
    }

    public static HttpResponseMessage Json(int status, string body, string contentType = "application/json") =>
        new((HttpStatusCode)status) { Content = new StringContent(body, Encoding.UTF8, contentType) };
}
