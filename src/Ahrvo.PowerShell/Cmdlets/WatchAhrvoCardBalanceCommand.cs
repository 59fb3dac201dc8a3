using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.PowerShell.Completion;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Internal;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Watches Dedicated Funds cards and emits an alert each time a card's balance level changes.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Watch, "AhrvoCardBalance", DefaultParameterSetName = PassesSet)]
    [OutputType(typeof(BalanceAlert))]
    public sealed class WatchAhrvoCardBalanceCommand : CardBatchCmdlet
    {
        private const string PassesSet = "Passes";
        private const string OnceSet = "Once";

        private readonly List<string> _cards = new List<string>();
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.Ordinal);
        private readonly LevelTracker _tracker = new LevelTracker();
        private AlertThresholds? _thresholds;
        private int _pass;
        private int _changedThisPass;
        private int _failedThisPass;

        /// <summary><para>The ids of the cards to watch. Accepts pipeline input, and objects with a card_id, CardId or Id property.</para></summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("card_id", "Id")]
        [ArgumentCompleter(typeof(CardIdCompleter))]
        [ValidateCardId]
        public string[] CardId { get; set; } = Array.Empty<string>();

        /// <summary><para>A balance at or below this is Critical.</para></summary>
        [Parameter]
        public decimal? Critical { get; set; }

        /// <summary><para>A balance at or below this (and above -Critical) is Warning.</para></summary>
        [Parameter]
        public decimal? Warning { get; set; }

        /// <summary><para>A balance at or below this (and above -Warning) is Low.</para></summary>
        [Parameter]
        public decimal? Low { get; set; }

        /// <summary><para>Time from the start of one pass to the start of the next (default 5 minutes). A bare number means seconds.</para></summary>
        [Parameter(ParameterSetName = PassesSet)]
        [SecondsTransformation]
        [ValidateInterval]
        public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary><para>How many passes to run; by default the watch runs until Ctrl+C.</para></summary>
        [Parameter(ParameterSetName = PassesSet)]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; }

        /// <summary><para>Runs one pass and stops: the cards not at Normal, as alerts.</para></summary>
        [Parameter(Mandatory = true, ParameterSetName = OnceSet)]
        public SwitchParameter Once { get; set; }

        protected override string Activity => string.Format(CultureInfo.InvariantCulture, "{0} (pass {1})", MyInvocation.MyCommand.Name, _pass);

        protected override void BeginProcessing()
        {
            // Checked before connecting: a mistake in the thresholds is reported even when offline.
            var problem = AlertThresholds.Problem(Critical, Warning, Low);
            if (problem != null)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException(problem), "Ahrvo.InvalidThresholds", ErrorCategory.InvalidArgument,
                    new { Critical, Warning, Low }));
            }
            _thresholds = new AlertThresholds(Critical, Warning, Low);
            base.BeginProcessing();
        }

        protected override void ProcessRecord()
        {
            // Only collected: every pass needs the whole list, and passes start once input has ended.
            foreach (var id in CardId)
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
                var passStart = DateTime.UtcNow;
                RunPass();
                if (_pass == passes) break;
                var next = passStart + Interval;
                var wait = next - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Next pass at {0:HH:mm:ss}.", next.ToLocalTime()));
                    Sleep(wait);
                }
            }
            _pass = passes;
        }

        private void RunPass()
        {
            _changedThisPass = 0;
            _failedThisPass = 0;
            WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Pass {0} started: {1} card{2}.", _pass, _cards.Count, _cards.Count == 1 ? "" : "s"));
            BeginPass(_cards.Count);
            foreach (var id in _cards) Enqueue(id);
            WaitForAll();
            CompleteProgress();
            WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Pass {0} finished: {1} card{2} changed level, {3} could not be read.",
                _pass, _changedThisPass, _changedThisPass == 1 ? "" : "s", _failedThisPass));
        }

        private void Sleep(TimeSpan wait)
        {
            // Ctrl+C cancels StopToken, which wakes this wait at once.
            if (StopToken.WaitHandle.WaitOne(wait)) throw new PipelineStoppedException();
        }

        protected override void OnBalance(BulkItem item, BalanceResult result)
        {
            var level = _thresholds!.Classify(result.AvailableBalance);
            if (!_tracker.Observe(result.CardId, level, out var previous)) return;
            _changedThisPass++;
            WriteObject(new BalanceAlert(result.CardId, result.CardNumber, result.AvailableBalance, result.Currency,
                level, previous, _thresholds.ThresholdOf(level), result.RetrievedAt));
        }

        protected override void OnFailure(BulkItem item, BalanceResult result)
        {
            // The error is written and the card keeps its last known level; the next pass tries again.
            _failedThisPass++;
            base.OnFailure(item, result);
        }
    }
}
