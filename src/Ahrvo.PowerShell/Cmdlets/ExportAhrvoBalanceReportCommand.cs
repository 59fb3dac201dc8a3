using System;
using System.IO;
using System.Management.Automation;
using System.Text;
using Ahrvo.PowerShell.Internal;
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
            var html = BalanceReportHtml.Render(new BalanceReportData(
                Title, DateTimeOffset.Now, Statistics.ToSummary(), Statistics.Cards, Statistics.Failures, LowBalanceThreshold, Statistics.CurrencyWarning()));
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
            string target;
            try
            {
                target = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path, out var provider, out _);
                if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException("'" + Path + "' is on the " + provider.Name + " provider; the report must go to a file system path.");
            }
            catch (Exception ex) when (ex is ArgumentException || ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is PSInvalidOperationException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "Ahrvo.ReportPathInvalid", ErrorCategory.InvalidArgument, Path));
                throw; // not reached
            }
            if (Directory.Exists(target))
                ThrowTerminatingError(new ErrorRecord(new IOException("'" + target + "' is a directory. Give a file name, e.g. " + System.IO.Path.Combine(target, "balance-report.html") + "."),
                    "Ahrvo.ReportPathIsDirectory", ErrorCategory.InvalidArgument, target));
            var directory = System.IO.Path.GetDirectoryName(target);
            if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
                ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException("The directory '" + directory + "' does not exist. Create it first, or give another -Path."),
                    "Ahrvo.ReportDirectoryNotFound", ErrorCategory.ObjectNotFound, directory));
            // Checked now, before minutes of queries, and again by the final move.
            if (!Force && File.Exists(target))
                ThrowTerminatingError(new ErrorRecord(ExistsException(target), "Ahrvo.ReportFileExists", ErrorCategory.ResourceExists, target));
            return target;
        }

        private static IOException ExistsException(string target) =>
            new IOException("The file '" + target + "' already exists. Use -Force to overwrite it, or give another -Path.");
    }
}
