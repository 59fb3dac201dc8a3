using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ahrvo.Client
{
    /// <summary>
    /// How a host names the settings and steps a remedy refers to. The client names
    /// <see cref="AhrvoClientOptions"/> properties (<see cref="Client"/>); the PowerShell module names
    /// Connect-Ahrvo's parameters. The sentences themselves are <see cref="Remedies"/>', never the host's.
    /// </summary>
    public sealed class RemedyTerms
    {
        public string TotalTimeout { get; set; } = "";
        public string AttemptTimeout { get; set; } = "";
        public string MaxRetries { get; set; } = "";
        public string BaseUri { get; set; } = "";
        public string Proxy { get; set; } = "";
        public string AuditLogPath { get; set; } = "";
        public string TokenProviderTimeout { get; set; } = "";

        /// <summary>Follows a setting's name: where it is set ("" for the client, " on Connect-Ahrvo").</summary>
        public string Where { get; set; } = "";

        /// <summary>Lower case, mid-sentence: how to send fewer requests at once.</summary>
        public string FewerAtOnce { get; set; } = "";

        /// <summary>Lower case: how to give new settings ("create the client again", "run Connect-Ahrvo again").</summary>
        public string Reconnect { get; set; } = "";

        /// <summary>Follows "a valid access token and API key": other places the credentials come from, or "".</summary>
        public string CredentialSources { get; set; } = "";

        /// <summary>Lower case: what the token provider is called.</summary>
        public string TokenProvider { get; set; } = "";

        /// <summary>What to give instead of the provider ("a fixed AccessToken", "-AccessToken").</summary>
        public string FixedToken { get; set; } = "";

        /// <summary>Lower case: how to read the failed cards again after an outage.</summary>
        public string ReadAgain { get; set; } = "";

        /// <summary>A request's query and body ("the request's query and body", "-Query and -Body").</summary>
        public string RequestQuery { get; set; } = "";

        /// <summary>A request's path and the ids in it.</summary>
        public string RequestPath { get; set; } = "";

        /// <summary>Follows "the vendor's document for this endpoint": how to see the answer itself, or "".</summary>
        public string InspectAnswer { get; set; } = "";

        /// <summary>How to read a card's balance.</summary>
        public string CheckBalance { get; set; } = "";

        /// <summary>How a write is given an idempotency key ("Idempotency-Key header (ApiRequest.IdempotencyKey)", "-IdempotencyKey (Invoke-AhrvoRequest)").</summary>
        public string IdempotencyKey { get; set; } = "";

        /// <summary>This library's own terms: <see cref="AhrvoClientOptions"/> properties.</summary>
        public static RemedyTerms Client { get; } = new RemedyTerms
        {
            TotalTimeout = "TotalTimeout",
            AttemptTimeout = "AttemptTimeout",
            MaxRetries = "MaxRetries",
            BaseUri = "BaseUri",
            Proxy = "Proxy",
            AuditLogPath = "AuditLogPath",
            TokenProviderTimeout = "TokenProviderTimeout",
            Where = "",
            FewerAtOnce = "send fewer cards at once (or set MaxRequestsPerSecond)",
            Reconnect = "create the client again",
            CredentialSources = " (or an AccessTokenProvider that returns a valid token)",
            TokenProvider = "the AccessTokenProvider",
            FixedToken = "a fixed AccessToken",
            ReadAgain = "query the cards that failed again (the next run probes it at once)",
            IdempotencyKey = "Idempotency-Key (ApiRequest.IdempotencyKey)",
            RequestQuery = "the request's query and body",
            RequestPath = "the path and the ids in it",
            CheckBalance = "the card's balance",
        };
    }

    /// <summary>
    /// Every remedy ("what to do") for a card's error, in one table: one entry per
    /// <see cref="AhrvoErrorKind"/>, worded from the error's facts (its status, which limit ended it,
    /// throttling, the token provider) in the terms of the host that shows it. The client's
    /// <see cref="AhrvoError.RecommendedAction"/> and the module's ErrorRecords both read it, so a
    /// remedy is written once and the two cannot drift apart.
    /// </summary>
    public static class Remedies
    {
        private const string ExampleId = "card201907021723076245";

        /// <summary>The table: exactly one entry per kind (a test holds it to that).</summary>
        public static IReadOnlyList<KeyValuePair<AhrvoErrorKind, Func<AhrvoError, RemedyTerms, string>>> Table { get; } =
            new List<KeyValuePair<AhrvoErrorKind, Func<AhrvoError, RemedyTerms, string>>>
            {
                Entry(AhrvoErrorKind.CardNotFound, (e, t) => e.ForRequest
                    ? "Check " + t.RequestPath + " against the vendor's document."
                    : "Verify the card id; the card may have been deleted or cancelled."),
                Entry(AhrvoErrorKind.InvalidCard, (e, t) => e.ForRequest ? "Check " + t.RequestQuery + " against the vendor's document for this endpoint."
                    : e.HttpStatus == null
                    ? "Give the card's id as issued, for example " + ExampleId + "."
                    : BadRequest(ClassifyBadRequest(e.ApiCode, e.ApiMessage))),
                Entry(AhrvoErrorKind.Unauthorized, (e, t) => !e.TokenProviderFailed
                    ? Cap(t.Reconnect) + " with a valid access token and API key" + t.CredentialSources + "."
                    : e.TokenProviderDidNotAnswer
                        ? Cap(t.TokenProvider) + " did not answer in time: run it by hand to see why; raise " + t.TokenProviderTimeout + t.Where + " if it is only slow. The next query asks it again."
                        : "Check " + t.TokenProvider + " (run it by hand to see what it returns), or " + t.Reconnect + " with " + t.FixedToken + "."),
                Entry(AhrvoErrorKind.Forbidden, (e, t) => "Ask your Ahrvo account manager to enable " + (e.ForRequest ? "this API" : "the card issuance balance API") + " for this account."),
                Entry(AhrvoErrorKind.ApiError, (e, t) => "Check the card and try again; contact Ahrvo support if it persists."),
                Entry(AhrvoErrorKind.InvalidResponse, (e, t) => "Try again; if it persists, check " + t.BaseUri + t.Where + " (it may point at the wrong service) and report the response to Ahrvo support."),
                Entry(AhrvoErrorKind.ServiceUnavailable, (e, t) =>
                    e.Throttled ? (e.ForRequest ? "It was not processed. " : "") + "Throttling is waited out while the " + (e.ForRequest ? "request" : "card") + "'s time lasts: raise " + t.TotalTimeout + t.Where + AboveRetryAfter(e) + ", " + t.FewerAtOnce + ", or ask Ahrvo about the account's rate limit."
                    : e.HttpStatus == null && Resilience.Transience.IsNameNotResolved(e.Exception)
                        ? "Check the host name in " + t.BaseUri + t.Where + " (a typo, or a name only another network knows), this machine's DNS settings and network, and the proxy (" + t.Proxy + t.Where + ", or the system's) if one is used."
                    : e.HttpStatus == null ? "Check the network, the proxy (" + t.Proxy + t.Where + ", or the system's) and " + t.BaseUri + ", then try again."
                    : "Try again later; if this persists, raise " + Lifting(e.LimitReached, t) + t.Where + "."),
                Entry(AhrvoErrorKind.Timeout, (e, t) => e.LimitReached switch
                {
                    AhrvoLimit.AttemptTimeout => "Try again later, or raise " + t.AttemptTimeout + " (or " + t.MaxRetries + ")" + t.Where + ".",
                    AhrvoLimit.TotalTimeout => "Try again later, or raise " + t.TotalTimeout + t.Where + ".",
                    _ => "Try again later, or raise " + t.TotalTimeout + " or " + t.AttemptTimeout + t.Where + ".",
                }),
                Entry(AhrvoErrorKind.CircuitOpen, (e, t) => "Check the service's status; when it answers again, " + (e.ForRequest ? "send the request again" : t.ReadAgain) + ". " + t.TotalTimeout + t.Where + " sets how long an outage is waited out."),
                Entry(AhrvoErrorKind.Redirect, (e, t) => "Check " + t.BaseUri + t.Where + ": use the API's final address."),
                Entry(AhrvoErrorKind.UnexpectedStatus, (e, t) => e.ForRequest
                    ? "Check the request against the vendor's document for this endpoint" + t.InspectAnswer + ", and " + t.BaseUri + t.Where + "."
                    : "Check " + t.BaseUri + t.Where + " and the API's status."),
                Entry(AhrvoErrorKind.TlsFailure, (e, t) => "Certificate checks are never turned off. Check " + t.BaseUri + t.Where + ", the system clock, and that the server's certificate chain is trusted on this machine."),
                Entry(AhrvoErrorKind.AuditLogFailed, (e, t) => "Free space or fix the permissions of the audit log's folder, or " + t.Reconnect + " with another " + t.AuditLogPath + "."),
                Entry(AhrvoErrorKind.ClientFailure, (e, t) => "Try again; if it persists, report it to the module's maintainers with this message."),
                Entry(AhrvoErrorKind.MayHaveBeenApplied, (e, t) => "Check whether it took effect before sending it again (for a top-up or a withdrawal: " + t.CheckBalance + " and the card's funding orders). "
                    + "A write given an " + t.IdempotencyKey + " may be sent again with the same key where the API honours it, without applying it twice."),
            };

        private static readonly Dictionary<AhrvoErrorKind, Func<AhrvoError, RemedyTerms, string>> ByKind = Index();

        private static KeyValuePair<AhrvoErrorKind, Func<AhrvoError, RemedyTerms, string>> Entry(AhrvoErrorKind kind, Func<AhrvoError, RemedyTerms, string> text) =>
            new KeyValuePair<AhrvoErrorKind, Func<AhrvoError, RemedyTerms, string>>(kind, text);

        private static Dictionary<AhrvoErrorKind, Func<AhrvoError, RemedyTerms, string>> Index()
        {
            var index = new Dictionary<AhrvoErrorKind, Func<AhrvoError, RemedyTerms, string>>();
            foreach (var e in Table) index[e.Key] = e.Value;
            return index;
        }

        /// <summary>What to do about <paramref name="error"/>, in <paramref name="terms"/>.</summary>
        public static string For(AhrvoError error, RemedyTerms terms)
        {
            if (error == null) throw new ArgumentNullException(nameof(error));
            if (terms == null) throw new ArgumentNullException(nameof(terms));
            return ByKind.TryGetValue(error.Kind, out var text)
                ? text(error, terms)
                : "Try again; if it persists, report it to the module's maintainers with this message.";
        }

        /// <summary>Which of the vendor's two 400 cases the API's code and message name, if they name one.</summary>
        public enum BadRequestCase { Unknown, InvalidId, NotDedicated }

        public static BadRequestCase ClassifyBadRequest(string? apiCode, string? apiMessage)
        {
            var text = ((apiCode ?? "") + " " + (apiMessage ?? "")).ToUpperInvariant().Replace('_', ' ').Replace('-', ' ');
            // The card-type case first: its message may also say "card" and "invalid" ("invalid card type").
            if (text.Contains("DEDICATED") || text.Contains("SHARED") || text.Contains("BUDGET") || text.Contains("CARD TYPE"))
                return BadRequestCase.NotDedicated;
            if (text.Contains("CARD ID") || text.Contains("CARDID") || text.Contains("INVALID") || text.Contains("MISSING") || text.Contains("MALFORMED"))
                return BadRequestCase.InvalidId;
            return BadRequestCase.Unknown;
        }

        // The vendor's 400 means either case: the remedy names the one the API named, both only when it named none.
        private static string BadRequest(BadRequestCase which) => which switch
        {
            BadRequestCase.InvalidId => "Check the card id: the API says it is missing or invalid. Give the id as issued, for example " + ExampleId + ", with nothing around it.",
            BadRequestCase.NotDedicated => "This card is not a Dedicated Funds card: Shared Funds cards have no card balance. Query the budget account balance of its budget account instead.",
            _ => "Check the card id (it may be invalid); if it is right, the card may be a Shared Funds card, which has no card balance: query its budget account balance instead.",
        };

        // The setting that lifts the limit that ended the card.
        private static string Lifting(AhrvoLimit limit, RemedyTerms t) => limit switch
        {
            AhrvoLimit.MaxRetries => t.MaxRetries,
            AhrvoLimit.AttemptTimeout => t.AttemptTimeout,
            AhrvoLimit.TotalTimeout => t.TotalTimeout,
            _ => t.MaxRetries + " or " + t.TotalTimeout,
        };

        // The card's time must outlast the waits the server asks for.
        private static string AboveRetryAfter(AhrvoError error) =>
            error.RetryAfter is TimeSpan ra && ra > TimeSpan.Zero
                ? string.Format(CultureInfo.InvariantCulture, " (the server asked to wait {0:0.###} s)", ra.TotalSeconds)
                : string.Empty;

        private static string Cap(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s.Substring(1);
    }
}
