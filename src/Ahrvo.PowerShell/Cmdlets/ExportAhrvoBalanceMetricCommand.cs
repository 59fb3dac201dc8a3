using System;
using System.IO;
using System.Management.Automation;
using System.Text;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Errors;
using Ahrvo.PowerShell.Files;
using Ahrvo.PowerShell.Metrics;

using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsData.Export, "AhrvoBalanceMetric", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportAhrvoBalanceMetricCommand : BalanceReportCmdlet
    {
        private string? _target;
        private bool _declined;
        private AlertThresholds? _thresholds;

        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        [Parameter]
        [MoneyTransformation]
        public decimal? Critical { get; set; }

        [Parameter]
        [MoneyTransformation]
        public decimal? Warning { get; set; }

        [Parameter]
        [MoneyTransformation]
        public decimal? Low { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override bool KeepCards => true;
        protected override bool Active => !_declined;
        // Each sample carries its currency label: nothing is added across currencies.
        protected override bool WarnsAboutMixedCurrencies => false;

        protected override void BeginProcessing()
        {
            // Checked before connecting and before any card is read, as Watch-AhrvoCardBalance does.
            if (Critical != null || Warning != null || Low != null)
                _thresholds = AlertThresholds.FromParameters(this, Critical, Warning, Low);
            _target = OutputFile.Resolve(this, Path, "Ahrvo.Metric", "the metrics", "ahrvo.prom");
            if (!_target.EndsWith(".prom", StringComparison.OrdinalIgnoreCase))
                WriteWarning("The textfile collectors of node_exporter and windows_exporter read only files ending in .prom; '" + _target + "' will not be collected.");
            _declined = !ShouldProcess(_target, "Write balance metrics");
            base.BeginProcessing();
        }

        protected override void EndProcessing()
        {
            base.EndProcessing();
            if (_declined) return;
            if (!Statistics.HasCards)
            {
                WriteError(ErrorRecords.NothingToExport(_target!, "metrics", Statistics.Refused.Count));
                return;
            }
            var previous = PreviousFile();
            var text = BalanceMetrics.Render(Statistics.Cards, Statistics.Failures, _thresholds, Counters(),
                previous == null ? null : BalanceMetrics.ReadLastSuccess(previous), previous == null ? null : CounterTotals.Read(previous),
                Statistics.Refused.Count);
            try
            {
                // UTF-8 without BOM: a BOM before the first "# HELP" is a parse error for the collector.
                AtomicFile.WriteAllText(_target!, text, new UTF8Encoding(false), overwrite: true);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(new IOException("Could not write the metrics to '" + _target + "': " + ex.Message, ex),
                    "Ahrvo.MetricWriteFailed", ErrorCategory.WriteError, _target));
            }
            WriteVerbose("Wrote " + Statistics.Cards.Count + " balances and " + (Statistics.Failures.Count + Statistics.Refused.Count) + " failed cards to " + _target + ".");
            if (PassThru) WriteObject(SessionState.InvokeProvider.Item.Get(new[] { _target! }, true, true), true);
        }

        /// <summary>
        /// The counters of the connection that read the cards: -Connection, else the session's
        /// (which Get-AhrvoCardBalance upstream used). None when there is no open connection.
        /// </summary>
        private ConnectionCounters? Counters()
        {
            var connection = Connection ?? AhrvoSession.Current;
            if (connection == null || connection.IsClosed) return null;
            return new ConnectionCounters(connection.Id, connection.RequestsSent, connection.Retries, connection.ThrottledResponses);
        }

        /// <summary>The file this run replaces: its last-success times and request counters carry over.</summary>
        private string? PreviousFile()
        {
            if (!File.Exists(_target)) return null;
            try
            {
                return File.ReadAllText(_target!, Encoding.UTF8);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                // Only what carries over is lost; the new file is still written.
                WriteWarning("Could not read the previous '" + _target + "' (" + ex.Message + "): failed cards get no last-success time, and the request counters start again from 0.");
                return null;
            }
        }
    }
}
