using System.Management.Automation;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsCommunications.Disconnect, "Ahrvo", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(void))]
    public sealed class DisconnectAhrvoCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true)]
        public AhrvoConnection? Connection { get; set; }

        protected override void ProcessRecord()
        {
            var target = Connection ?? AhrvoSession.Current;
            if (target == null)
            {
                WriteVerbose("Not connected to Ahrvo: nothing to disconnect.");
                return;
            }
            if (!ShouldProcess(target.ToString(), "Disconnect")) return;
            // The session's connection is forgotten too; another one is only closed.
            if (!AhrvoSession.Clear(target)) target.Close();
            WriteVerbose($"Disconnected from {target}.");
        }
    }
}
