using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.Client.Diagnostics;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// The bulk path every card-reading cmdlet shares: concurrent queries, results in input order,
    /// a bounded window, progress, and every pipeline write on the pipeline thread. Subclasses call
    /// <see cref="Enqueue"/> from ProcessRecord and turn each finished result into output in
    /// <see cref="OnBalance"/>.
    /// </summary>
    public abstract class CardBatchCmdlet : AhrvoCmdlet, IDisposable
    {
        // Only a safety net and a tick for progress while the oldest card is slow: the run wakes the
        // pipeline thread itself when the oldest card finishes or a message comes.
        private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
        // Settable for tests only (a test seam, like Watch's WallClock): they show progress without
        // runs that last seconds. Nothing else sets them.
        internal static TimeSpan ProgressDelay { get; set; } = TimeSpan.FromSeconds(1);
        internal static TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);

        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private AhrvoConnection.Lease? _lease;
        private BulkBalanceRun? _run;
        private bool _showProgress;
        private TimeSpan? _lastProgress; // null until the first progress record
        private bool _verbose;
        private long? _expectedTotal;
        private int _progressId;
        // Where the current pass began, so progress counts one pass of a multi-pass cmdlet.
        private long _passTaken;
        private long _passFailed;
        private TimeSpan _passStart;

        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 8;

        /// <summary>Known total for progress; set by subclasses when the cards came as a parameter.</summary>
        protected void SetExpectedTotal(long total) => _expectedTotal = total;

        /// <summary>
        /// False when this invocation reads no card (e.g. Measure-AhrvoCardBalance given CardBalance
        /// objects): then no connection is needed and <see cref="Enqueue"/> must not be called.
        /// </summary>
        protected virtual bool QueriesCards => true;

        protected override void BeginProcessing()
        {
            if (!QueriesCards) return;
            var connection = ResolveConnection();
            try
            {
                _lease = connection.Acquire();
            }
            catch (AuditLogException ex)
            {
                // The log is opened with the connection's client, at its first query (or again after Disconnect).
                ThrowTerminatingError(ErrorRecords.AuditLogFailed(ex));
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is ArgumentException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "Ahrvo.ConnectionUnusable", ErrorCategory.ConnectionError, connection));
            }
            _verbose = IsPreferenceOn("VerbosePreference", "Verbose");
            var debug = IsPreferenceOn("DebugPreference", "Debug");
            _run = new BulkBalanceRun(_lease!.Client, ThrottleLimit, _verbose, debug, _stopping.Token);
            _showProgress = !IsSilent(GetVariableValue("ProgressPreference"));
            _progressId = Math.Abs(GetHashCode() % 10000) + 1;
        }

        /// <summary>Queues one card; writes finished results while waiting for room in the window.</summary>
        protected void Enqueue(string cardId, object? state = null)
        {
            var run = _run ?? throw new InvalidOperationException("Enqueue was called but QueriesCards is false.");
            while (run.IsFull) Pump(block: true);
            run.Add(cardId, state);
            Pump(block: false);
        }

        protected override void EndProcessing()
        {
            WaitForAll();
            CompleteProgress();
        }

        /// <summary>Writes every queued card's result, waiting for those still in flight.</summary>
        protected void WaitForAll()
        {
            var run = _run;
            if (run == null) return;
            run.InputComplete();
            while (!run.IsEmpty) Pump(block: true);
            DrainMessages();
        }

        protected void BeginPass(long expectedTotal)
        {
            var run = _run;
            if (run == null) return;
            _passTaken = run.Taken;
            _passFailed = run.Failed;
            _passStart = run.Elapsed;
            _expectedTotal = expectedTotal;
        }

        /// <summary>Closes the progress bar if one was shown.</summary>
        protected void CompleteProgress()
        {
            if (_showProgress && _lastProgress != null)
                WriteProgress(new ProgressRecord(_progressId, Activity, "Done") { RecordType = ProgressRecordType.Completed });
            _lastProgress = null;
        }

        /// <summary>Cancelled by Ctrl+C (StopProcessing) or when the pipeline ends early.</summary>
        protected CancellationToken StopToken => _stopping.Token;

        protected override void StopProcessing()
        {
            // Ctrl+C: stop waiting at once and cancel every request in flight.
            _stopping.Cancel();
            _run?.Cancel();
        }

        /// <summary>Writes one finished, successful card.</summary>
        protected abstract void OnBalance(BulkItem item, BalanceResult result);

        /// <summary>Writes one failed card; the default writes a non-terminating error.</summary>
        protected virtual void OnFailure(BulkItem item, BalanceResult result) => WriteError(ErrorRecords.ForCard(item.CardId, result.Error!));

        /// <summary>
        /// Called before an account-wide error ends the command, while output can still be written:
        /// for results a subclass holds back (Compare-AhrvoCardBalance -RecheckAfter), which must not be lost.
        /// </summary>
        protected virtual void OnFatal(AhrvoError error) { }

        protected virtual string Activity => MyInvocation.MyCommand.Name;

        private void Pump(bool block)
        {
            var run = _run!;
            if (block)
            {
                try
                {
                    run.WaitForChange(PollInterval, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new PipelineStoppedException();
                }
            }
            DrainMessages();
            while (run.TryTake(out var item))
            {
                var result = item.Result;
                if (result == null)
                {
                    // Not answered: the run stopped because of Ctrl+C or an account-wide error.
                    // The error is the card's that stopped the run, not this one's, which was only cancelled.
                    if (run.FatalError != null) ThrowFatal(run.FatalError, run.FatalCardId ?? item.CardId);
                    if (_stopping.IsCancellationRequested) throw new PipelineStoppedException();
                    WriteError(ErrorRecords.Cancelled(item.CardId));
                    continue;
                }
                if (result.Error != null && result.Error.AffectsEveryCard) ThrowFatal(result.Error, item.CardId);
                if (_verbose) WriteVerbose(Describe(result)); // not formatted at all when nobody reads it
                if (result.Success) Completion.SeenCardIds.Add(result.CardId); // feeds -CardId tab completion
                if (result.Success) OnBalance(item, result);
                else OnFailure(item, result);
            }
            UpdateProgress(run);
        }

        private void ThrowFatal(AhrvoError error, string cardId)
        {
            _run?.Cancel();
            OnFatal(error);
            ThrowTerminatingError(ErrorRecords.ForCard(cardId, error));
        }

        private void DrainMessages()
        {
            while (_run!.TryTakeMessage(out var m))
            {
                switch (m.Level)
                {
                    case DiagnosticLevel.Verbose: WriteVerbose(m.Text); break;
                    case DiagnosticLevel.Debug: WriteDebug(m.Text); break;
                }
            }
        }

        private static string Describe(BalanceResult r)
        {
            var status = r.HttpStatus is int s ? "HTTP " + s.ToString(CultureInfo.InvariantCulture) : "no HTTP answer";
            var outcome = r.Success ? "ok" : r.Error!.Kind.ToString();
            return string.Format(CultureInfo.InvariantCulture, "Card {0}: {1}, {2} in {3:0} ms ({4} attempt{5}).",
                r.CardId, status, outcome, r.Elapsed.TotalMilliseconds, r.Attempts, r.Attempts == 1 ? "" : "s");
        }

        private void UpdateProgress(BulkBalanceRun run)
        {
            if (!_showProgress) return;
            var now = run.Elapsed;
            var inPass = now - _passStart;
            // Quiet for short runs, and at most two updates a second: progress must cost nothing.
            if (inPass < ProgressDelay || (_lastProgress is TimeSpan last && now - last < ProgressInterval)) return;
            _lastProgress = now;
            long taken = run.Taken - _passTaken, failed = run.Failed - _passFailed;
            double rate = taken / Math.Max(inPass.TotalSeconds, 0.001);
            string status = _expectedTotal is long total
                ? string.Format(CultureInfo.InvariantCulture, "{0} of {1} cards, {2:0.#} cards/s, {3} failed", taken, total, rate, failed)
                : string.Format(CultureInfo.InvariantCulture, "{0} cards, {1:0.#} cards/s, {2} failed", taken, rate, failed);
            var record = new ProgressRecord(_progressId, Activity, status);
            if (_expectedTotal is long t && t > 0)
            {
                record.PercentComplete = (int)Math.Min(100, taken * 100 / t);
                if (rate > 0) record.SecondsRemaining = (int)Math.Max(0, Math.Ceiling((t - taken) / rate));
            }
            WriteProgress(record);
        }

        private bool IsPreferenceOn(string variable, string switchName)
        {
            if (MyInvocation.BoundParameters.TryGetValue(switchName, out var v))
                return v is SwitchParameter sp ? sp.IsPresent : LanguagePrimitives.IsTrue(v);
            var pref = GetVariableValue(variable);
            return !IsSilent(pref);
        }

        private static bool IsSilent(object? preference)
        {
            var value = preference is PSObject ps ? ps.BaseObject : preference;
            if (value is ActionPreference ap) return ap == ActionPreference.SilentlyContinue || ap == ActionPreference.Ignore;
            return value != null && Enum.TryParse<ActionPreference>(value.ToString(), true, out var parsed)
                && (parsed == ActionPreference.SilentlyContinue || parsed == ActionPreference.Ignore);
        }

        public void Dispose()
        {
            // Also reached when a downstream Select-Object -First stops the pipeline early.
            _stopping.Cancel();
            _run?.Dispose();
            _lease?.Dispose();
            _lease = null;
        }
    }
}
