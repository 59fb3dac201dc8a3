using System.Management.Automation;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Forgets the session's Ahrvo connection and its credentials.</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Disconnect, "Ahrvo", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(void))]
    public sealed class DisconnectAhrvoCommand : PSCmdlet
    {
        protected override void EndProcessing()
        {
            var current = AhrvoSession.Current;
            if (current == null)
            {
                WriteVerbose("Not connected to Ahrvo: nothing to disconnect.");
                return;
            }
            if (!ShouldProcess(current.ToString(), "Disconnect")) return;
            AhrvoSession.Clear();
            WriteVerbose($"Disconnected from {current}.");
        }
    }
}
