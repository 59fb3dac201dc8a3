using System.Text.Json;

namespace Ahrvo.Emulator;

/// <summary>Pre-serialized bodies and a writer that always sets Content-Length (no chunking on the hot path).</summary>
internal static class Responses
{
    public const string JsonType = "application/json";

    public static readonly byte[] Unauthorized = Error("UNAUTHORIZED", "Invalid or missing authentication token or API key.");
    public static readonly byte[] Forbidden = Error("FORBIDDEN", "Card issuance feature not enabled for this account.");
    public static readonly byte[] InvalidCardId = Error("INVALID_CARD_ID", "card_id is missing or invalid.");
    public static readonly byte[] CardNotFound = Error("CARD_NOT_FOUND", "Card does not exist.");
    public static readonly byte[] NotDedicated = Error("NOT_DEDICATED_FUNDS_CARD", "This endpoint only works for Dedicated Funds Cards; query the budget account balance for Shared Funds Cards.");
    public static readonly byte[] RateLimited = Error("RATE_LIMITED", "Too many requests.");
    public static readonly byte[] NotFound = Error("NOT_FOUND", "No such endpoint.");

    public static readonly byte[] HtmlGateway = """
        <html>
        <head><title>502 Bad Gateway</title></head>
        <body>
        <center><h1>502 Bad Gateway</h1></center>
        <hr><center>nginx</center>
        </body>
        </html>
        """u8.ToArray();

    /// <summary>A CDN's error page for 520-530 (the origin is down or unreachable), built once per status.</summary>
    public static byte[] CdnPage(int status) => CdnPages.GetOrAdd(status, s => System.Text.Encoding.UTF8.GetBytes(
        $"<!DOCTYPE html><html><head><title>Error {s}</title></head><body><h1>Error {s}</h1><p>The web server is not reachable through the CDN.</p></body></html>"));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte[]> CdnPages = new();

    public static readonly byte[] NonJson = "upstream said: <<not json>> \u0001\u0002 ok=maybe;"u8.ToArray();

    /// <summary>Body for a plain status-code fault.</summary>
    public static byte[] ForStatus(int status) => status switch
    {
        408 => Timeout,
        429 => RateLimited,
        500 => Internal,
        502 => BadGateway,
        503 => Unavailable,
        504 => GatewayTimeout,
        _ => Internal,
    };

    private static readonly byte[] Timeout = Error("REQUEST_TIMEOUT", "Request timed out.");
    private static readonly byte[] Internal = Error("INTERNAL_ERROR", "Internal server error.");
    private static readonly byte[] BadGateway = Error("BAD_GATEWAY", "Bad gateway.");
    private static readonly byte[] Unavailable = Error("SERVICE_UNAVAILABLE", "Service temporarily unavailable.");
    private static readonly byte[] GatewayTimeout = Error("GATEWAY_TIMEOUT", "Gateway timeout.");

    public static byte[] Error(string code, string message) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["code"] = code, ["message"] = message });

    public static Task WriteAsync(HttpContext ctx, int status, byte[] body, string contentType = JsonType)
    {
        var response = ctx.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        return body.Length == 0 ? Task.CompletedTask : response.Body.WriteAsync(body, 0, body.Length, ctx.RequestAborted);
    }
}
