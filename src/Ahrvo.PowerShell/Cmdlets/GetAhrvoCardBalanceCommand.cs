using System.Management.Automation;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsCommon.Get, "AhrvoCardBalance")]
    [OutputType(typeof(CardBalance))]
    public sealed class GetAhrvoCardBalanceCommand : CardListCmdlet
    {
        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (!MyInvocation.ExpectingInput) SetExpectedTotal(CardId.Length);
        }

        protected override void ProcessRecord()
        {
            foreach (var id in CardIds()) Enqueue(id);
        }

        protected override void OnBalance(BulkItem item, BalanceResult result) =>
            WriteObject(new CardBalance(result.CardId, result.CardNumber, result.AvailableBalance, result.Currency, result.RetrievedAt));
    }
}
