using System.Management.Automation;
using Ahrvo.PowerShell.Completion;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Internal;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Reconciles Dedicated Funds card balances against expected balances from internal records.</para>
    /// </summary>
    [Cmdlet(VerbsData.Compare, "AhrvoCardBalance")]
    [OutputType(typeof(BalanceReconciliation))]
    public sealed class CompareAhrvoCardBalanceCommand : CardBatchCmdlet
    {
        /// <summary><para>The card's id. Accepts a CardId, card_id or Id property from the pipeline (e.g. Import-Csv rows).</para></summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("card_id", "Id")]
        [ArgumentCompleter(typeof(CardIdCompleter))]
        [ValidateCardId]
        public string CardId { get; set; } = "";

        /// <summary>
        /// <para>The balance the internal records expect. Accepts an ExpectedBalance, balance, expected or expected_balance property
        /// from the pipeline; text is read culture-invariantly ('.' is the decimal point, no thousands separators).</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("balance", "expected", "expected_balance")]
        [MoneyTransformation]
        public decimal ExpectedBalance { get; set; }

        /// <summary><para>The largest difference still counted as a match (default 0.01, one cent). Zero or more.</para></summary>
        [Parameter]
        [MoneyTransformation]
        [ValidateTolerance]
        public decimal Tolerance { get; set; } = Reconciliation.DefaultTolerance;

        /// <summary><para>Emits only discrepancies and failures, not the matched cards.</para></summary>
        [Parameter]
        public SwitchParameter DiscrepancyOnly { get; set; }

        protected override void ProcessRecord()
        {
            // The expected balance is bound per pipeline record, so it travels with its card.
            Enqueue(CardId, ExpectedBalance);
        }

        protected override void OnBalance(BulkItem item, BalanceResult result)
        {
            var outcome = Reconciliation.Compare(result.CardId, result.CardNumber, (decimal)item.State!, result.AvailableBalance, Tolerance);
            if (DiscrepancyOnly && outcome.Status == ReconciliationStatus.Matched) return;
            WriteObject(outcome);
        }

        protected override void OnFailure(BulkItem item, BalanceResult result)
        {
            // Failed is always emitted, even with -DiscrepancyOnly: an unread card is not reconciled.
            base.OnFailure(item, result);
            WriteObject(Reconciliation.Failed(item.CardId, (decimal)item.State!));
        }
    }
}
