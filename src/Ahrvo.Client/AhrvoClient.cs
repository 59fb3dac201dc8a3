using System;
using System.Buffers;
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
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Ahrvo.Client
{
    /// <summary>
    /// The Ahrvo balance API client for one connection: one handler pipeline (pooled connections)
    /// and one resilience pipeline, shared by every call and thread. Calls never throw for a
    /// card's failure: they return a <see cref="BalanceResult"/> carrying an <see cref="AhrvoError"/>.
    /// Only cancellation by the caller throws (OperationCanceledException).
    /// </summary>
    public sealed class AhrvoClient : IDisposable
    {
        internal const string HttpClientName = "Ahrvo";
        private const int MaxBodyBytes = 1024 * 1024; // a balance answer is ~100 bytes; 1 MB is proof of a wrong endpoint

        private readonly AhrvoClientOptions _options;
        private readonly ServiceProvider _services;
        private readonly IHttpClientFactory _factory;
        private readonly ResiliencePipeline<AttemptResponse> _pipeline;
        private readonly ServerBackoffGate _gate = new ServerBackoffGate();
        private readonly AuditLog? _audit;
        private HttpClient? _http;
        private long _httpCreatedAt;
        private int _disposed;

        private static readonly TimeSpan HandlerLifetime = TimeSpan.FromMinutes(10);
        // A client is reused for this long, then a new one is asked of the factory, which by then may
        // hand out a new handler (DNS changes are picked up, as the factory intends).
        private static readonly long HttpClientReuseTicks = (long)(TimeSpan.FromMinutes(1).TotalSeconds * Stopwatch.Frequency);

        public AhrvoClient(AhrvoClientOptions options)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            options.Validate();

            var services = new ServiceCollection();
            services.AddHttpClient(HttpClientName, c =>
                {
                    c.BaseAddress = EnsureTrailingSlash(options.BaseUri);
                    // Polly owns every timeout; HttpClient's own would silently cap the whole retry pipeline.
                    c.Timeout = Timeout.InfiniteTimeSpan;
                    c.DefaultRequestHeaders.Accept.ParseAdd("application/json");
                    c.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
                })
                .ConfigurePrimaryHttpMessageHandler(() => CreateHandler(options))
                // The factory's default logging handlers cost a scope, two stopwatches and several
                // logger calls per request and log nowhere here: diagnostics go through RequestDiagnostics.
                .RemoveAllLoggers()
                .SetHandlerLifetime(HandlerLifetime);
            _services = services.BuildServiceProvider();
            _factory = _services.GetRequiredService<IHttpClientFactory>();
            _pipeline = PipelineFactory.Build(options, _gate);
            if (!string.IsNullOrEmpty(options.AuditLogPath)) _audit = new AuditLog(options.AuditLogPath!);
        }

        public AhrvoClientOptions Options => _options;

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
        private HttpClient GetHttpClient()
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

        /// <summary>Reads one card's balance, with retries, timeouts and error mapping.</summary>
        public async Task<BalanceResult> GetBalanceAsync(string cardId, RequestDiagnostics? diagnostics = null, CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(AhrvoClient), "This connection was closed. Run Connect-Ahrvo again.");
            var problem = CardIdRules.Check(cardId);
            if (problem != null)
                return Audit(BalanceResult.Failed(cardId ?? string.Empty, new AhrvoError(AhrvoErrorKind.InvalidCard, problem + " Give the card's id as issued, for example card201907021723076245.", null), null, TimeSpan.Zero, 0));

            // Stopped (Ctrl+C, Select-Object -First) before this card's turn came: send nothing.
            cancellationToken.ThrowIfCancellationRequested();
            var stopwatch = Stopwatch.StartNew();
            var state = new CallState(cardId, diagnostics);
            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            context.Properties.Set(PipelineFactory.StateKey, state);
            try
            {
                var outcome = await _pipeline.ExecuteOutcomeAsync(
                    static async (ctx, s) =>
                    {
                        try
                        {
                            return Outcome.FromResult(await s.client.SendOnceAsync(s.state, ctx.CancellationToken).ConfigureAwait(false));
                        }
                        catch (Exception ex) when (!(ex is OperationCanceledException) || !s.outer.IsCancellationRequested)
                        {
                            return Outcome.FromException<AttemptResponse>(ex);
                        }
                    },
                    context,
                    (client: this, state, outer: cancellationToken)).ConfigureAwait(false);

                cancellationToken.ThrowIfCancellationRequested();
                stopwatch.Stop();
                var result = outcome.Exception != null
                    ? BalanceResult.Failed(cardId, MapException(cardId, outcome.Exception, state), null, stopwatch.Elapsed, state.Attempts)
                    : Interpret(cardId, outcome.Result!, stopwatch.Elapsed, state.Attempts);
                return Audit(result);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        private BalanceResult Audit(BalanceResult result)
        {
            _audit?.Write(result);
            return result;
        }

        private async Task<AttemptResponse> SendOnceAsync(CallState state, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref state.Attempts);
            using var request = new HttpRequestMessage(HttpMethod.Get, CardIdRules.BalancePathAndQuery(state.CardId));
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + SecretText.Reveal(_options.AccessToken));
            request.Headers.TryAddWithoutValidation("x-api-key", SecretText.Reveal(_options.ApiKey));
            var diag = state.Diagnostics;
            var client = GetHttpClient();
            if (diag != null && diag.DebugEnabled)
                diag.Debug(string.Format(CultureInfo.InvariantCulture, "HTTP GET {0}{1}\n  Accept: application/json\n  Authorization: Bearer {2}\n  x-api-key: {2}",
                    client.BaseAddress, request.RequestUri, SecretText.Redacted));

            var attemptWatch = Stopwatch.StartNew();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var attempt = new AttemptResponse
            {
                StatusCode = (int)response.StatusCode,
                RetryAfter = RetryAfter.Parse(response.Headers.RetryAfter, DateTimeOffset.UtcNow),
                ContentType = response.Content?.Headers.ContentType?.MediaType,
                Location = response.Headers.Location,
            };
            if (response.Content != null)
                await ReadBodyAsync(response.Content, attempt, cancellationToken).ConfigureAwait(false);

            if (diag != null && diag.DebugEnabled)
                diag.Debug(string.Format(CultureInfo.InvariantCulture, "HTTP {0} for card {1} in {2:0} ms ({3} bytes, {4})\n  {5}",
                    attempt.StatusCode, state.CardId, attemptWatch.Elapsed.TotalMilliseconds, attempt.BodyLength, attempt.ContentType ?? "no content type", BodyPreview(attempt)));
            return attempt;
        }

        private static async Task ReadBodyAsync(HttpContent content, AttemptResponse attempt, CancellationToken cancellationToken)
        {
            if (content.Headers.ContentLength is long declared && declared > MaxBodyBytes)
            {
                attempt.BodyTooLarge = true;
                return;
            }
            using var stream = await content.ReadAsStreamAsync().ConfigureAwait(false);
            var buffer = new byte[Math.Min(MaxBodyBytes + 1, (int)(content.Headers.ContentLength ?? 512) + 1)];
            int total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length > MaxBodyBytes) { attempt.BodyTooLarge = true; return; }
                    Array.Resize(ref buffer, Math.Min(MaxBodyBytes + 1, buffer.Length * 2));
                }
                int read = await stream.ReadAsync(buffer, total, buffer.Length - total, cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                total += read;
            }
            attempt.Body = buffer;
            attempt.BodyLength = total;
        }

        private string BodyPreview(AttemptResponse attempt)
        {
            if (attempt.BodyTooLarge) return "(body larger than 1 MB, not read)";
            var text = System.Text.Encoding.UTF8.GetString(attempt.Body, 0, Math.Min(attempt.BodyLength, 512));
            // The body carries no secrets, but a full card number would be one: mask digit runs.
            return Clean(text, 512) + (attempt.BodyLength > 512 ? "…" : string.Empty);
        }

        /// <summary>
        /// What the server sends is shown to people and written to logs, so it is cleaned first: a
        /// server that echoes the API key or token gets them redacted, a full card number is masked,
        /// control characters (forged log lines, terminal escapes) become spaces, and length is capped.
        /// </summary>
        private string? Clean(string? text, int maxLength)
        {
            if (string.IsNullOrEmpty(text)) return text;
            // Runs on every answer ("SUCCESS", the masked card number), so each step skips the work
            // that cannot change the text: the result is the same, without revealing the secrets,
            // running the regex or copying the string per card.
            text = RedactSecret(text!, _options.ApiKey);
            text = RedactSecret(text, _options.AccessToken);
            text = MaskDigitRuns(text);
            if (HasControlChar(text))
            {
                var chars = text.ToCharArray();
                for (int i = 0; i < chars.Length; i++)
                    if (char.IsControl(chars[i])) chars[i] = ' ';
                text = new string(chars);
            }
            return text.Length > maxLength ? text.Substring(0, maxLength) + "…" : text;
        }

        private static string RedactSecret(string text, System.Security.SecureString secret)
        {
            // A secret shorter than 4 characters would redact noise; one longer than the text cannot be
            // in it, and then it is not revealed at all.
            int length = secret.Length;
            if (length < 4 || length > text.Length) return text;
            var plain = SecretText.Reveal(secret); // revealed only to compare
            return text.IndexOf(plain, StringComparison.Ordinal) >= 0 ? text.Replace(plain, SecretText.Redacted) : text;
        }

        private static bool HasControlChar(string text)
        {
            foreach (var c in text)
                if (char.IsControl(c)) return true;
            return false;
        }

        private void CleanServerText(ParsedBody body)
        {
            body.Code = Clean(body.Code, 100);
            body.Message = Clean(body.Message, 300);
            body.CardNumber = Clean(body.CardNumber, 40);
        }

        private static bool IsCurrencyCode(string s)
        {
            if (s.Length != 3) return false;
            foreach (var c in s) if (c < 'A' || c > 'Z') return false;
            return true;
        }

        internal static string MaskDigitRuns(string text) =>
            MayHoldDigitRun(text)
                ? System.Text.RegularExpressions.Regex.Replace(text, "[0-9][0-9 -]{11,}[0-9]", m => CardNumberMasker.Mask(m.Value) ?? m.Value)
                : text;

        // The pattern above needs 13 characters in a row from [0-9 -]; without such a run it cannot
        // match, and the regex (a cache lookup and a scan) is skipped.
        private static bool MayHoldDigitRun(string text)
        {
            int run = 0;
            foreach (var c in text)
            {
                if ((c >= '0' && c <= '9') || c == ' ' || c == '-')
                {
                    if (++run >= 13) return true;
                }
                else run = 0;
            }
            return false;
        }

        private BalanceResult Interpret(string cardId, AttemptResponse r, TimeSpan elapsed, int attempts)
        {
            int status = r.StatusCode;
            if (status == 200)
            {
                if (r.BodyTooLarge)
                    return Fail(new AhrvoError(AhrvoErrorKind.InvalidResponse, $"The API's answer for card '{cardId}' is larger than 1 MB, far beyond a balance response. Check -BaseUri: it may point at the wrong service.", status));
                if (!BalanceResponseParser.TryParse(r.Body, r.BodyLength, out var body, out var problem))
                    return Fail(InvalidResponse(cardId, problem!, r, status));
                CleanServerText(body);
                if (!string.Equals(body.Code, "SUCCESS", StringComparison.Ordinal))
                    return Fail(new AhrvoError(AhrvoErrorKind.ApiError,
                        $"The API did not return a balance for card '{cardId}': code '{body.Code ?? "(none)"}'{(body.Message != null ? ": " + body.Message : string.Empty)}. Check the card and try again; contact Ahrvo support if it persists.",
                        status, body.Code, body.Message));
                if (!body.HasData)
                    return Fail(InvalidResponse(cardId, "the 'data' object is missing", r, status));
                if (body.BalanceIsNull || body.AvailableBalanceText == null)
                    return Fail(InvalidResponse(cardId, body.BalanceIsNull ? "available_balance is null" : "available_balance is missing", r, status));
                if (!MoneyParser.TryParse(body.AvailableBalanceText, out var balance, out var why))
                    return Fail(InvalidResponse(cardId, "available_balance: " + why, r, status));
                var currency = string.IsNullOrWhiteSpace(body.Currency) ? "USD" : body.Currency!.Trim().ToUpperInvariant();
                // A currency we cannot name would make the amount meaningless: refuse rather than guess.
                if (!IsCurrencyCode(currency))
                    return Fail(InvalidResponse(cardId, $"currency '{currency}' is not a three-letter ISO code", r, status));
                return BalanceResult.Ok(cardId, CardNumberMasker.Mask(body.CardNumber), balance, currency, DateTimeOffset.UtcNow, status, elapsed, attempts);
            }

            BalanceResponseParser.TryParse(r.Body, r.BodyLength, out var err, out _);
            CleanServerText(err);
            string api = err.Message != null ? $" The API said: {err.Message.Trim().TrimEnd('.')}." : string.Empty;
            switch (status)
            {
                case 400:
                    return Fail(new AhrvoError(AhrvoErrorKind.InvalidCard,
                        $"Card '{cardId}' was refused (HTTP 400): the id is invalid or the card is not a Dedicated Funds card.{api}",
                        status, err.Code, err.Message,
                        "Check the card id. Shared Funds cards have no card balance: query their budget account balance instead."));
                case 401:
                    return Fail(new AhrvoError(AhrvoErrorKind.Unauthorized,
                        $"The API refused the credentials (HTTP 401) while reading card '{cardId}'.{api}",
                        status, err.Code, err.Message,
                        "Run Connect-Ahrvo again with a valid access token and API key (or fix AHRVO_ACCESS_TOKEN / AHRVO_API_KEY)."));
                case 403:
                    return Fail(new AhrvoError(AhrvoErrorKind.Forbidden,
                        $"Card issuance is not enabled for this account (HTTP 403).{api}",
                        status, err.Code, err.Message,
                        "Ask your Ahrvo account manager to enable the card issuance balance API for this account."));
                case 404:
                    return Fail(new AhrvoError(AhrvoErrorKind.CardNotFound,
                        $"Card '{cardId}' was not found (HTTP 404).{api}",
                        status, err.Code, err.Message,
                        "Verify the card id; the card may have been deleted or cancelled."));
            }
            if (status >= 300 && status < 400)
                return Fail(new AhrvoError(AhrvoErrorKind.Redirect,
                    $"The API answered card '{cardId}' with a redirect (HTTP {status}) to '{Clean(r.Location?.ToString(), 200)}'. Redirects are not followed, so that the API key and token never go to another address.",
                    status, recommendedAction: "Check -BaseUri on Connect-Ahrvo: use the API's final address."));
            if (PipelineFactory.IsTransientStatus(status))
                return Fail(new AhrvoError(AhrvoErrorKind.ServiceUnavailable,
                    $"The API answered HTTP {status} for card '{cardId}' after {attempts} attempt(s).{api}",
                    status, err.Code, err.Message,
                    "Try again later; raise -MaxRetries or -Timeout on Connect-Ahrvo if this persists."));
            return Fail(new AhrvoError(AhrvoErrorKind.UnexpectedStatus,
                $"The API answered HTTP {status} for card '{cardId}', which this module does not expect.{api}",
                status, err.Code, err.Message, "Check -BaseUri on Connect-Ahrvo and the API's status."));

            BalanceResult Fail(AhrvoError e) => BalanceResult.Failed(cardId, e, status, elapsed, attempts);
        }

        // The problem may quote what the server sent (a balance string, a currency): cleaned like all server text.
        private AhrvoError InvalidResponse(string cardId, string problem, AttemptResponse r, int status) =>
            new AhrvoError(AhrvoErrorKind.InvalidResponse,
                $"The API's answer for card '{cardId}' could not be read: {Clean(problem, 300)} (HTTP {status}, {Clean(r.ContentType, 100) ?? "no content type"}). No balance is reported for this card.",
                status, recommendedAction: "Try again; if it persists, check -BaseUri and report the response to Ahrvo support.");

        private static Exception Innermost(Exception ex)
        {
            while (ex.InnerException != null) ex = ex.InnerException;
            return ex;
        }

        private AhrvoError MapException(string cardId, Exception ex, CallState state)
        {
            int attempts = state.Attempts;
            switch (ex)
            {
                case BrokenCircuitException bce:
                {
                    var pause = bce.RetryAfter is TimeSpan ra && ra > TimeSpan.Zero
                        ? string.Format(CultureInfo.InvariantCulture, " for about {0:0} s", Math.Ceiling(ra.TotalSeconds))
                        : string.Empty;
                    var what = attempts == 0
                        ? $"Card '{cardId}' was not queried"
                        : $"Card '{cardId}' failed after {attempts} attempt(s) (last: {state.LastFailure ?? "no answer"}) and was not retried";
                    return new AhrvoError(AhrvoErrorKind.CircuitOpen,
                        $"{what}: most recent requests to {_options.BaseUri.Host} failed, so the module pauses requests to it{pause} (circuit open).",
                        null, recommendedAction: "Check the service's status; when it is back, run the command again for the cards that failed.", exception: ex);
                }
                case TimeoutRejectedException t:
                    return new AhrvoError(AhrvoErrorKind.Timeout,
                        $"Card '{cardId}' got no answer in time after {attempts} attempt(s) (timeout {t.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s).",
                        null, recommendedAction: "Try again later, or raise -Timeout on Connect-Ahrvo.", exception: ex);
                case HttpRequestException _ when PipelineFactory.IsTlsFailure(ex):
                    return new AhrvoError(AhrvoErrorKind.TlsFailure,
                        $"Card '{cardId}' was not read: the secure connection to {_options.BaseUri.Host} could not be established ({Innermost(ex).Message.TrimEnd('.')}). Nothing was sent.",
                        null, recommendedAction: "Certificate checks are never turned off. Check -BaseUri, the system clock, and that the server's certificate chain is trusted on this machine.", exception: ex);
                case HttpRequestException _:
                case System.IO.IOException _:
                    return new AhrvoError(AhrvoErrorKind.ServiceUnavailable,
                        $"Card '{cardId}' could not be read after {attempts} attempt(s): {PipelineFactory.Describe(ex)}",
                        null, recommendedAction: "Check the network, proxy (-Proxy) and -BaseUri, then try again.", exception: ex);
                case OperationCanceledException _:
                    return new AhrvoError(AhrvoErrorKind.Timeout,
                        $"Card '{cardId}' was cancelled before an answer came after {attempts} attempt(s).", null, exception: ex);
                default:
                    return new AhrvoError(AhrvoErrorKind.InvalidResponse,
                        $"Card '{cardId}' could not be read: {ex.GetType().Name}: {ex.Message}", null, exception: ex);
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _services.Dispose();
            _audit?.Dispose();
        }
    }
}
