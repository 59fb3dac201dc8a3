using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Ahrvo.PowerShell.Completion
{
    /// <summary>
    /// Completes Invoke-AhrvoRequest -Path. The vendor's document gives one path in full, the
    /// balance endpoint's; it names its related endpoints (top-up, withdraw, card details, funding
    /// orders, create a card, list cards) by title only, so their paths are not invented here: the
    /// API's prefix is offered with their names, and every path this session has sent successfully.
    /// Never a request: a Tab key costs nothing.
    /// </summary>
    internal sealed class RequestPathCompleter : IArgumentCompleter
    {
        internal const string BalancePath = "/card/issuance/api/issuing/card/v2/normal/balance";
        internal const string ApiPrefix = "/card/issuance/api/issuing/card/v2/normal/";

        /// <summary>The related endpoints the vendor's document names (its "Related Endpoints" and "Troubleshooting").</summary>
        internal static readonly string[] NamedEndpoints =
        {
            "Top-up Dedicated Funds Card", "Withdraw Funds", "Query Card Details", "Query Card Funding Orders", "Create a Card", "Query All Cards",
        };

        private static readonly ConcurrentDictionary<string, byte> Used = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);

        /// <summary>A path a request of this session was answered on with a 2xx.</summary>
        internal static void Remember(string path)
        {
            if (Used.Count < 500) Used.TryAdd(path, 0);
        }

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = (wordToComplete ?? string.Empty).Trim('\'', '"');
            var results = new List<CompletionResult>();
            var offered = new HashSet<string>(StringComparer.Ordinal);
            void Offer(string path, string tip)
            {
                if (path.StartsWith(word, StringComparison.OrdinalIgnoreCase) && offered.Add(path))
                    results.Add(new CompletionResult("'" + path.Replace("'", "''") + "'", path, CompletionResultType.ParameterValue, tip));
            }
            Offer(BalancePath, "Query Dedicated Funds Card Balance (GET, -Query @{ card_id = '...' }): the path the vendor's document gives.");
            Offer(ApiPrefix, "The card issuance API's prefix (the balance endpoint's). The vendor's document also names: "
                + string.Join(", ", NamedEndpoints) + "; take their paths and bodies from the vendor's documents for each.");
            var used = new List<string>(Used.Keys);
            used.Sort(StringComparer.Ordinal);
            foreach (var p in used) Offer(p, "Sent earlier in this session.");
            return results;
        }
    }
}
