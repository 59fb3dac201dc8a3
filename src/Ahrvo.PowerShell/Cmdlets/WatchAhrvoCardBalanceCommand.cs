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
                _store = new AlertStateStore(ResolveStatePath(StatePath));
                // Read once now, unlocked (saves replace the file whole): a broken file stops the
                // command before minutes of queries, not after.
                var state = LoadState();
                WriteVerbose(_store.Exists
                    ? string.Format(CultureInfo.InvariantCulture, "Alert state '{0}': {1} card{2}.", _store.Path, state.Count, state.Count == 1 ? "" : "s")
                    : "No alert state at '" + _store.Path + "' yet: the first pass alerts every card below Normal, and saves the levels there.");
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
            var alert = Decide(_memory, result, level, DateTimeOffset.UtcNow);
            if (alert != null) WriteObject(alert);
        }

        private BalanceAlert? Decide(AlertState state, BalanceResult result, BalanceLevel level, DateTimeOffset now)
        {
            var kind = state.Observe(result.CardId, level, result.AvailableBalance, result.Currency, result.RetrievedAt, now, RepeatAfter, out var previous);
            if (kind == AlertKind.None) return null;
            if (kind == AlertKind.Change) _changedThisPass++;
            return new BalanceAlert(result.CardId, result.CardNumber, result.AvailableBalance, result.Currency,
                level, previous, _thresholds!.ThresholdOf(level), result.RetrievedAt, isRepeat: kind == AlertKind.Repeat);
        }

        /// <summary>
        /// Read-decide-write under the file's lock, so an overlapping run decides against what this
        /// one saved: each change alerts once. The alerts go out after the save: if it fails they
        /// are not written, the file still has the old levels, and the next run alerts them again.
        /// </summary>
        private void CommitPass(AlertStateStore store)
        {
            var alerts = new List<BalanceAlert>();
            int pruned = 0, count;
            using (LockState(store))
            {
                var state = LoadState();
                var now = DateTimeOffset.UtcNow;
                foreach (var (result, level) in _readings)
                {
                    var alert = Decide(state, result, level, now);
                    if (alert != null) alerts.Add(alert);
                }
                if (Prune) pruned = state.Prune(_seen);
                count = state.Count;
                try
                {
                    store.Save(state, now);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new IOException("Could not save the alert state to '" + store.Path + "': " + ex.Message
                            + " The alerts of this pass were not written; the next run alerts them again.", ex),
                        "Ahrvo.StateFileNotSaved", ErrorCategory.WriteError, store.Path));
                }
            }
            _readings.Clear();
            WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Alert state saved to '{0}': {1} card{2}{3}.", store.Path, count, count == 1 ? "" : "s",
                pruned > 0 ? string.Format(CultureInfo.InvariantCulture, ", {0} no longer watched removed", pruned) : ""));
            foreach (var alert in alerts) WriteObject(alert);
        }

        private IDisposable LockState(AlertStateStore store)
        {
            try
            {
                return store.Lock(AlertStateStore.DefaultLockTimeout, StopToken);
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
            catch (TimeoutException ex)
            {
                var record = new ErrorRecord(new TimeoutException(string.Format(CultureInfo.InvariantCulture,
                    "Could not lock the alert state file '{0}' within {1:0} s: another run holds '{2}' ({3}). This pass saved nothing and alerted nothing.",
                    store.Path, AlertStateStore.DefaultLockTimeout.TotalSeconds, store.LockPath, ex.Message), ex), "Ahrvo.StateFileLocked", ErrorCategory.ResourceBusy, store.Path);
                record.ErrorDetails = new ErrorDetails(record.Exception.Message)
                {
                    RecommendedAction = "Let the other Watch-AhrvoCardBalance run on this file finish, or schedule runs further apart.",
                };
                ThrowTerminatingError(record);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(new IOException("Could not open the lock file '" + store.LockPath + "' of the alert state: " + ex.Message, ex),
                    "Ahrvo.StateFileUnreadable", ErrorCategory.OpenError, store.LockPath));
            }
            throw new InvalidOperationException(); // not reached: ThrowTerminatingError throws
        }

        private AlertState LoadState()
        {
            var store = _store!;
            try
            {
                return store.Load();
            }
            catch (InvalidDataException ex)
            {
                // Never a silent fresh start: that would alert every low card again, or hide a mistake.
                var message = "The alert state file '" + store.Path + "' cannot be used: " + ex.Message + ".";
                var record = new ErrorRecord(new InvalidDataException(message, ex), "Ahrvo.StateFileInvalid", ErrorCategory.InvalidData, store.Path);
                record.ErrorDetails = new ErrorDetails(message)
                {
                    RecommendedAction = "Fix the file, or delete it: without it the next run starts afresh and alerts again every card below Normal.",
                };
                ThrowTerminatingError(record);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(new IOException("Could not read the alert state file '" + store.Path + "': " + ex.Message, ex),
                    "Ahrvo.StateFileUnreadable", ErrorCategory.ReadError, store.Path));
            }
            throw new InvalidOperationException(); // not reached
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
            if (Directory.Exists(full))
                ThrowTerminatingError(new ErrorRecord(new IOException("-StatePath '" + full + "' is a directory. Give a file name, e.g. " + Path.Combine(full, "alert-state.json") + "."),
                    "Ahrvo.StatePathInvalid", ErrorCategory.InvalidArgument, full));
            var directory = Path.GetDirectoryName(full);
            if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
                ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException("The directory '" + directory + "' of -StatePath does not exist. Create it first."),
                    "Ahrvo.StatePathInvalid", ErrorCategory.ObjectNotFound, directory));
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
