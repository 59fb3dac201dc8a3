using System;
using System.Globalization;
using System.Net.Http;
using Ahrvo.Client.Parsing;
using Ahrvo.Client.Resilience;
using Polly.Timeout;

namespace Ahrvo.Client.Requests
{
    /// <summary>
    /// What an <see cref="ApiRequest"/>'s last answer or failure means: the same error kinds as a
    /// balance query (401 Unauthorized, 403 Forbidden, 429/5xx ServiceUnavailable, ...), worded for a
    /// request ("POST /card/...") instead of a card, and <see cref="AhrvoErrorKind.MayHaveBeenApplied"/>
    /// for a write whose fate is unknown. Server text is cleaned as everywhere else.
    /// </summary>
    internal sealed class RequestInterpreter
    {
        private readonly ServerText _text;
        private readonly string _host;
        private readonly string _resolvedName; // the name this machine resolves: the proxy's when one is set
        private readonly TimeSpan _budget;

        public RequestInterpreter(ServerText text, AhrvoClientOptions options)
        {
            _text = text;
            _host = options.BaseUri.Host;
            _resolvedName = Transience.NameResolved(options);
            _budget = options.TotalTimeout;
        }

        private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

        private static AhrvoError Error(AhrvoErrorKind kind, string message, int attempts, AhrvoLimit limit, int? status = null, string? apiCode = null, string? apiMessage = null,
            Exception? exception = null, bool throttled = false, TimeSpan? retryAfter = null, TimeSpan? timeLimit = null) =>
            new AhrvoError(kind, message, status, apiCode, apiMessage, exception)
            {
                ForRequest = true,
                Attempts = attempts,
                LimitReached = limit,
                Throttled = throttled,
                RetryAfter = retryAfter,
                TimeLimit = timeLimit,
            };

        /// <summary>The API's code and message, when the body is the API's JSON error shape (cleaned).</summary>
        private ParsedBody ApiText(AttemptResponse r)
        {
            var err = new ParsedBody();
            if (!r.BodyTooLarge && !r.BodyUndecodable && r.BodyLength > 0)
            {
                try
                {
                    BalanceResponseParser.TryParse(r.Body, r.BodyLength, out err, out _);
                }
                catch (Exception ex) when (!(ex is OutOfMemoryException))
                {
                    err = new ParsedBody(); // a hostile body: the status still says what happened
                }
                _text.Clean(err);
            }
            return err;
        }

        /// <summary>The error of an answer that is not a 2xx; null for a 2xx.</summary>
        public AhrvoError? Answer(string label, AttemptResponse r, int attempts, AhrvoLimit limit)
        {
            int status = r.StatusCode;
            if (status >= 200 && status <= 299) return null;
            var err = ApiText(r);
            string api = err.Code != null || err.Message != null
                ? $" The API said: {err.Code ?? "(no code)"}{(err.Message != null ? ": " + err.Message.Trim().TrimEnd('.') : string.Empty)}."
                : string.Empty;
            switch (status)
            {
                case 400:
                    return Error(AhrvoErrorKind.InvalidCard, $"{label} was refused (HTTP 400): a value in the request is missing or invalid.{api}",
                        attempts, limit, status, err.Code, err.Message);
                case 401:
                    return Error(AhrvoErrorKind.Unauthorized, $"The API refused the access token or API key (HTTP 401) for {label}.{api}",
                        attempts, limit, status, err.Code, err.Message);
                case 403:
                    return Error(AhrvoErrorKind.Forbidden, $"{label} is not allowed for this account (HTTP 403).{api}",
                        attempts, limit, status, err.Code, err.Message);
                case 404:
                    return Error(AhrvoErrorKind.CardNotFound, $"{label}: not found (HTTP 404): the card, order or endpoint it names does not exist.{api}",
                        attempts, limit, status, err.Code, err.Message);
                case 429:
                    string asked = r.RetryAfter is TimeSpan ra && ra > TimeSpan.Zero ? $"; the server last asked to wait {Seconds(ra)} s (Retry-After)" : string.Empty;
                    return Error(AhrvoErrorKind.ServiceUnavailable,
                        $"The API kept throttling {label} (HTTP 429) until its {Seconds(_budget)} s budget left no room for another wait, after {attempts} attempt(s) (429s that came while the API accepted other requests did not count against it){asked}. It was not processed.{api}",
                        attempts, AhrvoLimit.TotalTimeout, status, err.Code, err.Message, throttled: true, retryAfter: r.RetryAfter);
            }
            if (status >= 300 && status < 400)
                return Error(AhrvoErrorKind.Redirect,
                    $"The API answered {label} with a redirect (HTTP {status}) to '{_text.Clean(r.Location?.ToString(), 200)}'. Redirects are not followed, so that the API key and token never go to another address.",
                    attempts, limit, status);
            if (Transience.IsTransientStatus(status))
                return Error(AhrvoErrorKind.ServiceUnavailable,
                    $"The API answered HTTP {status} for {label} after {attempts} attempt(s){Ended(limit)}.{api}",
                    attempts, limit, status, err.Code, err.Message);
            return Error(AhrvoErrorKind.UnexpectedStatus, $"The API answered HTTP {status} for {label}.{api}",
                attempts, limit, status, err.Code, err.Message);
        }

        private string Ended(AhrvoLimit limit) => limit switch
        {
            AhrvoLimit.MaxRetries => ", and no retry was left",
            AhrvoLimit.TotalTimeout => $", when its {Seconds(_budget)} s budget ran out",
            _ => string.Empty,
        };

        /// <summary>A failure without an answer, for a request whose fate is known (a read, or a write that certainly was not processed).</summary>
        public AhrvoError Failure(string label, Exception ex, int attempts, AhrvoLimit limit)
        {
            switch (ex)
            {
                case TimeoutRejectedException t:
                    return Error(AhrvoErrorKind.Timeout, $"{label} got no answer in time after {attempts} attempt(s) (the last one waited {Seconds(t.Timeout)} s){Ended(limit)}.",
                        attempts, limit, exception: ex, timeLimit: t.Timeout);
                case HttpRequestException _ when Transience.IsNameNotResolved(ex):
                    return Error(AhrvoErrorKind.ServiceUnavailable, limit == AhrvoLimit.None
                        ? $"{label} was not sent: {_resolvedName} does not resolve to an address on this machine ({_text.Clean(ex.Message, 300)!.TrimEnd('.')}), and no request of this connection has been answered yet. Nothing is known to be wrong with the API."
                        : $"{label} failed after {attempts} attempt(s){Ended(limit)}: {_resolvedName} did not resolve to an address on the last one ({_text.Clean(ex.Message, 300)!.TrimEnd('.')}). Nothing is known to be wrong with the API.",
                        attempts, limit, exception: ex);
                case HttpRequestException _ when Transience.IsTlsFailure(ex):
                    return Error(AhrvoErrorKind.TlsFailure, $"{label} was not sent: the secure connection to {_host} could not be established. Nothing was sent.",
                        attempts, limit, exception: ex);
                case HttpRequestException _:
                case System.IO.IOException _:
                    return Error(AhrvoErrorKind.ServiceUnavailable,
                        $"{label} failed after {attempts} attempt(s){Ended(limit)}: {_text.Clean(Transience.Describe(ex), 300)!.TrimEnd('.')}.",
                        attempts, limit, exception: ex);
                default:
                    return Error(AhrvoErrorKind.ClientFailure,
                        $"{label} failed on this machine ({ex.GetType().Name}: {_text.Clean(ex.Message, 300)}). Nothing is known to be wrong with the API.",
                        attempts, limit, exception: ex);
            }
        }

        /// <summary>
        /// A write that may have reached the server and got no answer saying what it did: its own
        /// kind, never a plain failure, since sending it again could apply it twice.
        /// </summary>
        public AhrvoError MayHaveBeenApplied(string label, string why, int? status, Exception? ex, int attempts, bool hasKey, AttemptResponse? answer)
        {
            var err = answer != null ? ApiText(answer) : new ParsedBody();
            string api = err.Message != null ? $" The API said: {err.Message.Trim().TrimEnd('.')}." : string.Empty;
            string resend = hasKey
                ? "It was sent with an Idempotency-Key: sending it again with the same key is safe where the API honours the key; check first where it does not."
                : "It was not sent again, since that could apply it twice.";
            return Error(AhrvoErrorKind.MayHaveBeenApplied,
                $"{label} may have been applied: check before retrying. It reached the server or may have ({_text.Clean(why, 300)}), and no answer says whether it was applied. {resend}{api}",
                attempts, AhrvoLimit.None, status, err.Code, err.Message, exception: ex);
        }

        public AhrvoError ServiceDown(string label, int attempts, TimeSpan downFor, string? reason) =>
            Error(AhrvoErrorKind.CircuitOpen,
                string.Format(CultureInfo.InvariantCulture, "{0} was not sent: the service at {1} has not answered for {2:0.#} s ({3}), longer than the request's {4} s budget allows (circuit open).",
                    label, _host, downFor.TotalSeconds, reason ?? "requests failed", Seconds(_budget)),
                attempts, AhrvoLimit.TotalTimeout);

        public AhrvoError TokenProviderFailed(string label, Exception ex, int attempts, int? status)
        {
            string why = "the token provider of this connection failed (" + ex.GetType().Name + ").";
            for (var e = ex; e != null; e = e.InnerException)
                if (e is Auth.TokenProviderException) { why = e.Message; break; }
            return Error(AhrvoErrorKind.Unauthorized, $"{label} was not sent: {_text.Clean(why, 300)}",
                attempts, AhrvoLimit.None, status, exception: ex);
        }

        public AhrvoError AuditFailed(string label, AuditLogException ex, int attempts) =>
            Error(AhrvoErrorKind.AuditLogFailed,
                $"The audit log '{ex.AuditPath}' could not be written for {label} ({_text.Clean(ex.InnerException?.Message ?? ex.Message, 300)}). Nothing is wrong with the API.",
                attempts, AhrvoLimit.None, exception: ex);
    }
}
