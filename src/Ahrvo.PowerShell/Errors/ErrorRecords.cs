using System;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.Client;

namespace Ahrvo.PowerShell.Errors
{
    /// <summary>
    /// Turns client errors into ErrorRecords: a stable ErrorId, a fitting category, and what to do
    /// in PowerShell's terms. The client's error carries the facts and a message that states them
    /// without naming any parameter; the remedy that names Connect-Ahrvo's parameters lives here.
    /// </summary>
    internal static class ErrorRecords
    {
        public static string ErrorId(AhrvoErrorKind kind) => "Ahrvo." + kind;

        public static ErrorCategory Category(AhrvoErrorKind kind) => kind switch
        {
            AhrvoErrorKind.CardNotFound => ErrorCategory.ObjectNotFound,
            AhrvoErrorKind.InvalidCard => ErrorCategory.InvalidArgument,
            AhrvoErrorKind.Unauthorized => ErrorCategory.AuthenticationError,
            AhrvoErrorKind.Forbidden => ErrorCategory.PermissionDenied,
            AhrvoErrorKind.ApiError => ErrorCategory.InvalidResult,
            AhrvoErrorKind.InvalidResponse => ErrorCategory.InvalidData,
            AhrvoErrorKind.ServiceUnavailable => ErrorCategory.ConnectionError,
            AhrvoErrorKind.Timeout => ErrorCategory.OperationTimeout,
            AhrvoErrorKind.CircuitOpen => ErrorCategory.ResourceUnavailable,
            AhrvoErrorKind.Redirect => ErrorCategory.SecurityError,
            AhrvoErrorKind.TlsFailure => ErrorCategory.SecurityError,
            AhrvoErrorKind.AuditLogFailed => ErrorCategory.WriteError,
            AhrvoErrorKind.ClientFailure => ErrorCategory.InvalidOperation,
            AhrvoErrorKind.MayHaveBeenApplied => ErrorCategory.InvalidResult, // the result is unknown (Invoke-AhrvoRequest)
            _ => ErrorCategory.ProtocolError,
        };

        /// <summary>What the user should do, naming the cmdlet and parameter that help, from the error's kind and facts.</summary>
        public static string RecommendedAction(AhrvoError error) => error.Kind switch
        {
            AhrvoErrorKind.CardNotFound => "Verify the card id; the card may have been deleted or cancelled.",
            AhrvoErrorKind.InvalidCard => error.HttpStatus == null
                ? "Give the card's id as issued, for example card201907021723076245."
                : InvalidCardAction(error),
            AhrvoErrorKind.Unauthorized => error.TokenProviderFailed
                ? (error.TokenProviderDidNotAnswer
                    ? "The script given to Connect-Ahrvo -TokenProvider did not answer in time: run it by hand to see why; raise -TokenProviderTimeoutSec if it is only slow. The next query asks it again."
                    : "Check the script given to Connect-Ahrvo -TokenProvider (run it by hand), or connect again with -AccessToken.")
                : "Run Connect-Ahrvo again with a valid access token and API key (or fix AHRVO_ACCESS_TOKEN / AHRVO_API_KEY).",
            AhrvoErrorKind.Forbidden => "Ask your Ahrvo account manager to enable the card issuance balance API for this account.",
            AhrvoErrorKind.ApiError => "Check the card and try again; contact Ahrvo support if it persists.",
            AhrvoErrorKind.InvalidResponse => "Try again; if it persists, check -BaseUri on Connect-Ahrvo (it may point at the wrong service) and report the response to Ahrvo support.",
            AhrvoErrorKind.ServiceUnavailable when error.Throttled =>
                "Throttling is waited out while the card's time lasts: raise -TimeoutSec on Connect-Ahrvo" + AboveRetryAfter(error)
                + ", lower -ThrottleLimit, or ask Ahrvo about the account's rate limit.",
            AhrvoErrorKind.ServiceUnavailable when error.HttpStatus == null =>
                "Check the network, the proxy (-Proxy on Connect-Ahrvo, or the system's) and -BaseUri, then try again.",
            AhrvoErrorKind.ServiceUnavailable => "Try again later; if this persists, raise " + Lifting(error.LimitReached) + " on Connect-Ahrvo.",
            AhrvoErrorKind.Timeout => error.LimitReached switch
            {
                AhrvoLimit.AttemptTimeout => "Try again later, or raise -AttemptTimeoutSec (or -MaxRetries) on Connect-Ahrvo.",
                AhrvoLimit.TotalTimeout => "Try again later, or raise -TimeoutSec on Connect-Ahrvo.",
                _ => "Try again later, or raise -TimeoutSec or -AttemptTimeoutSec on Connect-Ahrvo.",
            },
            AhrvoErrorKind.CircuitOpen => "Check the service's status; when it answers again, run the command again for the cards that failed (the next command probes it at once). -TimeoutSec on Connect-Ahrvo sets how long an outage is waited out.",
            AhrvoErrorKind.Redirect => "Check -BaseUri on Connect-Ahrvo: use the API's final address.",
            AhrvoErrorKind.UnexpectedStatus => "Check -BaseUri on Connect-Ahrvo and the API's status.",
            AhrvoErrorKind.TlsFailure => "Certificate checks are never turned off. Check -BaseUri on Connect-Ahrvo, the system clock, and that the server's certificate chain is trusted on this machine.",
            AhrvoErrorKind.AuditLogFailed => "Free space or fix the permissions of the audit log's folder, or run Connect-Ahrvo again with another -AuditLogPath.",
            AhrvoErrorKind.ClientFailure => "Try again; if it persists, report it to the module's maintainers with this message.",
            AhrvoErrorKind.MayHaveBeenApplied => "Check whether the write took effect before sending it again; give writes an -IdempotencyKey (Invoke-AhrvoRequest).",
            // A kind this table does not know yet: the client's own advice, else a general one.
            _ => error.RecommendedAction ?? "Try again; if it persists, report it to the module's maintainers with this message.",
        };

        /// <summary>Which of the vendor's two 400 cases the API's code and message name, if they name one.</summary>
        internal enum BadRequestCase { Unknown, InvalidId, NotDedicated }

        internal static BadRequestCase ClassifyBadRequest(string? apiCode, string? apiMessage)
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
        private static string InvalidCardAction(AhrvoError error) => ClassifyBadRequest(error.ApiCode, error.ApiMessage) switch
        {
            BadRequestCase.InvalidId => "Check the card id: the API says it is missing or invalid. Give the id as issued, for example card201907021723076245, with nothing around it.",
            BadRequestCase.NotDedicated => "This card is not a Dedicated Funds card: Shared Funds cards have no card balance. Query the budget account balance of its budget account instead.",
            _ => "Check the card id (it may be invalid); if it is right, the card may be a Shared Funds card, which has no card balance: query its budget account balance instead.",
        };

        // The parameter that lifts the limit that ended the card.
        private static string Lifting(AhrvoLimit limit) => limit switch
        {
            AhrvoLimit.MaxRetries => "-MaxRetries",
            AhrvoLimit.AttemptTimeout => "-AttemptTimeoutSec",
            AhrvoLimit.TotalTimeout => "-TimeoutSec",
            _ => "-MaxRetries or -TimeoutSec",
        };

        // The card's time must outlast the waits the server asks for.
        private static string AboveRetryAfter(AhrvoError error) =>
            error.RetryAfter is TimeSpan ra && ra > TimeSpan.Zero
                ? string.Format(CultureInfo.InvariantCulture, " (the server asked to wait {0:0.###} s)", ra.TotalSeconds)
                : string.Empty;

        /// <summary>The facts, then what to do: what $_.Exception.Message, logs and the report's failed cards show.</summary>
        public static string Describe(AhrvoError error) => error.Message + " " + RecommendedAction(error);

        public static ErrorRecord ForCard(string cardId, AhrvoError error)
        {
            var action = RecommendedAction(error);
            var exception = new AhrvoException(Describe(error), error.Kind, cardId, error.HttpStatus, error.ApiCode, error.Exception);
            return new ErrorRecord(exception, ErrorId(error.Kind), Category(error.Kind), cardId)
            {
                // The console shows ErrorDetails' message and then "Recommendation:", so the action is not repeated there.
                ErrorDetails = new ErrorDetails(error.Message) { RecommendedAction = action },
            };
        }

        /// <summary>
        /// Connect-Ahrvo's settings refused by the client's checks. The client words its refusals
        /// for any caller; where the fix is a parameter, the message names it instead.
        /// </summary>
        public static ErrorRecord InvalidConnection(ArgumentException refused, AhrvoClientOptions options)
        {
            Exception exception = refused;
            string? action = null;
            if (options.Proxy is Uri proxy && proxy.IsAbsoluteUri && !string.IsNullOrEmpty(proxy.UserInfo))
            {
                // Never the user info itself: it holds the password.
                exception = new ArgumentException($"The proxy URI for '{proxy.Host}' carries a user name or password. Give them with -ProxyCredential instead, so they are never shown.", refused);
                action = "Run Connect-Ahrvo again with -Proxy set to the address only and -ProxyCredential (Get-Credential).";
            }
            var record = new ErrorRecord(exception, "Ahrvo.InvalidConnection", ErrorCategory.InvalidArgument, options.BaseUri);
            if (action != null) record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = action };
            return record;
        }

        public static ErrorRecord NotConnected() =>
            new ErrorRecord(
                new InvalidOperationException("Not connected to Ahrvo. Run Connect-Ahrvo first (or set AHRVO_API_KEY and AHRVO_ACCESS_TOKEN and run Connect-Ahrvo), or pass -Connection."),
                "Ahrvo.NotConnected", ErrorCategory.ConnectionError, null)
            {
                ErrorDetails = new ErrorDetails("Not connected to Ahrvo. Run Connect-Ahrvo first, or pass -Connection.")
                {
                    RecommendedAction = "Run Connect-Ahrvo -ApiKey (Read-Host -AsSecureString) -AccessToken (Read-Host -AsSecureString).",
                },
            };

        /// <summary>The audit log could not be opened or created (at Connect-Ahrvo or when a command starts): no card named, none was read.</summary>
        public static ErrorRecord AuditLogFailed(AuditLogException ex)
        {
            var message = ex.Message + " No balance is read without its audit line. Nothing is wrong with the API.";
            return new ErrorRecord(ex, ErrorId(AhrvoErrorKind.AuditLogFailed), Category(AhrvoErrorKind.AuditLogFailed), ex.AuditPath)
            {
                ErrorDetails = new ErrorDetails(message)
                {
                    RecommendedAction = RecommendedAction(new AhrvoError(AhrvoErrorKind.AuditLogFailed, message)),
                },
            };
        }

        /// <summary>
        /// An export that received no card object and no card result: the previous file is left as
        /// it was, since an empty one would read as "no card failed" to whatever watches it.
        /// </summary>
        public static ErrorRecord NothingToExport(string path, string what, int refused)
        {
            var message = (refused > 0
                    ? string.Format(CultureInfo.InvariantCulture, "None of the {0} input{1} was a card balance or a card to read (each was refused above)", refused, refused == 1 ? "" : "s")
                    : "No card balance or card to read came in")
                + ", so the " + what + " file '" + path + "' was left untouched: an empty file would look like a run in which no card failed.";
            return new ErrorRecord(new InvalidOperationException(message), "Ahrvo.NothingToExport", ErrorCategory.InvalidData, path)
            {
                ErrorDetails = new ErrorDetails(message)
                {
                    RecommendedAction = "Pipe the output of Get-AhrvoCardBalance (or give -CardId); for a CSV of card ids: Import-Csv cards.csv | Get-AhrvoCardBalance | " + (what == "metrics" ? "Export-AhrvoBalanceMetric" : "Export-AhrvoBalanceReport") + " -Path ...",
                },
            };
        }

        public static ErrorRecord Cancelled(string cardId) =>
            new ErrorRecord(new OperationCanceledException($"Card '{cardId}' was not queried: the command stopped before its answer came."),
                "Ahrvo.Cancelled", ErrorCategory.OperationStopped, cardId);
    }
}
