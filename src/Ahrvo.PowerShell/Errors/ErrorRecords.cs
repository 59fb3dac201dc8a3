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

        /// <summary>
        /// Connect-Ahrvo's names for what a remedy refers to. Only names: the sentences are the
        /// client's one table (<see cref="Remedies"/>), so the module and the client cannot word a
        /// remedy two ways.
        /// </summary>
        internal static readonly RemedyTerms Terms = new RemedyTerms
        {
            TotalTimeout = "-TimeoutSec",
            AttemptTimeout = "-AttemptTimeoutSec",
            MaxRetries = "-MaxRetries",
            BaseUri = "-BaseUri",
            Proxy = "-Proxy",
            AuditLogPath = "-AuditLogPath",
            TokenProviderTimeout = "-TokenProviderTimeoutSec",
            Where = " on Connect-Ahrvo",
            FewerAtOnce = "lower -ThrottleLimit",
            Reconnect = "run Connect-Ahrvo again",
            CredentialSources = " (or fix AHRVO_ACCESS_TOKEN / AHRVO_API_KEY)",
            TokenProvider = "the script given to Connect-Ahrvo -TokenProvider",
            FixedToken = "-AccessToken",
            ReadAgain = "run the command again for the cards that failed (the next command probes it at once)",
            IdempotencyKey = "-IdempotencyKey (Invoke-AhrvoRequest)",
            RequestQuery = "-Query and -Body",
            RequestPath = "-Path and the ids in -Query or -Body",
            InspectAnswer = " (-SkipHttpErrorCheck returns the answer to inspect)",
            CheckBalance = "Get-AhrvoCardBalance",
        };

        /// <summary>What the user should do, naming the cmdlet and parameter that help, from the error's kind and facts.</summary>
        public static string RecommendedAction(AhrvoError error) => Remedies.For(error, Terms);

        /// <summary>The remedy for an id refused before any request (the table's InvalidCard without a status).</summary>
        public static string RefusedIdAction => RecommendedAction(new AhrvoError(AhrvoErrorKind.InvalidCard, "refused before sending"));

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
