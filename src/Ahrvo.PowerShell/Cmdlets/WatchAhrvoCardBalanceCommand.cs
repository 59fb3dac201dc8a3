using System;
using System.Diagnostics;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsCommon.Watch, "AhrvoCardBalance", DefaultParameterSetName = PassesSet)]
    [OutputType(typeof(BalanceAlert))]
    public sealed class WatchAhrvoCardBalanceCommand : CardListCmdlet
    {
        private const string PassesSet = "Passes";
        private const string OnceSet = "Once";

        private readonly List<string> _cards = new List<string>();
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.Ordinal);
        // Without -StatePath: the levels, in memory for the life of the command.
        private readonly AlertState _memory = new AlertState();
        // With -StatePath: the readings of the current pass, decided at its end against the file.
        private readonly List<(BalanceResult Result, BalanceLevel Level)> _readings = new List<(BalanceResult, BalanceLevel)>();
        private AlertStateStore? _store;
        private AlertThresholds? _thresholds;
        private int _pass;
        private int _changedThisPass;
        private int _failedThisPass;
        private long _basis = AlertState.InMemory;

        [Parameter]
        [MoneyTransformation]
        public decimal? Critical { get; set; }

        [Parameter]
        [MoneyTransformation]
        public decimal? Warning { get; set; }

        [Parameter]
        [MoneyTransformation]
        public decimal? Low { get; set; }

        [Parameter(ParameterSetName = PassesSet)]
        [SecondsTransformation]
        [ValidateInterval]
        public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

        [Parameter(ParameterSetName = PassesSet)]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = OnceSet)]
        public SwitchParameter Once { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? StatePath { get; set; }

        [Parameter]
        public SwitchParameter Prune { get; set; }

        [Parameter]
        [SecondsTransformation]
        [ValidatePositiveTimeSpan]
        public TimeSpan? RepeatAfter { get; set; }

        protected override string Activity => string.Format(CultureInfo.InvariantCulture, "{0} (pass {1})", MyInvocation.MyCommand.Name, _pass);

        protected override void BeginProcessing()
        {
            // Checked before connecting: a mistake in the thresholds is reported even when offline.
            _thresholds = AlertThresholds.FromParameters(this, Critical, Warning, Low);
            if (Prune && StatePath == null)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Prune removes cards from a -StatePath file; give -StatePath too."),
                    "Ahrvo.PruneWithoutStatePath", ErrorCategory.InvalidArgument, null));
            }
            if (StatePath != null)
            {
                var full = ResolveStatePath(StatePath);
                // Checked now, unlocked (saves replace the file whole): a folder that cannot be written or
                // a broken file stops the command before minutes of queries, not after.
                var store = _store = State(() => AlertStateStore.Open(full));
                var state = State(store.Load);
                State(store.CheckLock);
                WriteVerbose(store.Exists
                    ? string.Format(CultureInfo.InvariantCulture, "Alert state '{0}': {1} card{2}, generation {3}.", store.Path, state.Count, state.Count == 1 ? "" : "s", state.Generation)
                    : "No alert state at '" + store.Path + "' yet: the first pass alerts every card below Normal, and saves the levels there.");
                var caveat = store.LockCaveat;
                if (caveat != null) WriteWarning(caveat);
            }
            base.BeginProcessing();
        }

        protected override void ProcessRecord()
        {
            // Only collected: every pass needs the whole list, and passes start once input has ended.
            foreach (var id in CardIds())
            {
                if (_seen.Add(id)) _cards.Add(id);
                else WriteVerbose("Card " + id + " is already watched; the duplicate is ignored.");
            }
        }

        protected override void EndProcessing()
        {
            if (_cards.Count == 0) return;
            int passes = Once ? 1 : MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : int.MaxValue;
            for (_pass = 1; _pass <= passes; _pass++)
            {
                // A monotonic clock: a step of the wall clock (NTP, daylight saving, a VM resumed)
                // must neither stretch the wait between passes nor skip it.
                long passStart = Stopwatch.GetTimestamp();
                RunPass();
                if (_pass == passes) break;
                var wait = Interval - TimeSpan.FromSeconds((double)(Stopwatch.GetTimestamp() - passStart) / Stopwatch.Frequency);
                if (wait > TimeSpan.Zero)
                {
                    WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Next pass at {0:HH:mm:ss}.", (WallClock() + wait).LocalDateTime));
                    Sleep(wait);
                }
            }
            _pass = passes;
        }

        private void RunPass()
        {
            _changedThisPass = 0;
            _failedThisPass = 0;
            _readings.Clear();
            WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Pass {0} started: {1} card{2}.", _pass, _cards.Count, _cards.Count == 1 ? "" : "s"));
            // The file's generation before the first request: what this pass's readings are newer than.
            if (_store != null) _basis = State(_store.Load).Generation;
            BeginPass(_cards.Count);
            foreach (var id in _cards) Enqueue(id);
            WaitForAll();
            CompleteProgress();
            if (_store != null) CommitPass(_store);
            WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Pass {0} finished: {1} card{2} changed level, {3} could not be read.",
                _pass, _changedThisPass, _changedThisPass == 1 ? "" : "s", _failedThisPass));
        }

        /// <summary>
        /// The wall clock, only for showing times (tests give one that jumps). Not TimeProvider:
        /// this assembly loads in the default context, where Microsoft.Bcl.TimeProvider is not.
        /// </summary>
        internal static Func<DateTimeOffset> WallClock { get; set; } = () => DateTimeOffset.UtcNow;

        private void Sleep(TimeSpan wait)
        {
            // Ctrl+C cancels StopToken, which wakes this wait at once.
            if (StopToken.WaitHandle.WaitOne(wait)) throw new PipelineStoppedException();
        }

        protected override void OnBalance(BulkItem item, BalanceResult result)
        {
            var level = _thresholds!.Classify(result.AvailableBalance);
            if (_store != null)
            {
                _readings.Add((result, level));
                return;
            }
            var alert = Decide(_memory, result, level, DateTimeOffset.UtcNow, AlertState.InMemory);
            if (alert != null) WriteObject(alert);
        }

        private BalanceAlert? Decide(AlertState state, BalanceResult result, BalanceLevel level, DateTimeOffset now, long basis)
        {
            var kind = state.Observe(result.CardId, level, result.AvailableBalance, result.Currency, result.RetrievedAt, now, RepeatAfter, basis, out var previous);
            if (kind == AlertKind.None) return null;
            if (kind == AlertKind.Change) _changedThisPass++;
            return new BalanceAlert(result.CardId, result.CardNumber, result.AvailableBalance, result.Currency,
                level, previous, _thresholds!.ThresholdOf(level), result.RetrievedAt, isRepeat: kind == AlertKind.Repeat);
        }

        /// <summary>
        /// Read, decide, deliver, write, all under the file's lock, so an overlapping run decides
        /// against what this one saved: each change alerts once. At least once: an alert counts as
        /// delivered only when WriteObject has returned for it, that is when every command after this
        /// one has processed it. If that throws (a terminating error downstream, Ctrl+C), the cards of
        /// the alerts not delivered keep their saved state, so the next run alerts them again; if the
        /// process dies first, nothing is saved and the next run alerts them all again.
        /// </summary>
        private void CommitPass(AlertStateStore store)
        {
            IDisposable held;
            try
            {
                held = store.Lock(AlertStateStore.DefaultLockTimeout, StopToken);
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
            catch (AlertStateException ex)
            {
                throw Fail(ex);
            }
            int pruned = 0, count, delivered = 0;
            using (held)
            {
                var state = State(store.Load);
                var now = DateTimeOffset.UtcNow;
                var alerts = new List<(BalanceAlert Alert, CardAlertState? Before)>();
                foreach (var (result, level) in _readings)
                {
                    var before = state.TryGet(result.CardId, out var saved) ? saved : null;
                    var alert = Decide(state, result, level, now, _basis);
                    if (alert != null) alerts.Add((alert, before));
                }
                _readings.Clear();
                if (Prune) pruned = state.Prune(_seen);
                bool completed = false;
                try
                {
                    foreach (var (alert, _) in alerts)
                    {
                        try
                        {
                            WriteObject(alert);
                        }
                        catch (PipelineStoppedException) when (!Stopping)
                        {
                            // Not Ctrl+C: a command downstream that has all it wants (Select-Object
                            // -First n) ends the commands before it through the WriteObject that gave
                            // it its last object. That object was taken: it counts as delivered.
                            delivered++;
                            throw;
                        }
                        delivered++;
                    }
                    completed = true;
                }
                finally
                {
                    for (int i = delivered; i < alerts.Count; i++) state.Restore(alerts[i].Alert.CardId, alerts[i].Before);
                    if (completed) State(() => store.Save(state, now));
                    else
                    {
                        // Unwinding (an error downstream, or Ctrl+C): save what was delivered, quietly.
                        // If even that fails, the file keeps its old levels and the next run alerts all
                        // of this pass's changes again: more than needed, never fewer.
                        try { store.Save(state, now); }
                        catch (AlertStateException) { }
                    }
                }
                count = state.Count;
            }
            WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Alert state saved to '{0}': {1} card{2}{3}, {4} alert{5} delivered.", store.Path, count, count == 1 ? "" : "s",
                pruned > 0 ? string.Format(CultureInfo.InvariantCulture, ", {0} no longer watched removed", pruned) : "", delivered, delivered == 1 ? "" : "s"));
        }

        /// <summary>Runs one state-file step; its failure stops the command with the error <see cref="Fail"/> maps.</summary>
        private T State<T>(Func<T> step)
        {
            try
            {
                return step();
            }
            catch (AlertStateException ex)
            {
                throw Fail(ex);
            }
        }

        private void State(Action step) => State(() => { step(); return true; });

        /// <summary>The one mapping of a state-file failure to its error id, category and advice; throws.</summary>
        private Exception Fail(AlertStateException ex)
        {
            var (id, category) = ex.Failure switch
            {
                AlertStateFailure.PathInvalid => ("Ahrvo.StatePathInvalid", ErrorCategory.InvalidArgument),
                AlertStateFailure.NotWritable => ("Ahrvo.StateFileNotWritable", ErrorCategory.PermissionDenied),
                AlertStateFailure.Invalid => ("Ahrvo.StateFileInvalid", ErrorCategory.InvalidData),
                AlertStateFailure.Locked => ("Ahrvo.StateFileLocked", ErrorCategory.ResourceBusy),
                AlertStateFailure.LockUnsupported => ("Ahrvo.StateFileLockUnsupported", ErrorCategory.ResourceUnavailable),
                AlertStateFailure.NotSaved => ("Ahrvo.StateFileNotSaved", ErrorCategory.WriteError),
                _ => ("Ahrvo.StateFileUnreadable", ErrorCategory.ReadError),
            };
            // BCL types, so that `catch [System.IO.IOException]` and the like keep working.
            Exception exception = ex.Failure switch
            {
                AlertStateFailure.Invalid => new InvalidDataException(ex.Message, ex.InnerException),
                AlertStateFailure.Locked => new TimeoutException(ex.Message, ex.InnerException),
                _ => new IOException(ex.Message, ex.InnerException),
            };
            var record = new ErrorRecord(exception, id, category, ex.Path);
            if (ex.RecommendedAction != null)
                record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = ex.RecommendedAction };
            ThrowTerminatingError(record);
            return new InvalidOperationException(); // not reached: ThrowTerminatingError throws
        }

        private string ResolveStatePath(string path)
        {
            string full;
            try
            {
                full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
                if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException("'" + path + "' is on the " + provider.Name + " provider; -StatePath must be a file system path.");
            }
            catch (Exception ex) when (ex is ArgumentException || ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is PSInvalidOperationException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "Ahrvo.StatePathInvalid", ErrorCategory.InvalidArgument, path));
                throw; // not reached
            }
            return full;
        }

        protected override void OnFailure(BulkItem item, BalanceResult result)
        {
            // The error is written and the card keeps its last known level (in the file too); the next pass tries again.
            _failedThisPass++;
            base.OnFailure(item, result);
        }
    }
}
