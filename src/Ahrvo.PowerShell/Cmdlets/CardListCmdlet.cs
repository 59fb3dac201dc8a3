using System;
using System.Management.Automation;
using Ahrvo.PowerShell.Completion;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// The cmdlets that read the cards given by -CardId or the pipeline (Get-, Test- and
    /// Watch-AhrvoCardBalance) declare -CardId once, here. Compare-AhrvoCardBalance (one card per
    /// ledger line) and the report cmdlets (-CardId in a parameter set beside balance input) differ.
    /// </summary>
    public abstract class CardListCmdlet : CardBatchCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("card_id", "Id")]
        [ValidateCardId]
        [ArgumentCompleter(typeof(CardIdCompleter))]
        public string[] CardId { get; set; } = Array.Empty<string>();
    }
}
