using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Ahrvo.Client.Auth;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Http;
using Ahrvo.Client.Parsing;
using Ahrvo.Client.Resilience;

namespace Ahrvo.Client.Requests
{
    /// <summary>One answer to an <see cref="ApiRequest"/>, read whole, with its headers.</summary>
    internal sealed class RequestAnswer
    {
        public RequestAnswer(AttemptResponse attempt, Dictionary<string, string[]> headers, string? charset)
        {
            Attempt = attempt;
            Headers = headers;
            Charset = charset;
        }

        public AttemptResponse Attempt { get; }
        public Dictionary<string, string[]> Headers { get; }
        public string? Charset { get; }
        public int StatusCode => Attempt.StatusCode;
    }

    /// <summary>
    /// Sends one <see cref="ApiRequest"/> attempt on the connection's HTTP client (its pooled
    /// handler, no redirects, its proxy rules) with the connection's two secrets; nothing about
    /// retries or pacing, which are the client's.
    /// </summary>
    internal static class RequestTransport
    {
        // A list of cards can be large; a balance answer's 1 MB cap would refuse it.
        internal const int MaxBodyBytes = 32 * 1024 * 1024;

        public static async Task<RequestAnswer> SendAsync(ApiTransport transport, AhrvoClientOptions options, ServerText text, ApiRequest request, Uri target,
            AccessTokens.Current token, RequestDiagnostics? diag, CancellationToken cancellationToken)
        {
            using var message = new HttpRequestMessage(new HttpMethod(request.Method), target);
            foreach (var h in request.Headers)
                if (!IsContentHeader(h.Key)) message.Headers.TryAddWithoutValidation(h.Key, h.Value);
            message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + SecretText.Reveal(token.Token));
            message.Headers.TryAddWithoutValidation("x-api-key", SecretText.Reveal(options.ApiKey));
            if (request.IdempotencyKey != null) message.Headers.TryAddWithoutValidation("Idempotency-Key", request.IdempotencyKey);
            string? contentType = null;
            if (request.Body != null)
            {
                // UTF-8 always, and said so: a server left to guess may read it as Latin-1.
                var content = new ByteArrayContent(new UTF8Encoding(false).GetBytes(request.Body));
                contentType = WithUtf8Charset(request.ContentType ?? "application/json");
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                foreach (var h in request.Headers)
                    if (IsContentHeader(h.Key) && !h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) content.Headers.TryAddWithoutValidation(h.Key, h.Value);
                message.Content = content;
            }

            var client = transport.GetHttpClient();
            if (diag != null && diag.DebugEnabled)
            {
                var sb = new StringBuilder();
                sb.AppendFormat(CultureInfo.InvariantCulture, "HTTP {0} {1}\n  Accept: application/json\n  Authorization: Bearer {2}\n  x-api-key: {2}",
                    request.Method, text.Clean(target.AbsoluteUri, 2000), SecretText.Redacted);
                if (request.IdempotencyKey != null) sb.Append("\n  Idempotency-Key: ").Append(text.Clean(request.IdempotencyKey, 200));
                foreach (var h in request.Headers) sb.Append("\n  ").Append(text.Clean(h.Key, 100)).Append(": ").Append(text.Clean(h.Value, 300));
                if (request.Body != null)
                {
                    var bytes = Encoding.UTF8.GetBytes(request.Body);
                    sb.AppendFormat(CultureInfo.InvariantCulture, "\n  Content-Type: {0}\n  ({1} bytes) {2}", contentType, bytes.Length, text.Preview(bytes, bytes.Length, ApiTransport.PreviewChars));
                }
                diag.Debug(sb.ToString());
            }

            var watch = Stopwatch.StartNew();
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            transport.MarkAnswered();
            var attempt = new AttemptResponse
            {
                StatusCode = (int)response.StatusCode,
                RetryAfter = RetryAfter.Parse(response.Headers, options.Time.GetUtcNow(), out var unread),
                ContentType = response.Content?.Headers.ContentType?.MediaType,
                Location = response.Headers.Location,
            };
            attempt.RetryAfterUnread = unread;
            var headers = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
            Collect(headers, response.Headers, text);
            if (response.Content != null)
            {
                Collect(headers, response.Content.Headers, text);
                try
                {
                    await ApiTransport.ReadBodyAsync(response.Content, attempt, cancellationToken, MaxBodyBytes).ConfigureAwait(false);
                }
                catch (System.IO.InvalidDataException)
                {
                    attempt.Body = Array.Empty<byte>();
                    attempt.BodyLength = 0;
                    attempt.BodyUndecodable = true;
                }
            }
            if (diag != null && diag.DebugEnabled)
                diag.Debug(string.Format(CultureInfo.InvariantCulture, "HTTP {0} for {1} {2} in {3:0} ms ({4} bytes, {5})\n  {6}",
                    attempt.StatusCode, request.Method, text.Clean(target.AbsolutePath, 500), watch.Elapsed.TotalMilliseconds, attempt.BodyLength,
                    text.Clean(attempt.ContentType, 100) ?? "no content type",
                    attempt.BodyTooLarge ? "(body larger than 32 MB, not read)" : text.Preview(attempt.Body, attempt.BodyLength, ApiTransport.PreviewChars)));
            return new RequestAnswer(attempt, headers, response.Content?.Headers.ContentType?.CharSet);
        }

        private static bool IsContentHeader(string name) =>
            name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) || name.Equals("Expires", StringComparison.OrdinalIgnoreCase) || name.Equals("Last-Modified", StringComparison.OrdinalIgnoreCase);

        /// <summary>The media type with charset=utf-8, replacing any other charset named (the bytes are UTF-8).</summary>
        internal static string WithUtf8Charset(string contentType)
        {
            var parts = contentType.Split(';');
            var sb = new StringBuilder(parts[0].Trim());
            for (int i = 1; i < parts.Length; i++)
            {
                var p = parts[i].Trim();
                if (p.Length == 0 || p.StartsWith("charset", StringComparison.OrdinalIgnoreCase)) continue;
                sb.Append("; ").Append(p);
            }
            return sb.Append("; charset=utf-8").ToString();
        }

        // Header values are data the caller gets back: only secrets are redacted (a server that echoes them).
        private static void Collect(Dictionary<string, string[]> into, HttpHeaders headers, ServerText text)
        {
            foreach (var h in headers)
            {
                var values = new List<string>();
                foreach (var v in h.Value) values.Add(text.RedactSecrets(v) ?? string.Empty);
                into[h.Key] = values.ToArray();
            }
        }
    }
}
