using System;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Parsing;
using Ahrvo.Client.Resilience;
using Microsoft.Extensions.DependencyInjection;

namespace Ahrvo.Client.Http
{
    /// <summary>
    /// Sends one balance request and reads its answer whole: the HTTP side of a connection (pooled
    /// handlers from IHttpClientFactory, no redirects, the proxy rules, the body cap), nothing about
    /// retries or pacing.
    /// </summary>
    internal sealed class ApiTransport : IDisposable
    {
        internal const string HttpClientName = "Ahrvo";
        private const int MaxBodyBytes = 1024 * 1024; // a balance answer is ~100 bytes; 1 MB is proof of a wrong endpoint

        private static readonly TimeSpan HandlerLifetime = TimeSpan.FromMinutes(10);
        // A client is reused for this long, then a new one is asked of the factory, which by then may
        // hand out a new handler (DNS changes are picked up, as the factory intends).
        private static readonly long HttpClientReuseTicks = (long)(TimeSpan.FromMinutes(1).TotalSeconds * Stopwatch.Frequency);

        private readonly AhrvoClientOptions _options;
        private readonly ServerText _text;
        private readonly ServiceProvider _services;
        private readonly IHttpClientFactory _factory;
        private HttpClient? _http;
        private long _httpCreatedAt;
        private int _answered;

        /// <summary>
        /// Some request of this connection got an HTTP answer (any status): its host name resolved
        /// at least once, so a name that does not resolve later is a hiccup, not a wrong address.
        /// </summary>
        internal bool HasAnswered => Volatile.Read(ref _answered) != 0;

        internal void MarkAnswered() => Volatile.Write(ref _answered, 1);

        public ApiTransport(AhrvoClientOptions options, ServerText text)
        {
            _options = options;
            _text = text;
            var services = new ServiceCollection();
            services.AddHttpClient(HttpClientName, c =>
                {
                    c.BaseAddress = EnsureTrailingSlash(options.BaseUri);
                    // Timeouts are the client's own (per attempt, per card); HttpClient's would silently cap them all.
                    c.Timeout = Timeout.InfiniteTimeSpan;
                    c.DefaultRequestHeaders.Accept.ParseAdd("application/json");
                    c.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
                })
                .ConfigurePrimaryHttpMessageHandler(() => options.HandlerFactory?.Invoke() ?? CreateHandler(options))
                // The factory's default logging handlers cost a scope, two stopwatches and several
                // logger calls per request and log nowhere here: diagnostics go through RequestDiagnostics.
                .RemoveAllLoggers()
                .SetHandlerLifetime(HandlerLifetime);
            _services = services.BuildServiceProvider();
            _factory = _services.GetRequiredService<IHttpClientFactory>();
        }

        /// <summary>The HttpClient an attempt uses; for tests of its configuration.</summary>
        internal HttpClient CreateHttpClient() => _factory.CreateClient(HttpClientName);

        internal static HttpMessageHandler CreateHandler(AhrvoClientOptions options)
        {
            var handler = new HttpClientHandler
            {
                // .NET drops Authorization on redirect but forwards x-api-key: never follow at all.
                AllowAutoRedirect = false,
                MaxConnectionsPerServer = options.MaxConnectionsPerServer,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                UseCookies = false,
                // System settings (HTTPS_PROXY / NO_PROXY, or the OS's) apply unless -Proxy names one.
                // Plain http (a loopback emulator) never goes to a system proxy: .NET would send it
                // there, headers in clear, since it does not exempt loopback from HTTP_PROXY.
                UseProxy = options.Proxy != null || options.BaseUri.Scheme != Uri.UriSchemeHttp,
            };
            if (options.Proxy != null)
                handler.Proxy = new WebProxy(options.Proxy) { Credentials = options.ProxyCredential, BypassProxyOnLocal = false };
            // Certificate validation is left to the platform: it is never disabled here.
            return handler;
        }

        /// <summary>
        /// The factory's client, reused across calls: CreateClient allocates a client and re-runs the
        /// configuration (header parsing) each time, which showed up per request in profiles. The
        /// handler pipeline underneath is the factory's pooled one either way.
        /// </summary>
        internal HttpClient GetHttpClient()
        {
            var client = Volatile.Read(ref _http);
            long now = Stopwatch.GetTimestamp();
            if (client == null || now - Volatile.Read(ref _httpCreatedAt) > HttpClientReuseTicks)
            {
                // Racing callers may each create one; any of them is valid. The old one is not disposed:
                // that would cancel its requests still in flight, and it holds nothing of its own.
                client = _factory.CreateClient(HttpClientName);
                Volatile.Write(ref _httpCreatedAt, now);
                Volatile.Write(ref _http, client);
            }
            return client;
        }

        private static Uri EnsureTrailingSlash(Uri uri) =>
            uri.AbsoluteUri.EndsWith("/", StringComparison.Ordinal) ? uri : new Uri(uri.AbsoluteUri + "/");

        /// <summary>One GET for one card, read completely (a connection dropped mid-body fails the attempt).</summary>
        public async Task<AttemptResponse> SendAsync(string cardId, Auth.AccessTokens.Current token, RequestDiagnostics? diag, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, CardIdRules.BalancePathAndQuery(cardId));
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + SecretText.Reveal(token.Token));
            request.Headers.TryAddWithoutValidation("x-api-key", SecretText.Reveal(_options.ApiKey));
            var client = GetHttpClient();
            if (diag != null && diag.DebugEnabled)
                diag.Debug(string.Format(CultureInfo.InvariantCulture, "HTTP GET {0}{1}\n  Accept: application/json\n  Authorization: Bearer {2}\n  x-api-key: {2}",
                    client.BaseAddress, request.RequestUri, SecretText.Redacted));

            var attemptWatch = Stopwatch.StartNew();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            MarkAnswered();
            var attempt = new AttemptResponse
            {
                StatusCode = (int)response.StatusCode,
                // The connection's clock, the one its waits run on (a fake one in tests).
                RetryAfter = RetryAfter.Parse(response.Headers, _options.Time.GetUtcNow(), out var unread),
                ContentType = response.Content?.Headers.ContentType?.MediaType,
                Location = response.Headers.Location,
            };
            attempt.RetryAfterUnread = unread;
            if (response.Content != null)
            {
                try
                {
                    await ReadBodyAsync(response.Content, attempt, cancellationToken).ConfigureAwait(false);
                }
                catch (System.IO.InvalidDataException)
                {
                    // A body that does not decode as its Content-Encoding says (gzip that is not gzip):
                    // what the server sent is wrong, which is the answer's problem, not this module's.
                    attempt.Body = Array.Empty<byte>();
                    attempt.BodyLength = 0;
                    attempt.BodyUndecodable = true;
                }
            }

            if (diag != null && diag.DebugEnabled)
                diag.Debug(string.Format(CultureInfo.InvariantCulture, "HTTP {0} for card {1} in {2:0} ms ({3} bytes, {4})\n  {5}",
                    attempt.StatusCode, cardId, attemptWatch.Elapsed.TotalMilliseconds, attempt.BodyLength, _text.Clean(attempt.ContentType, 100) ?? "no content type", BodyPreview(attempt)));
            return attempt;
        }

        internal static async Task ReadBodyAsync(HttpContent content, AttemptResponse attempt, CancellationToken cancellationToken, int maxBodyBytes = MaxBodyBytes)
        {
            if (content.Headers.ContentLength is long declared && declared > maxBodyBytes)
            {
                attempt.BodyTooLarge = true;
                return;
            }
            var buffer = new byte[Math.Min(maxBodyBytes + 1, (int)(content.Headers.ContentLength ?? 512) + 1)];
            int total = 0;
            try
            {
                using var stream = await content.ReadAsStreamAsync().ConfigureAwait(false);
                // .NET Framework's response stream (Windows PowerShell 5.1) ignores the token once a
                // read has begun: a body that stalls would outlast the attempt's timeout and Ctrl+C.
                // Disposing the stream ends the read on every runtime.
                using var abort = cancellationToken.CanBeCanceled ? cancellationToken.Register(static s => ((System.IO.Stream)s!).Dispose(), stream) : default;
                while (true)
                {
                    if (total == buffer.Length)
                    {
                        if (buffer.Length > maxBodyBytes) { attempt.BodyTooLarge = true; return; }
                        Array.Resize(ref buffer, Math.Min(maxBodyBytes + 1, buffer.Length * 2));
                    }
                    int read = await stream.ReadAsync(buffer, total, buffer.Length - total, cancellationToken).ConfigureAwait(false);
                    if (read == 0) break;
                    total += read;
                }
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && (ex is System.IO.IOException || ex is ObjectDisposedException))
            {
                // The read ended because the stream was disposed on cancellation (above): a timeout or a stop, not a cut.
                throw new OperationCanceledException("The attempt was cancelled while its body was read.", ex, cancellationToken);
            }
            catch (System.IO.IOException ex)
            {
                // The handler's framing check (SocketsHttpHandler: "the response ended prematurely")
                // or a reset mid-body: the network's failure, retried, and named so when it is the last.
                throw new AnswerCutOffException(attempt.StatusCode, total, ex);
            }
            attempt.Body = buffer;
            attempt.BodyLength = total;
        }

        internal const int PreviewChars = 512;

        // A server may echo the API key or token (escaped its own way) and a full card number: both
        // are cleaned from the whole stretch before it is cut (ServerText.Preview).
        private string BodyPreview(AttemptResponse attempt) =>
            attempt.BodyTooLarge ? "(body larger than 1 MB, not read)"
            : attempt.BodyUndecodable ? "(body not decodable as its Content-Encoding says)"
            : _text.Preview(attempt.Body, attempt.BodyLength, PreviewChars);

        public void Dispose() => _services.Dispose();
    }
}
