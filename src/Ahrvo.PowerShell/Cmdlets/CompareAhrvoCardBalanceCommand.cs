using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.PowerShell.Completion;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Errors;
using Ahrvo.PowerShell.Reports;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsData.Compare, "AhrvoCardBalance")]
    [OutputType(typeof(BalanceReconciliation))]
    public sealed class CompareAhrvoCardBalanceCommand : CardBatchCmdlet
    {
        /// <summary>The type name of results when -RecheckAfter is given: its table view shows FirstBalance too.</summary>
        internal const string RecheckedTypeName = "Ahrvo.PowerShell.BalanceReconciliation#Rechecked";

        // The discrepancies of the first reading, in input order, until the recheck writes them.
        private readonly List<BalanceReconciliation> _held = new List<BalanceReconciliation>();
        private TimeSpan _lastHeldAt;
        private int _heldWritten;

        /// <summary>
        /// The ledger line itself (or a card id string), by value, as the other cmdlets take it:
        /// bound by property name, a row without a recognised id column was refused by PowerShell's
        /// binder, which names neither the columns found nor -CardIdProperty. <see cref="CardIdInput"/>
        /// finds the id (any case, spaces, '_' or '-') or refuses the row before any request.
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [Alias("card_id", "Id")]
        [ArgumentCompleter(typeof(CardIdCompleter))]
        [ValidateCardId]
        public object[] CardId { get; set; } = Array.Empty<object>();

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? CardIdProperty { get; set; }

        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("balance", "expected", "expected_balance")]
        [MoneyTransformation]
        public decimal ExpectedBalance { get; set; }

        [Parameter]
        [MoneyTransformation]
        [ValidateTolerance]
        public decimal Tolerance { get; set; } = Reconciliation.DefaultTolerance;

        [Parameter]
        public SwitchParameter DiscrepancyOnly { get; set; }

        [Parameter]
        [RefuseBareNumber]
        [ValidateTimeSpanRange("00:00:00", "00:10:00")]
        public TimeSpan? RecheckAfter { get; set; }

        /// <summary>The clock the recheck waits on. Settable for tests only (a fake clock), like Watch's WallClock.</summary>
        internal static CommandClock Clock { get; set; } = CommandClock.System;

        protected override void ProcessRecord()
        {
            // The expected balance is bound per pipeline record (strictly, by MoneyTransformation),
            // so it travels with its card. A line without a card id is refused here, one error
            // naming its columns, and nothing is sent for it; ids are trimmed (said under -Verbose).
            foreach (var id in CardListCmdlet.CardIdsOf(this, CardId, CardIdProperty))
                Enqueue(id, ExpectedBalance);
        }

        protected override void EndProcessing()
        {
            base.EndProcessing(); // every first reading; matched and failed cards are already written
            if (_held.Count == 0) return;
            Recheck(RecheckAfter!.Value);
        }

        /// <summary>
        /// One wave for every held card, after one wait: the delay counts from the last discrepancy
        /// found, so every card waits at least that long, and a long first pass leaves less (or
        /// nothing) to wait. The wave goes through the same run as the first readings, so it is
        /// paced (-ThrottleLimit, rate limit, retries) like any other query.
        /// </summary>
        private void Recheck(TimeSpan delay)
        {
            var clock = Clock;
            var wait = delay - (clock.Now - _lastHeldAt);
            var cards = _held.Count == 1 ? "1 card" : _held.Count.ToString(CultureInfo.InvariantCulture) + " cards";
            if (wait > TimeSpan.Zero)
            {
                WriteVerbose(string.Format(CultureInfo.InvariantCulture, "{0} out of tolerance; reading {1} again at {2:HH:mm:ss} (-RecheckAfter {3}).",
                    cards, _held.Count == 1 ? "it" : "them", DateTimeOffset.Now.Add(wait), delay));
                var progress = new ProgressRecord(ProgressId, MyInvocation.MyCommand.Name, "Waiting to read " + cards + " again")
                {
                    SecondsRemaining = (int)Math.Ceiling(wait.TotalSeconds),
                };
                WriteProgress(progress);
                // Ctrl+C cancels StopToken, which ends this wait at once.
                if (!clock.Wait(wait, StopToken)) throw new PipelineStoppedException();
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
            else
            {
                WriteVerbose("Reading " + cards + " out of tolerance again now.");
            }
            BeginPass(_held.Count);
            foreach (var first in _held) Enqueue(first.CardId, first);
            WaitForAll();
            CompleteProgress();
        }

        private int ProgressId => Math.Abs(GetHashCode() % 10000) + 10001;

        protected override void OnBalance(BulkItem item, BalanceResult result)
        {
            if (item.State is BalanceReconciliation first)
            {
                _heldWritten++;
                Emit(Reconciliation.Recheck(first, result.CardNumber, result.AvailableBalance, Tolerance));
                return;
            }
            var outcome = Reconciliation.Compare(result.CardId, result.CardNumber, (decimal)item.State!, result.AvailableBalance, Tolerance);
            if (RecheckAfter != null && outcome.Status == ReconciliationStatus.Discrepancy)
            {
                _held.Add(outcome);
                _lastHeldAt = Clock.Now;
                return;
            }
            Emit(outcome);
        }

        protected override void OnFailure(BulkItem item, BalanceResult result)
        {
            if (item.State is BalanceReconciliation first)
            {
                // Not an error: the card was read, and its first reading is the result.
                _heldWritten++;
                KeepFirst(first, ErrorRecords.Describe(result.Error!));
                return;
            }
            // Failed is always emitted, even with -DiscrepancyOnly: an unread card is not reconciled.
            base.OnFailure(item, result);
            Emit(Reconciliation.Failed(item.CardId, (decimal)item.State!));
        }

        protected override void OnFatal(AhrvoError error)
        {
            // The command ends; the discrepancies already read must still come out.
            var reason = "the command stopped: " + error.Message;
            while (_heldWritten < _held.Count) KeepFirst(_held[_heldWritten++], reason);
        }

        private void KeepFirst(BalanceReconciliation first, string reason)
        {
            WriteWarning(string.Format(CultureInfo.InvariantCulture,
                "Card {0} was not read again after -RecheckAfter ({1}). Its first reading stands: {2} ({3:+0.00##;-0.00##} against the records).",
                first.CardId, reason.TrimEnd(), first.Status, first.Difference));
            Emit(first);
        }

        private void Emit(BalanceReconciliation outcome)
        {
            if (DiscrepancyOnly && (outcome.Status == ReconciliationStatus.Matched || outcome.Status == ReconciliationStatus.Settled)) return;
            if (RecheckAfter == null)
            {
                WriteObject(outcome);
                return;
            }
            var shown = new PSObject(outcome);
            shown.TypeNames.Insert(0, RecheckedTypeName);
            WriteObject(shown);
        }
    }
}
