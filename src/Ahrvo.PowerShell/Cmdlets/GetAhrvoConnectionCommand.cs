using System.Management.Automation;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsCommon.Get, "AhrvoConnection")]
    [OutputType(typeof(AhrvoConnection))]
    public sealed class GetAhrvoConnectionCommand : PSCmdlet
    {
        protected override void EndProcessing()
        {
            var current = AhrvoSession.Current;
            if (current == null)
            {
                // The same record the data cmdlets throw, here non-terminating: asking is not a failure.
                WriteError(Errors.ErrorRecords.NotConnected());
                return;
            }
            WriteObject(current);
        }
    }
}
