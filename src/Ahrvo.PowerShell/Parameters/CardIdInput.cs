using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Text;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Parameters
{
    /// <summary>
    /// What a -CardId value or pipeline object means as card ids. Only a string, or an object (a
    /// PSCustomObject, a CSV row, a hashtable, any .NET object) with a recognised id property,
    /// is a card id; anything else is refused here, before any request, so that an object is never
    /// turned into text (its other columns, people's names, would reach the API and the audit log).
    /// Property names match as users write them: any case, ignoring spaces, '_', '-' and '.'.
    /// </summary>
    internal static class CardIdInput
    {
        /// <summary>The names recognised (after <see cref="Normalize"/>), best first.</summary>
        private static readonly string[] Recognised = { "cardid", "id" };

        /// <summary>How the recognised names are written in messages.</summary>
        internal const string RecognisedText = "CardId, card_id, card-id, 'Card ID' or Id (any case)";

        /// <summary>A name without case, spaces, '_', '-' or '.': "Card ID", "card_id", "CARD-ID" are all "cardid".</summary>
        internal static string Normalize(string name)
        {
            var b = new StringBuilder(name.Length);
            foreach (var c in name)
            {
                if (char.IsWhiteSpace(c) || c == '_' || c == '-' || c == '.' || c == '\uFEFF') continue;
                b.Append(char.ToLowerInvariant(c));
            }
            return b.ToString();
        }

        /// <summary>One input's outcome: the ids it holds (trimmed), or why it holds none.</summary>
        internal sealed class Result
        {
            public List<string> Ids { get; } = new List<string>();
            /// <summary>Ids that had white space around them, as given (for -Verbose).</summary>
            public List<string> Trimmed { get; } = new List<string>();
            public ErrorRecord? Refusal { get; set; }
        }

        /// <summary>
        /// Resolves one element of -CardId. <paramref name="property"/> is -CardIdProperty: when
        /// given, objects are read from that property only (matched like the recognised names).
        /// </summary>
        public static Result Resolve(object? input, string? property, string command)
        {
            var result = new Result();
            var value = input is PSObject ps ? ps.BaseObject : input;
            if (value is string s)
            {
                AddText(result, s, input);
                return result;
            }
            if (value == null)
            {
                result.Refusal = Refuse(input, "The card id is null.", Errors.ErrorRecords.RefusedIdAction, command);
                return result;
            }
            var columns = Columns(input!, value);
            var wanted = property == null ? Recognised : new[] { Normalize(property) };
            foreach (var name in wanted)
            {
                var matches = columns.Where(c => Normalize(c.Name) == name).ToList();
                if (matches.Count == 0) continue;
                var distinct = matches.Select(m => Text(m.Value)).Distinct(StringComparer.Ordinal).ToList();
                if (distinct.Count > 1)
                {
                    result.Refusal = Refuse(input, string.Format(CultureInfo.InvariantCulture,
                        "This {0} has {1} properties that could hold the card id ({2}), with different values. Nothing was sent for it.",
                        Describe(value, input), matches.Count, Quote(matches.Select(m => m.Name))),
                        "Name the one to use with -CardIdProperty, e.g. -CardIdProperty " + PowerShellQuote(matches[0].Name) + ".", command);
                    return result;
                }
                AddValue(result, matches[0].Value, matches[0].Name, input, command);
                return result;
            }
            result.Refusal = NoCardId(input, value, columns.Select(c => c.Name).ToList(), property, command);
            return result;
        }

        private static void AddValue(Result result, object? value, string name, object? input, string command)
        {
            var v = value is PSObject ps ? ps.BaseObject : value;
            switch (v)
            {
                case string s:
                    AddText(result, s, input);
                    return;
                case null:
                    result.Refusal = Refuse(input, "The card id in property '" + name + "' is empty.", Errors.ErrorRecords.RefusedIdAction, command);
                    return;
                case IEnumerable list when !(v is IDictionary):
                    // An array of ids in one property, as binding by property name took it.
                    foreach (var item in list)
                    {
                        var inner = item is PSObject p ? p.BaseObject : item;
                        if (inner is string text) AddText(result, text, input);
                        else
                        {
                            result.Ids.Clear();
                            result.Refusal = Refuse(input, "Property '" + name + "' holds a list with a " + TypeName(inner) + " in it; card ids are strings.",
                                "Give the card ids as strings.", command);
                            return;
                        }
                    }
                    return;
                case int _:
                case long _:
                    // A number (from JSON or a spreadsheet) is not text but has only one reading.
                    AddText(result, Convert.ToString(v, CultureInfo.InvariantCulture)!, input);
                    return;
                default:
                    result.Refusal = Refuse(input, "Property '" + name + "' holds a " + TypeName(v) + ", not a card id string. Nothing was sent for it.",
                        "Give the card id as a string in that property, or name another one with -CardIdProperty.", command);
                    return;
            }
        }

        private static void AddText(Result result, string text, object? input)
        {
            var trimmed = CardIdRules.Trim(text);
            var problem = CardIdRules.Check(trimmed);
            if (problem != null)
            {
                result.Refusal = Refuse(input, problem + " Nothing was sent for it.", Errors.ErrorRecords.RefusedIdAction, "");
                return;
            }
            if (trimmed.Length != text.Length) result.Trimmed.Add(text);
            result.Ids.Add(trimmed);
        }

        private static string Text(object? value)
        {
            var v = value is PSObject ps ? ps.BaseObject : value;
            if (v is string s) return CardIdRules.Trim(s);
            if (v is IEnumerable e && !(v is IDictionary)) return string.Join("\u0001", e.Cast<object?>().Select(Text));
            return v == null ? "" : v.GetType().FullName + ":" + Convert.ToString(v, CultureInfo.InvariantCulture);
        }

        private readonly struct Column
        {
            public Column(string name, object? value) { Name = name; Value = value; }
            public string Name { get; }
            public object? Value { get; }
        }

        /// <summary>The object's columns: a dictionary's keys, else its properties (CSV columns, note properties, .NET properties).</summary>
        private static List<Column> Columns(object input, object value)
        {
            var list = new List<Column>();
            if (value is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary)
                    if (entry.Key is string key) list.Add(new Column(key, entry.Value));
                    else if (entry.Key is PSObject pk && pk.BaseObject is string k) list.Add(new Column(k, entry.Value));
                return list;
            }
            var o = input as PSObject ?? PSObject.AsPSObject(value);
            foreach (var p in o.Properties)
            {
                if (!p.IsGettable) continue;
                object? v;
                try
                {
                    v = p.Value;
                }
                catch (Exception ex) when (ex is GetValueException || ex is ExtendedTypeSystemException)
                {
                    v = null;
                }
                list.Add(new Column(p.Name, v));
            }
            return list;
        }

        private static ErrorRecord NoCardId(object? input, object value, List<string> columns, string? property, string command)
        {
            string what = Describe(value, input);
            string found = columns.Count == 0 ? "no properties at all" : (columns.Count == 1 ? "one property, " : "the properties ") + Quote(columns.Take(12)) + (columns.Count > 12 ? ", ..." : "");
            var message = new StringBuilder();
            message.Append(property == null
                ? "This input is not a card id: a " + what + " with " + found + ", none of them a card id (" + RecognisedText + "). Nothing was sent for it."
                : "This input has no property '" + property + "' (-CardIdProperty): a " + what + " with " + found + ". Nothing was sent for it.");
            string action;
            var delimited = columns.FirstOrDefault(c => c.IndexOf(';') >= 0 || c.IndexOf('\t') >= 0 || c.IndexOf('|') >= 0);
            if (columns.Count == 1 && delimited != null)
            {
                var sep = delimited.IndexOf(';') >= 0 ? ";" : delimited.IndexOf('|') >= 0 ? "|" : "`t";
                action = "The file looks '" + sep + "'-separated: read it with Import-Csv -Delimiter \"" + sep + "\".";
            }
            else
            {
                // The column most likely meant: one whose name mentions a card, else the first.
                var guess = columns.FirstOrDefault(c => Normalize(c).Contains("card") && !Normalize(c).Contains("number")) ?? columns.FirstOrDefault();
                var name = guess ?? "Card ID";
                action = "Name the column that holds the card id: add -CardIdProperty " + PowerShellQuote(name) + " to " + (command.Length > 0 ? command : "the command")
                    + ", or rename it first: Select-Object @{ Name = 'CardId'; Expression = { $_." + PowerShellQuote(name) + " } }.";
            }
            return Refuse(input, message.ToString(), action, command, "Ahrvo.NoCardId");
        }

        private static ErrorRecord Refuse(object? input, string message, string action, string command, string id = "Ahrvo.InvalidCard")
        {
            // The target is the input itself: it stays in this session, where $_.TargetObject shows which row it was.
            var record = new ErrorRecord(new ArgumentException(message + " " + action), id, ErrorCategory.InvalidArgument, input);
            record.ErrorDetails = new ErrorDetails(message) { RecommendedAction = action };
            return record;
        }

        private static string Describe(object value, object? input)
        {
            if (value is IDictionary) return "hashtable";
            var o = input as PSObject;
            if (value is PSCustomObject || o?.BaseObject is PSCustomObject)
            {
                // Import-Csv rows are PSCustomObjects; say so plainly.
                return "row (PSCustomObject)";
            }
            return TypeName(value);
        }

        private static string TypeName(object? value) => value == null ? "null" : value.GetType().FullName ?? value.GetType().Name;

        private static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(n => "'" + n + "'"));

        /// <summary>A name as a PowerShell single-quoted string.</summary>
        internal static string PowerShellQuote(string name) => "'" + name.Replace("'", "''") + "'";
    }
}
