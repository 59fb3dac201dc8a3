using System.Management.Automation;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsCommon.Get, "AhrvoConnection")]
    [OutputType(typeof(AhrvoConnection))]
    public sealed class GetAhrvoConnectionCommand : PSCmdlet
    {
        protected override void EndProcessing()
        {
            // Nothing when not connected, as Get-MgContext and Get-AzContext: asking is not a failure,
            // and `if (-not (Get-AhrvoConnection))` needs no -ErrorAction. The data cmdlets say Ahrvo.NotConnected.
            var current = AhrvoSession.Current;
            if (current == null)
            {
                WriteVerbose("Not connected to Ahrvo: run Connect-Ahrvo.");
                return;
            }
            WriteObject(current);
        }
    }
}
