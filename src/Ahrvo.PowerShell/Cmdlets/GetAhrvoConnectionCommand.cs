using System.Management.Automation;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Shows the session's Ahrvo connection: environment, base URI, when it was made and its settings. Never a secret.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AhrvoConnection")]
    [OutputType(typeof(AhrvoConnection))]
    public sealed class GetAhrvoConnectionCommand : PSCmdlet
    {
        protected override void EndProcessing()
        {
            var current = AhrvoSession.Current;
            if (current == null)
            {
                WriteError(new ErrorRecord(
                    new System.InvalidOperationException("Not connected to Ahrvo. Run Connect-Ahrvo first."),
                    "Ahrvo.NotConnected", ErrorCategory.ObjectNotFound, null));
                return;
            }
            WriteObject(current);
        }
    }
}
