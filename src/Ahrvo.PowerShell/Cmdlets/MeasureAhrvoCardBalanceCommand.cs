using System.Management.Automation;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Summarizes Dedicated Funds card balances: count, total, average, extremes and distribution.</para>
    /// </summary>
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
