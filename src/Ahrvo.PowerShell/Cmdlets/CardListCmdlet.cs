using System;
using System.Collections.Generic;
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
        /// <summary>
        /// Objects, not strings: PowerShell would turn any object into text to bind it to a string
        /// parameter (a CSV row became "@{Card ID=...; owner=...}" and was sent). Each element is
        /// resolved by <see cref="CardIdInput"/>: a string, or an object's id property; else refused.
        /// </summary>
        // By value only: an object's id property is found by CardIdInput (any case, spaces, '_' or '-'),
        // which binding by property name could not do.
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [Alias("card_id", "Id")]
        [ValidateCardId]
        [ArgumentCompleter(typeof(CardIdCompleter))]
        public object[] CardId { get; set; } = Array.Empty<object>();

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? CardIdProperty { get; set; }

        /// <summary>The card ids of the current -CardId value; what cannot be one is refused here (an error each), before any request.</summary>
        protected List<string> CardIds() => CardIdsOf(this, CardId, CardIdProperty);

        internal static List<string> CardIdsOf(PSCmdlet cmdlet, object[]? inputs, string? property, Action<object?, ErrorRecord>? onRefused = null)
        {
            var ids = new List<string>();
            if (inputs == null) return ids;
            var command = cmdlet.MyInvocation.MyCommand.Name;
            foreach (var input in inputs)
            {
                var r = CardIdInput.Resolve(input, property, command);
                if (r.Refusal != null)
                {
                    cmdlet.WriteError(r.Refusal);
                    onRefused?.Invoke(input, r.Refusal);
                    continue;
                }
                foreach (var given in r.Trimmed)
                    cmdlet.WriteVerbose("Card id '" + given + "' has white space around it: read as '" + Client.Parsing.CardIdRules.Trim(given) + "'.");
                ids.AddRange(r.Ids);
            }
            return ids;
        }
    }
}
