using System;

namespace Ahrvo.Client
{
    /// <summary>
    /// A per-card failure: the facts of what went wrong, a message that states them, and what to do
    /// in this library's terms. <see cref="Message"/> says what happened and never names a setting;
    /// <see cref="RecommendedAction"/> names <see cref="AhrvoClientOptions"/> properties. Remedies are
    /// worded in one table (<see cref="Remedies"/>), which a host (the PowerShell module) reads in its
    /// own terms.
    /// </summary>
    public sealed class AhrvoError
    {
        public AhrvoError(AhrvoErrorKind kind, string message, int? httpStatus = null, string? apiCode = null, string? apiMessage = null, Exception? exception = null)
        {
            Kind = kind;
            Message = message;
            HttpStatus = httpStatus;
            ApiCode = apiCode;
            ApiMessage = apiMessage;
            Exception = exception;
        }

        public AhrvoErrorKind Kind { get; }

        /// <summary>What happened, naming the card; without PowerShell or option names. Server text in it is cleaned.</summary>
        public string Message { get; }

        /// <summary>The card the error is about (as given; may be empty when the id itself was missing).</summary>
        public string? CardId { get; init; }

        public int? HttpStatus { get; }

        /// <summary>The API's code and message (cleaned: secrets redacted, card numbers masked).</summary>
        public string? ApiCode { get; }
        public string? ApiMessage { get; }

        /// <summary>Requests sent for the card; 0 when it was refused or given up before any.</summary>
        public int Attempts { get; init; }

        /// <summary>Which limit ended the query (retries, the attempt timeout, the card's time budget), if one did.</summary>
        public AhrvoLimit LimitReached { get; init; }

        /// <summary>The time limit that elapsed, for a timeout: the attempt's (clipped to what was left of the budget) or the budget.</summary>
        public TimeSpan? TimeLimit { get; init; }

        /// <summary>True when the API's throttling (HTTP 429) is why the card could not be read in time.</summary>
        public bool Throttled { get; init; }

        /// <summary>The wait the server last asked for (Retry-After), when it asked.</summary>
        public TimeSpan? RetryAfter { get; init; }

        /// <summary>The error is a request's (AhrvoClient.SendAsync: the vendor's other endpoints), not a card's balance query: its remedy speaks of the request.</summary>
        public bool ForRequest { get; set; }

        /// <summary>What to do, in this library's terms (the options' property names), from <see cref="Remedies"/>' table.</summary>
        public string RecommendedAction => Remedies.For(this, RemedyTerms.Client);

        /// <summary>The underlying cause, when an exception was one (a network error, a failed token provider, the audit log's IOException...).</summary>
        public Exception? Exception { get; }

        /// <summary>401 and 403 are about the account, not the card, and a failed audit log about this machine: every other card fails alike.</summary>
        public bool AffectsEveryCard => Kind == AhrvoErrorKind.Unauthorized || Kind == AhrvoErrorKind.Forbidden || Kind == AhrvoErrorKind.AuditLogFailed;

        /// <summary>The token provider failed (the cause is a <see cref="Auth.TokenProviderException"/>), rather than the API refusing a token.</summary>
        public bool TokenProviderFailed
        {
            get
            {
                for (var e = Exception; e != null; e = e.InnerException)
                    if (e is Auth.TokenProviderException) return true;
                return false;
            }
        }

        /// <summary>The token provider did not answer in time (or was stopped first), rather than failing.</summary>
        public bool TokenProviderDidNotAnswer
        {
            get
            {
                for (var e = Exception; e != null; e = e.InnerException)
                    if (e is Auth.TokenProviderException t) return t.DidNotAnswer;
                return false;
            }
        }

        public override string ToString() => Message;
    }
}
