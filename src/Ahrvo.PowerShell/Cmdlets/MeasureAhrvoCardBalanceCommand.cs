using System.Management.Automation;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsDiagnostic.Measure, "AhrvoCardBalance", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(BalanceSummary))]
    public sealed class MeasureAhrvoCardBalanceCommand : BalanceReportCmdlet
    {
        protected override void EndProcessing()
        {
            base.EndProcessing();
            WriteObject(Statistics.ToSummary());
        }
    }
}
