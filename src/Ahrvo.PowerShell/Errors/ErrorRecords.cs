using System;
using System.Management.Automation;
using Ahrvo.Client;

namespace Ahrvo.PowerShell.Errors
{
    /// <summary>Turns client errors into ErrorRecords with stable ErrorIds and fitting categories.</summary>
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
            _ => ErrorCategory.ProtocolError,
        };

        public static ErrorRecord ForCard(string cardId, AhrvoError error)
        {
            var message = error.RecommendedAction == null ? error.Message : error.Message + " " + error.RecommendedAction;
            var exception = new AhrvoException(message, error.Kind, cardId, error.HttpStatus, error.ApiCode, error.Exception);
            var record = new ErrorRecord(exception, ErrorId(error.Kind), Category(error.Kind), cardId);
            if (error.RecommendedAction != null)
                // The console shows ErrorDetails' message and then "Recommendation:", so the action is not repeated there.
                record.ErrorDetails = new ErrorDetails(error.Message) { RecommendedAction = error.RecommendedAction };
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

        public static ErrorRecord Cancelled(string cardId) =>
            new ErrorRecord(new OperationCanceledException($"Card '{cardId}' was not queried: the command stopped before its answer came."),
                "Ahrvo.Cancelled", ErrorCategory.OperationStopped, cardId);
    }
}
