using System.Management.Automation;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Completion;
using Ahrvo.PowerShell.Internal;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Gets the available balance of Dedicated Funds cards.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AhrvoCardBalance")]
    [OutputType(typeof(CardBalance))]
    public sealed class GetAhrvoCardBalanceCommand : CardBatchCmdlet
    {
        /// <summary><para>The ids of the cards, e.g. card201907021723076245. Accepts pipeline input, and objects with a card_id, CardId or Id property.</para></summary>
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
