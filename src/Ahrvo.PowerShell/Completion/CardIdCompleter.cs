using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Ahrvo.PowerShell.Completion
{
    /// <summary>
    /// Completes -CardId with the ids this session has already read successfully
    /// (<see cref="SeenCardIds"/>). It never calls the API: a Tab key must not cost a request.
    /// Put [ArgumentCompleter(typeof(CardIdCompleter))] on every -CardId parameter.
    /// </summary>
    internal sealed class CardIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            // The word may arrive with its opening quote ('card20...): match without it, and answer
            // in the same quote style so the completed text still parses.
            var word = wordToComplete ?? string.Empty;
            char quote = word.Length > 0 && IsQuote(word[0]) ? word[0] : '\0';
            var prefix = quote != '\0' ? word.Substring(1) : word;
            if (prefix.Length > 0 && IsQuote(prefix[prefix.Length - 1])) prefix = prefix.Substring(0, prefix.Length - 1);

            var results = new List<CompletionResult>();
            foreach (var id in SeenCardIds.Matching(prefix))
                results.Add(new CompletionResult(Quote(id, quote), id, CompletionResultType.ParameterValue, id));
            return results;
        }

        private static bool IsQuote(char c) => c == '\'' || c == '"' || c == '\u2018' || c == '\u2019' || c == '\u201C' || c == '\u201D';

        private static string Quote(string id, char quote)
        {
            if (quote == '"' || quote == '\u201C' || quote == '\u201D')
                return "\"" + id.Replace("`", "``").Replace("\"", "`\"").Replace("$", "`$") + "\"";
            if (quote != '\0' || NeedsQuotes(id))
                return "'" + id.Replace("'", "''") + "'";
            return id;
        }

        // Card ids are normally letters and digits; anything PowerShell would split or expand gets quotes.
        private static bool NeedsQuotes(string id)
        {
            foreach (var c in id)
                if (char.IsWhiteSpace(c) || "'\"`$,;(){}[]@#|&<>".IndexOf(c) >= 0) return true;
            return false;
        }
    }
}
