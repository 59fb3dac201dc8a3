using System.Management.Automation;
using Ahrvo.PowerShell.Completion;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Reports;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsData.Compare, "AhrvoCardBalance")]
    [OutputType(typeof(BalanceReconciliation))]
    public sealed class CompareAhrvoCardBalanceCommand : CardBatchCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        // Binding by property name matches any case; the separators users put in headers are aliases.
        [Alias("card_id", "Id", "card-id", "Card ID")]
        [ArgumentCompleter(typeof(CardIdCompleter))]
        [ValidateCardId]
        public string CardId { get; set; } = "";

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

        protected override void ProcessRecord()
        {
            // The expected balance is bound per pipeline record, so it travels with its card.
            // Never sent with the white space a text file put around it.
            var id = Ahrvo.Client.Parsing.CardIdRules.Trim(CardId);
            if (id.Length != CardId.Length) WriteVerbose("Card id '" + CardId + "' has white space around it: read as '" + id + "'.");
            Enqueue(id, ExpectedBalance);
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
