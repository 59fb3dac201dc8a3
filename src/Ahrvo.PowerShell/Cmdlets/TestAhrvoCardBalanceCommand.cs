using System.Management.Automation;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsDiagnostic.Test, "AhrvoCardBalance")]
    [OutputType(typeof(bool))]
    [OutputType(typeof(BalanceCheck))]
    public sealed class TestAhrvoCardBalanceCommand : CardListCmdlet
    {
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("TransactionAmount")]
        [MoneyTransformation]
        [ValidateNonNegative]
        public decimal Amount { get; set; }

        [Parameter]
        public SwitchParameter Detailed { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (!MyInvocation.ExpectingInput) SetExpectedTotal(CardId.Length);
        }

        protected override void ProcessRecord()
        {
            // The amount is bound per pipeline record, so each card keeps its own.
            foreach (var id in CardIds()) Enqueue(id, Amount);
        }

        protected override void OnBalance(BulkItem item, BalanceResult result)
        {
            var check = new BalanceCheck(result.CardId, result.CardNumber, result.AvailableBalance, (decimal)item.State!, result.Currency);
            if (Detailed) WriteObject(check);
            else WriteObject(check.Sufficient);
        }

        // Fails closed: an unreadable card writes its error and never yields $true.
    }
}
