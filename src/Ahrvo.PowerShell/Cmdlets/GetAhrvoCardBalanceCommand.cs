using System.Management.Automation;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Completion;
using Ahrvo.PowerShell.Internal;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsCommon.Get, "AhrvoCardBalance")]
    [OutputType(typeof(CardBalance))]
    public sealed class GetAhrvoCardBalanceCommand : CardBatchCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("card_id", "Id")]
        [ValidateCardId]
        [ArgumentCompleter(typeof(CardIdCompleter))]
        public string[] CardId { get; set; } = System.Array.Empty<string>();

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (!MyInvocation.ExpectingInput) SetExpectedTotal(CardId.Length);
        }

        protected override void ProcessRecord()
        {
            foreach (var id in CardId) Enqueue(id);
        }

        protected override void OnBalance(BulkItem item, BalanceResult result) =>
            WriteObject(new CardBalance(result.CardId, result.CardNumber, result.AvailableBalance, result.Currency, result.RetrievedAt));
    }
}
