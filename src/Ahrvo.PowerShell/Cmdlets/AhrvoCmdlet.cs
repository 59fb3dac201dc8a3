using System.Management.Automation;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>Every data cmdlet takes -Connection and falls back to the session's (as PnP does).</summary>
    public abstract class AhrvoCmdlet : PSCmdlet
    {
        [Parameter]
        [ValidateNotNull]
        public AhrvoConnection? Connection { get; set; }

        /// <summary>The explicit connection, else the session's; a terminating error when there is none.</summary>
        protected AhrvoConnection ResolveConnection()
        {
            var connection = Connection ?? AhrvoSession.Current;
            if (connection == null || connection.IsClosed) ThrowTerminatingError(ErrorRecords.NotConnected());
            return connection!;
        }
    }
}
