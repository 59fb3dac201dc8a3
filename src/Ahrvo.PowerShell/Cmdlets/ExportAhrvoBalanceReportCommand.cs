using System;
using System.IO;
using System.Linq;
using Ahrvo.PowerShell.Errors;
using System.Management.Automation;
using System.Text;
using Ahrvo.PowerShell.Files;
using Ahrvo.PowerShell.Reports;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsData.Export, "AhrvoBalanceReport", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportAhrvoBalanceReportCommand : BalanceReportCmdlet
    {
        private string? _target;
        private bool _declined;

        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        [Parameter]
        [MoneyTransformation]
        public decimal LowBalanceThreshold { get; set; } = BalanceReportHtml.DefaultLowBalanceThreshold;

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Title { get; set; } = BalanceReportHtml.DefaultTitle;

        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override bool KeepCards => true;
        protected override bool TakesReconciliations => true;
        protected override bool Active => !_declined;

        protected override void BeginProcessing()
        {
            _target = ResolveTarget();
            // Asked before any card is read (as Export-Csv does): declining costs no query.
            _declined = !ShouldProcess(_target, "Write balance report");
            base.BeginProcessing();
        }

        protected override void EndProcessing()
        {
            base.EndProcessing();
            if (_declined) return;
            if (!Statistics.HasCards)
            {
                WriteError(ErrorRecords.NothingToExport(_target!, "report", Statistics.Refused.Count));
                return;
            }
            // Refused inputs are listed with the cards that failed: they were meant as cards.
            var failures = Statistics.Failures.Concat(Statistics.Refused.Select((reason, i) =>
                new FailedCard("(input without a card id " + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + ")", reason))).ToList();
            var html = BalanceReportHtml.Render(new BalanceReportData(
                Title, DateTimeOffset.Now, Statistics.ToSummary(), Statistics.Cards, failures, LowBalanceThreshold, Statistics.CurrencyWarning(),
                Statistics.Reconciliations));
            try
            {
                AtomicFile.WriteAllText(_target!, html, new UTF8Encoding(false), Force);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                var exists = !Force && File.Exists(_target);
                ThrowTerminatingError(new ErrorRecord(
                    exists ? ExistsException(_target!) : new IOException("Could not write the report to '" + _target + "': " + ex.Message, ex),
                    exists ? "Ahrvo.ReportFileExists" : "Ahrvo.ReportWriteFailed",
                    exists ? ErrorCategory.ResourceExists : ErrorCategory.WriteError, _target));
            }
            // Through the provider, as Get-Item does, so the FileInfo carries Mode, PSPath and the usual view.
            if (PassThru) WriteObject(SessionState.InvokeProvider.Item.Get(new[] { _target! }, true, true), true);
        }

        private string ResolveTarget()
        {
            var target = OutputFile.Resolve(this, Path, "Ahrvo.Report", "the report", "balance-report.html");
            // Checked now, before minutes of queries, and again by the final move.
            if (!Force && File.Exists(target))
                ThrowTerminatingError(new ErrorRecord(ExistsException(target), "Ahrvo.ReportFileExists", ErrorCategory.ResourceExists, target));
            return target;
        }

        private static IOException ExistsException(string target) =>
            new IOException("The file '" + target + "' already exists. Use -Force to overwrite it, or give another -Path.");
    }
}
