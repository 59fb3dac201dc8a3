using System;
using System.Globalization;
using System.Net.Http;
using Ahrvo.Client.Resilience;
using Polly.Timeout;

namespace Ahrvo.Client.Parsing
{
    /// <summary>
    /// Turns one answer (or one local failure) into a card's result: a balance, or an error that
    /// carries the facts (card, status, attempts, which limit ended it...), a message that states
    /// them. Never trusts the body. No remedy is worded here: every one is in <see cref="Remedies"/>'
    /// table, which the error reads in this library's terms and the module in its own.
    /// </summary>
    internal sealed class ResponseInterpreter
    {
        private readonly ServerText _text;
        private readonly string _host;
        private readonly string _resolvedName; // the name this machine resolves: the proxy's when one is set
        private readonly TimeSpan _attemptTimeout;
        private readonly TimeSpan _budget;

        public ResponseInterpreter(ServerText text, AhrvoClientOptions options)
        {
            _text = text;
            _host = options.BaseUri.Host;
            _resolvedName = Transience.NameResolved(options);
            _attemptTimeout = options.AttemptTimeout;
            _budget = options.TotalTimeout;
        }

        /// <summary>What is known of a card's query when it ends, besides the answer.</summary>
        private readonly struct Facts
        {
            public Facts(string cardId, int attempts, AhrvoLimit limit, TimeSpan? retryAfter)
            {
                CardId = cardId;
                Attempts = attempts;
                Limit = limit;
                RetryAfter = retryAfter;
            }

            public readonly string CardId;
            public readonly int Attempts;
            public readonly AhrvoLimit Limit;
            public readonly TimeSpan? RetryAfter;
        }

        private static AhrvoError Error(AhrvoErrorKind kind, in Facts f, string message, int? status = null, string? apiCode = null, string? apiMessage = null,
            Exception? exception = null, AhrvoLimit? limit = null, bool throttled = false, TimeSpan? timeLimit = null) =>
            new AhrvoError(kind, message, status, apiCode, apiMessage, exception)
            {
                CardId = f.CardId,
                Attempts = f.Attempts,
                LimitReached = limit ?? f.Limit,
                RetryAfter = f.RetryAfter,
                Throttled = throttled,
                TimeLimit = timeLimit,
            };

        private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

        /// <summary>
        /// The card's last answer. <paramref name="limit"/> says which limit made it the last one
        /// (the retries, the card's time budget), or None when the answer itself is final.
        /// </summary>
        public BalanceResult Interpret(string cardId, AttemptResponse r, TimeSpan elapsed, int attempts, DateTimeOffset now, AhrvoLimit limit = AhrvoLimit.None)
        {
            try
            {
                return Interpret(cardId, r, elapsed, attempts, now, limit, readBody: true);
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                // Whatever the body did to the reading of it, the status still says what happened:
                // the card ends with the kind its status means, never as this module's failure.
                return Interpret(cardId, r, elapsed, attempts, now, limit, readBody: false, unreadable: ex);
            }
        }

        private BalanceResult Interpret(string cardId, AttemptResponse r, TimeSpan elapsed, int attempts, DateTimeOffset now, AhrvoLimit limit, bool readBody, Exception? unreadable = null)
        {
            int status = r.StatusCode;
            var f = new Facts(cardId, attempts, limit, r.RetryAfter);
            if (status == 200)
            {
                if (!readBody)
                    return Fail(InvalidResponse(f, "the body could not be read (" + unreadable!.GetType().Name + ")", r, status));
                if (r.BodyUndecodable)
                    return Fail(InvalidResponse(f, "the body could not be decoded (Content-Encoding)", r, status));
                if (r.BodyTooLarge)
                    return Fail(Error(AhrvoErrorKind.InvalidResponse, f,
                        $"The API's answer for card '{cardId}' is larger than 1 MB, far beyond a balance response.", status));
                if (!BalanceResponseParser.TryParse(r.Body, r.BodyLength, out var body, out var problem))
                    return Fail(InvalidResponse(f, problem!, r, status));
                // Checked before anything else reads it: it ends up in objects, CSV files and spreadsheets.
                if (!IsCardNumberShape(body.CardNumber))
                    return Fail(InvalidResponse(f, "card_number is not shaped like a card number (only digits, mask characters and separators, at most 32 characters)", r, status));
                _text.Clean(body);
                if (!string.Equals(body.Code, "SUCCESS", StringComparison.Ordinal))
                    return Fail(Error(AhrvoErrorKind.ApiError, f,
                        $"The API did not return a balance for card '{cardId}': code '{body.Code ?? "(none)"}'{(body.Message != null ? ": " + body.Message.Trim().TrimEnd('.') : string.Empty)}.",
                        status, body.Code, body.Message));
                if (!body.HasData)
                    return Fail(InvalidResponse(f, "the 'data' object is missing", r, status));
                if (body.BalanceIsNull || body.AvailableBalanceText == null)
                    return Fail(InvalidResponse(f, body.BalanceIsNull ? "available_balance is null" : "available_balance is missing", r, status));
                if (!MoneyParser.TryParse(body.AvailableBalanceText, out var balance, out var why))
                    return Fail(InvalidResponse(f, "available_balance: " + why, r, status));
                var currency = string.IsNullOrWhiteSpace(body.Currency) ? "USD" : body.Currency!.Trim().ToUpperInvariant();
                // A currency we cannot name would make the amount meaningless: refuse rather than guess.
                if (!IsCurrencyCode(currency))
                    return Fail(InvalidResponse(f, $"currency '{currency}' is not a three-letter ISO code", r, status));
                return BalanceResult.Ok(cardId, CardNumberMasker.Mask(body.CardNumber), balance, currency, now, status, elapsed, attempts);
            }

            var err = new ParsedBody();
            if (readBody && !r.BodyTooLarge && !r.BodyUndecodable)
            {
                BalanceResponseParser.TryParse(r.Body, r.BodyLength, out err, out _);
                _text.Clean(err);
            }
            string api = err.Message != null ? $" The API said: {err.Message.Trim().TrimEnd('.')}." : string.Empty;
            // A web page, not the API's JSON: a gateway, a firewall, a proxy or a wrong address answered.
            // Its 400, 403 or 404 says nothing of the card or the account: a WAF's block page or a
            // CDN's 404 read as "card not found" or "not enabled for this account" blamed the wrong
            // party, and a 403 page stopped the whole run.
            if ((status == 400 || status == 403 || status == 404) && IsHtml(r))
                return Fail(Error(AhrvoErrorKind.UnexpectedStatus, f,
                    $"Card '{cardId}' was not read: the answer (HTTP {status}) was a web page, not the API's JSON, so something in front of the API sent it (a gateway, firewall or proxy, or a wrong address); it says nothing of the card or the account.",
                    status));
            switch (status)
            {
                case 400:
                    return Fail(Error(AhrvoErrorKind.InvalidCard, f,
                        $"Card '{cardId}' was refused (HTTP 400): the id is invalid or the card is not a Dedicated Funds card.{api}",
                        status, err.Code, err.Message));
                case 401:
                    return Fail(Error(AhrvoErrorKind.Unauthorized, f,
                        $"The API refused the access token or API key (HTTP 401) while reading card '{cardId}'.{api}",
                        status, err.Code, err.Message));
                case 403:
                    return Fail(Error(AhrvoErrorKind.Forbidden, f,
                        $"Card '{cardId}' was not read: card issuance is not enabled for this account (HTTP 403).{api}",
                        status, err.Code, err.Message));
                case 404:
                    return Fail(Error(AhrvoErrorKind.CardNotFound, f,
                        $"Card '{cardId}' was not found (HTTP 404).{api}",
                        status, err.Code, err.Message));
                case 429:
                    // Throttling is never a failure that retries run out on: only the card's time ends it.
                    string asked = r.RetryAfter is TimeSpan ra && ra > TimeSpan.Zero ? $"; the server last asked to wait {Seconds(ra)} s (Retry-After)" : string.Empty;
                    return Fail(Error(AhrvoErrorKind.ServiceUnavailable, f,
                        $"The API kept throttling card '{cardId}' (HTTP 429) until its {Seconds(_budget)} s budget left no room for another wait, after {attempts} attempt(s) in {elapsed.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (429s that came while the API accepted other requests did not count against it){asked}.{api}",
                        status, err.Code, err.Message, limit: AhrvoLimit.TotalTimeout, throttled: true));
            }
            if (status >= 300 && status < 400)
                return Fail(Error(AhrvoErrorKind.Redirect, f,
                    $"The API answered card '{cardId}' with a redirect (HTTP {status}) to '{_text.Clean(r.Location?.ToString(), 200)}'. Redirects are not followed, so that the API key and token never go to another address.", status));
            if (Transience.IsTransientStatus(status))
                return Fail(Error(AhrvoErrorKind.ServiceUnavailable, f,
                    $"The API answered HTTP {status} for card '{cardId}' after {attempts} attempt(s){Ended(limit)}.{api}",
                    status, err.Code, err.Message));
            return Fail(Error(AhrvoErrorKind.UnexpectedStatus, f,
                $"The API answered HTTP {status} for card '{cardId}', which this module does not expect.{api}", status, err.Code, err.Message));

            BalanceResult Fail(AhrvoError e) => BalanceResult.Failed(cardId, e, status, elapsed, attempts);
        }

        /// <summary>The body is a web page: its content type says HTML, or it begins with markup.</summary>
        private static bool IsHtml(AttemptResponse r)
        {
            if (r.ContentType != null && r.ContentType.IndexOf("html", StringComparison.OrdinalIgnoreCase) >= 0) return true;
            if (r.BodyTooLarge || r.BodyUndecodable) return false;
            int i = 0, n = Math.Min(r.BodyLength, r.Body.Length);
            if (n >= 3 && r.Body[0] == 0xEF && r.Body[1] == 0xBB && r.Body[2] == 0xBF) i = 3; // a UTF-8 BOM
            while (i < n && (r.Body[i] == ' ' || r.Body[i] == '\t' || r.Body[i] == '\r' || r.Body[i] == '\n')) i++;
            return i < n && r.Body[i] == '<';
        }

        /// <summary>Why a card that kept failing stopped, as the end of a sentence.</summary>
        private string Ended(AhrvoLimit limit) => limit switch
        {
            AhrvoLimit.MaxRetries => ", and no retry was left",
            AhrvoLimit.TotalTimeout => $", when its {Seconds(_budget)} s budget ran out",
            _ => string.Empty,
        };

        // The problem may quote what the server sent (a balance string, a currency): cleaned like all server text.
        private AhrvoError InvalidResponse(in Facts f, string problem, AttemptResponse r, int status) =>
            Error(AhrvoErrorKind.InvalidResponse, f,
                $"The API's answer for card '{f.CardId}' could not be read: {_text.Clean(problem, 300)} (HTTP {status}, {_text.Clean(r.ContentType, 100) ?? "no content type"}). No balance is reported for this card.", status);

        /// <summary>An id that cannot be sent: refused before any request.</summary>
        public AhrvoError RefusedId(string cardId, string problem) =>
            Error(AhrvoErrorKind.InvalidCard, new Facts(cardId, 0, AhrvoLimit.None, null),
                problem + " Nothing was sent.");

        /// <summary>
        /// A card number has a known shape: digits, mask characters (* X x • #) and separators
        /// (space, -), at most 32 characters. Anything else (a spreadsheet formula such as
        /// =HYPERLINK(...), markup, words) is refused rather than passed on (OWASP API10).
        /// Missing or empty is allowed: the number is informative, the balance is what is asked for.
        /// </summary>
        internal static bool IsCardNumberShape(string? number)
        {
            if (string.IsNullOrEmpty(number)) return true;
            if (number!.Length > 32) return false;
            bool any = false;
            foreach (var c in number)
            {
                if ((c >= '0' && c <= '9') || c == '*' || c == 'X' || c == 'x' || c == '\u2022' || c == '#') any = true;
                else if (c != ' ' && c != '-') return false;
            }
            return any;
        }

        private static bool IsCurrencyCode(string s)
        {
            if (s.Length != 3) return false;
            foreach (var c in s) if (c < 'A' || c > 'Z') return false;
            return true;
        }

        private static Exception Innermost(Exception ex)
        {
            while (ex.InnerException != null) ex = ex.InnerException;
            return ex;
        }

        /// <summary>
        /// A failure without an answer (network, timeout, TLS, anything local). <paramref name="limit"/>
        /// says which limit made it the last one, as for <see cref="Interpret"/>.
        /// </summary>
        public AhrvoError MapException(string cardId, Exception ex, int attempts, AhrvoLimit limit = AhrvoLimit.None)
        {
            var f = new Facts(cardId, attempts, limit, null);
            switch (ex)
            {
                case TimeoutRejectedException t:
                {
                    // The attempt's own timeout, when the retries were used up on it (the attempt
                    // timeout, or the hang threshold once the service's pace is known); the budget,
                    // when no retry fitted in it.
                    var which = limit == AhrvoLimit.MaxRetries ? AhrvoLimit.AttemptTimeout : limit;
                    string what = which switch
                    {
                        AhrvoLimit.AttemptTimeout when t.Timeout >= _attemptTimeout => $"the last one waited its full attempt timeout of {Seconds(t.Timeout)} s, and no retry was left",
                        AhrvoLimit.AttemptTimeout => $"the last one waited {Seconds(t.Timeout)} s, far longer than the service's answers took, and no retry was left",
                        AhrvoLimit.TotalTimeout => $"its {Seconds(_budget)} s budget ran out (the last attempt waited {Seconds(t.Timeout)} s)",
                        _ => $"the last one waited {Seconds(t.Timeout)} s",
                    };
                    return Error(AhrvoErrorKind.Timeout, f,
                        $"Card '{cardId}' got no answer in time after {attempts} attempt(s): {what}.",
                        exception: ex, limit: which, timeLimit: which == AhrvoLimit.TotalTimeout ? _budget : t.Timeout);
                }
                case HttpRequestException _ when Transience.IsNameNotResolved(ex):
                {
                    // This machine's resolver, not the card nor the API: say so, and name the host.
                    string dns = _text.Clean(ex.Message, 300)!.TrimEnd('.');
                    return Error(AhrvoErrorKind.ServiceUnavailable, f, limit == AhrvoLimit.None
                        ? $"Card '{cardId}' was not read: {_resolvedName} does not resolve to an address on this machine ({dns}), and no request of this connection has been answered yet, so it was not retried. The request never left this machine: nothing is known to be wrong with the card or the API."
                        : $"Card '{cardId}' could not be read after {attempts} attempt(s){Ended(limit)}: {_resolvedName} did not resolve to an address on the last one ({dns}), though it had been answered before. The request never left this machine: nothing is known to be wrong with the card or the API.",
                        exception: ex);
                }
                case HttpRequestException _ when Transience.IsTlsFailure(ex):
                    return Error(AhrvoErrorKind.TlsFailure, f,
                        $"Card '{cardId}' was not read: the secure connection to {_host} could not be established ({_text.Clean(Innermost(ex).Message, 300)!.TrimEnd('.')}). Nothing was sent.",
                        exception: ex);
                case HttpRequestException _:
                case System.IO.IOException _:
                    return Error(AhrvoErrorKind.ServiceUnavailable, f,
                        $"Card '{cardId}' could not be read after {attempts} attempt(s){Ended(limit)}: {_text.Clean(Transience.Describe(ex), 300)!.TrimEnd('.')}.",
                        exception: ex);
                case OperationCanceledException _:
                    return Error(AhrvoErrorKind.Timeout, f,
                        $"Card '{cardId}' was cancelled before an answer came after {attempts} attempt(s).",
                        exception: ex);
                default:
                    return ClientFailure(cardId, ex, attempts);
            }
        }

        /// <summary>An exception this module does not know: its own failure, never blamed on the API.</summary>
        public AhrvoError ClientFailure(string cardId, Exception ex, int attempts = 0) =>
            Error(AhrvoErrorKind.ClientFailure, new Facts(cardId, attempts, AhrvoLimit.None, null),
                $"Card '{cardId}' was not read: this module failed on this machine ({ex.GetType().Name}: {_text.Clean(ex.Message, 300)}). Nothing is known to be wrong with the API.",
                exception: ex);

        /// <summary>The audit log could not be written: a local problem that stops the run.</summary>
        public AhrvoError AuditFailed(string cardId, AuditLogException ex, int attempts) =>
            Error(AhrvoErrorKind.AuditLogFailed, new Facts(cardId, attempts, AhrvoLimit.None, null),
                $"The audit log '{ex.AuditPath}' could not be written while reading card '{cardId}' ({_text.Clean(ex.InnerException?.Message ?? ex.Message, 300)}), so the run stops: no query goes unaudited. Nothing is wrong with the API.",
                exception: ex);

        /// <summary>The token provider failed: the account cannot be read with this connection. Its text is cleaned like server text.</summary>
        public AhrvoError TokenProviderFailed(string cardId, Exception ex, int attempts, int? status) =>
            Error(AhrvoErrorKind.Unauthorized, new Facts(cardId, attempts, AhrvoLimit.None, null),
                $"Card '{cardId}' was not read: {_text.Clean(ProviderMessage(ex), 300)}",
                status, exception: ex);

        // The provider's own words, never those of what it called (they could quote a secret).
        private static string ProviderMessage(Exception ex)
        {
            for (var e = ex; e != null; e = e.InnerException)
                if (e is Auth.TokenProviderException) return e.Message;
            return "the token provider of this connection failed (" + ex.GetType().Name + ").";
        }

        /// <summary>The service has been down longer than the card's time: it is given up, never blamed on the card.</summary>
        public AhrvoError ServiceDown(string cardId, int attempts, string? lastFailure, TimeSpan downFor, string? reason)
        {
            var what = attempts == 0
                ? $"Card '{cardId}' was not queried"
                : $"Card '{cardId}' was not read after {attempts} attempt(s) (last: {_text.Clean(lastFailure, 300) ?? "no answer"})"; // an exception's text: cleaned like server text
            return Error(AhrvoErrorKind.CircuitOpen, new Facts(cardId, attempts, AhrvoLimit.TotalTimeout, null),
                string.Format(CultureInfo.InvariantCulture, "{0}: the service at {1} has not answered for {2:0.#} s ({3}), longer than the card's {4} s budget allows (circuit open).",
                    what, _host, downFor.TotalSeconds, reason ?? "requests failed", Seconds(_budget)));
        }
    }
}
