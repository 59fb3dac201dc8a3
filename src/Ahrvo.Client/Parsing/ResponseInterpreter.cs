using System;
using System.Globalization;
using System.Net.Http;
using Ahrvo.Client.Resilience;
using Polly.Timeout;

namespace Ahrvo.Client.Parsing
{
    /// <summary>
    /// Turns one answer (or one local failure) into a card's result: a balance, or an error that
    /// names the card, what happened and what to do. Never trusts the body.
    /// </summary>
    internal sealed class ResponseInterpreter
    {
        private readonly ServerText _text;
        private readonly string _host;

        public ResponseInterpreter(ServerText text, Uri baseUri)
        {
            _text = text;
            _host = baseUri.Host;
        }

        public BalanceResult Interpret(string cardId, AttemptResponse r, TimeSpan elapsed, int attempts, DateTimeOffset now)
        {
            int status = r.StatusCode;
            if (status == 200)
            {
                if (r.BodyTooLarge)
                    return Fail(new AhrvoError(AhrvoErrorKind.InvalidResponse, $"The API's answer for card '{cardId}' is larger than 1 MB, far beyond a balance response. Check -BaseUri: it may point at the wrong service.", status));
                if (!BalanceResponseParser.TryParse(r.Body, r.BodyLength, out var body, out var problem))
                    return Fail(InvalidResponse(cardId, problem!, r, status));
                // Checked before anything else reads it: it ends up in objects, CSV files and spreadsheets.
                if (!IsCardNumberShape(body.CardNumber))
                    return Fail(InvalidResponse(cardId, "card_number is not shaped like a card number (only digits, mask characters and separators, at most 32 characters)", r, status));
                _text.Clean(body);
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
                return BalanceResult.Ok(cardId, CardNumberMasker.Mask(body.CardNumber), balance, currency, now, status, elapsed, attempts);
            }

            BalanceResponseParser.TryParse(r.Body, r.BodyLength, out var err, out _);
            _text.Clean(err);
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
                case 429:
                    return Fail(new AhrvoError(AhrvoErrorKind.ServiceUnavailable,
                        $"The API kept throttling card '{cardId}' (HTTP 429) until its time ran out, after {attempts} attempt(s) in {elapsed.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s.{api}",
                        status, err.Code, err.Message,
                        "Throttling is waited out while the card's time lasts: raise -TimeoutSec on Connect-Ahrvo, lower -ThrottleLimit, or ask Ahrvo about the account's rate limit."));
            }
            if (status >= 300 && status < 400)
                return Fail(new AhrvoError(AhrvoErrorKind.Redirect,
                    $"The API answered card '{cardId}' with a redirect (HTTP {status}) to '{_text.Clean(r.Location?.ToString(), 200)}'. Redirects are not followed, so that the API key and token never go to another address.",
                    status, recommendedAction: "Check -BaseUri on Connect-Ahrvo: use the API's final address."));
            if (Transience.IsTransientStatus(status))
                return Fail(new AhrvoError(AhrvoErrorKind.ServiceUnavailable,
                    $"The API answered HTTP {status} for card '{cardId}' after {attempts} attempt(s).{api}",
                    status, err.Code, err.Message,
                    "Try again later; raise -MaxRetries or -TimeoutSec on Connect-Ahrvo if this persists."));
            return Fail(new AhrvoError(AhrvoErrorKind.UnexpectedStatus,
                $"The API answered HTTP {status} for card '{cardId}', which this module does not expect.{api}",
                status, err.Code, err.Message, "Check -BaseUri on Connect-Ahrvo and the API's status."));

            BalanceResult Fail(AhrvoError e) => BalanceResult.Failed(cardId, e, status, elapsed, attempts);
        }

        // The problem may quote what the server sent (a balance string, a currency): cleaned like all server text.
        private AhrvoError InvalidResponse(string cardId, string problem, AttemptResponse r, int status) =>
            new AhrvoError(AhrvoErrorKind.InvalidResponse,
                $"The API's answer for card '{cardId}' could not be read: {_text.Clean(problem, 300)} (HTTP {status}, {_text.Clean(r.ContentType, 100) ?? "no content type"}). No balance is reported for this card.",
                status, recommendedAction: "Try again; if it persists, check -BaseUri and report the response to Ahrvo support.");

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

        /// <summary>A failure without an answer (network, timeout, TLS, anything local).</summary>
        public AhrvoError MapException(string cardId, Exception ex, int attempts)
        {
            switch (ex)
            {
                case TimeoutRejectedException t:
                    return new AhrvoError(AhrvoErrorKind.Timeout,
                        $"Card '{cardId}' got no answer in time after {attempts} attempt(s) (timeout {t.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s).",
                        null, recommendedAction: "Try again later, or raise -TimeoutSec or -AttemptTimeoutSec on Connect-Ahrvo.", exception: ex);
                case HttpRequestException _ when Transience.IsTlsFailure(ex):
                    return new AhrvoError(AhrvoErrorKind.TlsFailure,
                        $"Card '{cardId}' was not read: the secure connection to {_host} could not be established ({Innermost(ex).Message.TrimEnd('.')}). Nothing was sent.",
                        null, recommendedAction: "Certificate checks are never turned off. Check -BaseUri, the system clock, and that the server's certificate chain is trusted on this machine.", exception: ex);
                case HttpRequestException _:
                case System.IO.IOException _:
                    return new AhrvoError(AhrvoErrorKind.ServiceUnavailable,
                        $"Card '{cardId}' could not be read after {attempts} attempt(s): {_text.Clean(Transience.Describe(ex), 300)}",
                        null, recommendedAction: "Check the network, proxy (-Proxy) and -BaseUri, then try again.", exception: ex);
                case OperationCanceledException _:
                    return new AhrvoError(AhrvoErrorKind.Timeout,
                        $"Card '{cardId}' was cancelled before an answer came after {attempts} attempt(s).", null, exception: ex);
                default:
                    return ClientFailure(cardId, ex);
            }
        }

        /// <summary>An exception this module does not know: its own failure, never blamed on the API.</summary>
        public AhrvoError ClientFailure(string cardId, Exception ex) =>
            new AhrvoError(AhrvoErrorKind.ClientFailure,
                $"Card '{cardId}' was not read: this module failed on this machine ({ex.GetType().Name}: {_text.Clean(ex.Message, 300)}). Nothing is known to be wrong with the API.",
                null, recommendedAction: "Try again; if it persists, report it to the module's maintainers with this message.", exception: ex);

        /// <summary>The audit log could not be written: a local problem that stops the run.</summary>
        public AhrvoError AuditFailed(string cardId, AuditLogException ex) =>
            new AhrvoError(AhrvoErrorKind.AuditLogFailed,
                $"The audit log '{ex.AuditPath}' could not be written while reading card '{cardId}' ({_text.Clean(ex.InnerException?.Message ?? ex.Message, 300)}), so the command stops: no query goes unaudited. Nothing is wrong with the API.",
                null, recommendedAction: "Free space or fix the permissions of the audit log's folder, or connect again with another -AuditLogPath.", exception: ex);

        /// <summary>The token provider failed: the account cannot be read with this connection. Its text is cleaned like server text.</summary>
        public AhrvoError TokenProviderFailed(string cardId, Exception ex) =>
            new AhrvoError(AhrvoErrorKind.Unauthorized,
                $"Card '{cardId}' was not read: {_text.Clean(ProviderMessage(ex), 300)}",
                null, recommendedAction: "Check the script given to Connect-Ahrvo -TokenProvider (run it by hand), or connect again with -AccessToken.", exception: ex);

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
                : $"Card '{cardId}' was not read after {attempts} attempt(s) (last: {lastFailure ?? "no answer"})";
            return new AhrvoError(AhrvoErrorKind.CircuitOpen,
                string.Format(CultureInfo.InvariantCulture, "{0}: the service at {1} has not answered for {2:0.#} s ({3}), longer than the card's time allows (circuit open).",
                    what, _host, downFor.TotalSeconds, reason ?? "requests failed"),
                null, recommendedAction: "Check the service's status; when it answers again, run the command again for the cards that failed (the next command probes it at once). -TimeoutSec sets how long an outage is waited out.");
        }
    }
}
