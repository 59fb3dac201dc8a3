using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using Ahrvo.Client;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Parsing;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// Checks the connection's credentials before a long run, as Connect-MgGraph and
    /// Connect-AzAccount do at connect: one query for a card id that cannot exist. A 401 or 403 is
    /// about the credentials or the account; a 400 or 404 is about the card, so the credentials work.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "AhrvoConnection")]
    [OutputType(typeof(ConnectionTest))]
    [OutputType(typeof(bool))]
    public sealed class TestAhrvoConnectionCommand : AhrvoCmdlet, IDisposable
    {
        /// <summary>Shaped like the API's ids (so no gateway refuses it for its shape) and issued to no card.</summary>
        internal const string ProbeCardId = "card000000000000000000";

        // As the client's debug output shows a secret: never the secret itself.
        private const string Redacted = "***REDACTED***";

        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

        [Parameter]
        public SwitchParameter Quiet { get; set; }

        protected override void EndProcessing()
        {
            var connection = ResolveConnection();
            AhrvoConnection.Lease? lease = null;
            try
            {
                lease = connection.Acquire();
            }
            catch (AuditLogException ex)
            {
                ThrowTerminatingError(ErrorRecords.AuditLogFailed(ex));
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is ArgumentException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "Ahrvo.ConnectionUnusable", ErrorCategory.ConnectionError, connection));
            }
            using (lease)
            {
                var relative = CardIdRules.BalancePathAndQuery(ProbeCardId);
                WriteVerbose(string.Format(CultureInfo.InvariantCulture,
                    "Checking the credentials with one request: GET {0} with the headers Accept: application/json, Authorization: Bearer {1}, x-api-key: {1} (the connection's secrets, never shown). "
                    + "'{2}' is issued to no card: 401 or 403 means the credentials or the account are refused, 400 or 404 that they work. One audit line, no retry.",
                    new Uri(EnsureSlash(connection.BaseUri), relative), Redacted, ProbeCardId));
                var messages = new ConcurrentQueue<DiagnosticMessage>();
                var diagnostics = new RequestDiagnostics(IsOn("Verbose", "VerbosePreference"), IsOn("Debug", "DebugPreference"), messages.Enqueue);
                var started = DateTimeOffset.UtcNow;
                BalanceResult result;
                try
                {
                    result = lease!.Client.CheckAccessAsync(ProbeCardId, diagnostics, _stopping.Token).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    throw new PipelineStoppedException();
                }
                while (messages.TryDequeue(out var m))
                {
                    if (m.Level == DiagnosticLevel.Debug) WriteDebug(m.Text);
                    else WriteVerbose(m.Text);
                }
                if (result.Error?.Kind == AhrvoErrorKind.AuditLogFailed) ThrowTerminatingError(ErrorRecords.ForCard(ProbeCardId, result.Error));
                var test = Interpret(result, connection, started);
                WriteVerbose(string.Format(CultureInfo.InvariantCulture, "{0} ({1}).", test.Outcome, test.StatusCode is int s ? "HTTP " + s.ToString(CultureInfo.InvariantCulture) : "no HTTP answer"));
                if (Quiet) WriteObject(test.Succeeded);
                else WriteObject(test);
            }
        }

        private static ConnectionTest Interpret(BalanceResult result, AhrvoConnection connection, DateTimeOffset started)
        {
            var error = result.Error;
            int? status = result.HttpStatus;
            var duration = result.Elapsed;
            ConnectionTest Make(ConnectionTestOutcome outcome, string message, string? action) =>
                new ConnectionTest(outcome, status, error?.ApiCode, message, action, connection, ProbeCardId, duration, started);

            // Only the API's own answers say the credentials passed: a gateway's or a wrong address's
            // 400 or 404 page never looked at them (see ResponseInterpreter: UnexpectedStatus).
            if (result.Success || (status == 400 && error?.Kind == AhrvoErrorKind.InvalidCard) || (status == 404 && error?.Kind == AhrvoErrorKind.CardNotFound) || error?.Kind == AhrvoErrorKind.ApiError)
                return Make(ConnectionTestOutcome.CredentialsAccepted, string.Format(CultureInfo.InvariantCulture,
                    "The credentials work: the API answered the query for a card that does not exist with HTTP {0}, not 401 or 403.", status), null);
            switch (error!.Kind)
            {
                case AhrvoErrorKind.Unauthorized:
                    return Make(ConnectionTestOutcome.CredentialsRefused, error.TokenProviderFailed
                        ? "The credentials could not be checked: the -TokenProvider script failed. " + error.Message
                        : "The credentials are refused (HTTP 401): the access token or the API key is wrong, expired or revoked.", ErrorRecords.RecommendedAction(error));
                case AhrvoErrorKind.Forbidden:
                    return Make(ConnectionTestOutcome.NotEnabled,
                        "The credentials were accepted, but the account may not read balances (HTTP 403): card issuance is not enabled for it.", ErrorRecords.RecommendedAction(error));
                case AhrvoErrorKind.ServiceUnavailable:
                case AhrvoErrorKind.Timeout:
                case AhrvoErrorKind.CircuitOpen:
                    return Make(ConnectionTestOutcome.ServiceUnreachable,
                        "The service at " + connection.BaseUri + " could not be reached or was busy, so the credentials were not checked: " + error.Message,
                        "Check the network, the proxy and -BaseUri on Connect-Ahrvo, or try again later.");
                default:
                    return Make(ConnectionTestOutcome.Inconclusive,
                        "The answer does not tell whether the credentials work: " + error.Message, ErrorRecords.RecommendedAction(error));
            }
        }

        private static Uri EnsureSlash(Uri uri) => uri.AbsoluteUri.EndsWith("/", StringComparison.Ordinal) ? uri : new Uri(uri.AbsoluteUri + "/");

        private bool IsOn(string switchName, string variable)
        {
            if (MyInvocation.BoundParameters.TryGetValue(switchName, out var v))
                return v is SwitchParameter sp ? sp.IsPresent : LanguagePrimitives.IsTrue(v);
            var pref = GetVariableValue(variable);
            var value = pref is PSObject ps ? ps.BaseObject : pref;
            return value is ActionPreference ap ? ap != ActionPreference.SilentlyContinue && ap != ActionPreference.Ignore
                : value != null && Enum.TryParse<ActionPreference>(value.ToString(), true, out var parsed) && parsed != ActionPreference.SilentlyContinue && parsed != ActionPreference.Ignore;
        }

        protected override void StopProcessing() => _stopping.Cancel();

        public void Dispose() => _stopping.Dispose();
    }
}
