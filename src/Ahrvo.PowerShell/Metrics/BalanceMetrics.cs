using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Metrics
{
    /// <summary>
    /// One run's balances in the Prometheus text exposition format (version 0.0.4), as the textfile
    /// collector of node_exporter and windows_exporter reads it: no timestamps on samples, each
    /// family once with its HELP and TYPE, LF line ends, a final newline.
    /// </summary>
    internal static class BalanceMetrics
    {
        public const string AvailableBalance = "ahrvo_card_available_balance";
        public const string ReadOk = "ahrvo_card_read_ok";
        public const string LastSuccess = "ahrvo_card_last_success_timestamp_seconds";
        public const string Level = "ahrvo_card_balance_level";
        public const string Threshold = "ahrvo_balance_alert_threshold";
        public const string CardsRead = "ahrvo_cards_read";
        public const string CardsFailed = "ahrvo_cards_failed";
        public const string InputsRefused = "ahrvo_inputs_refused";
        public const string Requests = "ahrvo_requests_total";
        public const string Retries = "ahrvo_request_retries_total";
        public const string Throttled = "ahrvo_throttled_responses_total";

        private static readonly DateTimeOffset UnixEpoch = new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);

        /// <summary>
        /// The text for one run. <c>previousLastSuccess</c> holds the last-success times of the file
        /// this one replaces, by card id: a card that fails now keeps the time of its last good read,
        /// so "no good read for an hour" can be alerted on. <c>previousCounters</c> are that file's
        /// request counters, which this run's (<c>counters</c>) add to (see <see cref="CounterTotals"/>).
        /// </summary>
        public static string Render(
            IEnumerable<CardBalance> cards,
            IEnumerable<FailedCard> failures,
            AlertThresholds? thresholds,
            ConnectionCounters? counters,
            IReadOnlyDictionary<string, string>? previousLastSuccess = null,
            CounterTotals? previousCounters = null,
            int refusedInputs = 0)
        {
            // One sample per card and family: a repeated series makes the collector drop the whole
            // file. A card read at least once in the run counts as read (its last balance wins).
            var read = new Dictionary<string, CardBalance>(StringComparer.Ordinal);
            foreach (var c in cards) read[c.CardId] = c;
            var failed = new SortedSet<string>(failures.Select(f => f.CardId).Where(id => !read.ContainsKey(id)), StringComparer.Ordinal);
            // Sorted by card id, so that successive files diff cleanly.
            var ok = read.Values.OrderBy(c => c.CardId, StringComparer.Ordinal).ToList();
            var all = ok.Select(c => c.CardId).Concat(failed).OrderBy(id => id, StringComparer.Ordinal).ToList();

            var text = new StringBuilder();
            Family(text, AvailableBalance, "gauge",
                "Available balance of a Dedicated Funds card at its last read in this run, in the card's currency. A card that could not be read has no sample.",
                ok.Select(c => (Labels(("card_id", c.CardId), ("currency", c.Currency)), Number(c.AvailableBalance))));
            Family(text, ReadOk, "gauge",
                "Whether the card's balance was read in this run (1) or could not be read (0).",
                all.Select(id => (Labels(("card_id", id)), read.ContainsKey(id) ? "1" : "0")));
            Family(text, LastSuccess, "gauge",
                "When the card's balance was last read successfully, in Unix time; kept from the previous file while the card fails.",
                all.Select(id => (Labels(("card_id", id)), LastSuccessOf(id, read, previousLastSuccess)))
                   .Where(s => s.Item2 != null).Select(s => (s.Item1, s.Item2!)));
            if (thresholds != null)
            {
                Family(text, Level, "gauge",
                    "Alert level of the card's balance, as Watch-AhrvoCardBalance classifies it: 0 normal, 1 low, 2 warning, 3 critical.",
                    ok.Select(c => (Labels(("card_id", c.CardId)), ((int)thresholds.Classify(c.AvailableBalance)).ToString(CultureInfo.InvariantCulture))));
                Family(text, Threshold, "gauge",
                    "The balance at or below which a card is at this alert level.",
                    new[] { ("critical", thresholds.Critical), ("warning", thresholds.Warning), ("low", thresholds.Low) }
                        .Where(t => t.Item2 != null).Select(t => (Labels(("level", t.Item1)), Number(t.Item2!.Value))));
            }
            Family(text, CardsRead, "gauge", "Cards whose balance was read in the run that wrote this file.",
                new[] { ("", Integer(ok.Count)) });
            // Inputs refused before any request (no card id) count as failed: they were meant as cards.
            Family(text, CardsFailed, "gauge", "Cards whose balance could not be read in the run that wrote this file, inputs refused for holding no card id included.",
                new[] { ("", Integer(failed.Count + refusedInputs)) });
            Family(text, InputsRefused, "gauge", "Inputs refused in the run that wrote this file because they held no usable card id (also counted in ahrvo_cards_failed).",
                new[] { ("", Integer(refusedInputs)) });
            if (counters != null || previousCounters != null)
            {
                // Counters over every run that wrote this file, so that they only grow even though each
                // scheduled run is a new connection whose own counters start at 0.
                var totals = CounterTotals.Next(previousCounters, counters);
                var n = totals.Totals;
                Family(text, Requests, "counter", "Balance requests sent by the runs that wrote this file, every attempt included.",
                    new[] { ("", Integer(n.RequestsSent)) });
                Family(text, Retries, "counter", "Requests that were a card's second or later attempt, in the runs that wrote this file.",
                    new[] { ("", Integer(n.Retries)) });
                Family(text, Throttled, "counter", "Answers 429 (rate limited) received by the runs that wrote this file.",
                    new[] { ("", Integer(n.ThrottledResponses)) });
                text.Append(totals.CountedLine());
            }
            return text.ToString();
        }

        private static string? LastSuccessOf(string id, Dictionary<string, CardBalance> read, IReadOnlyDictionary<string, string>? previous)
        {
            // A time before 1970 is no time: deserialized balances may have lost theirs.
            if (read.TryGetValue(id, out var card))
                return card.RetrievedAt > UnixEpoch ? Number(card.RetrievedAt.ToUnixTimeMilliseconds() / 1000m) : null;
            return previous != null && previous.TryGetValue(id, out var value) ? value : null;
        }

        private static void Family(StringBuilder text, string name, string type, string help, IEnumerable<(string Labels, string Value)> samples)
        {
            var list = samples.ToList();
            if (list.Count == 0) return; // a family without samples tells nothing
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in list) text.Append(name).Append(labels).Append(' ').Append(value).Append('\n');
        }

        private static string Labels(params (string Name, string Value)[] labels) =>
            "{" + string.Join(",", labels.Select(l => l.Name + "=\"" + EscapeLabelValue(l.Value) + "\"")) + "}";

        // Exactly as the API gave it: decimal, never through double, never in the current culture.
        internal static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);

        private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

        /// <summary>The exposition format's label value escapes: backslash, double quote, line feed.</summary>
        internal static string EscapeLabelValue(string value) =>
            value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

        private static string EscapeHelp(string help) => help.Replace("\\", "\\\\").Replace("\n", "\\n");

        /// <summary>
        /// The last-success samples of a file written by <see cref="Render"/>, by card id, with their
        /// values as written. Lines that are not such a sample are skipped: a file edited by hand or
        /// cut short only loses what cannot be read.
        /// </summary>
        public static Dictionary<string, string> ReadLastSuccess(string text)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            var prefix = LastSuccess + "{card_id=\"";
            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var id = new StringBuilder();
                int i = prefix.Length;
                for (; i < line.Length && line[i] != '"'; i++)
                {
                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        id.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else id.Append(line[i]);
                }
                if (!line.Substring(Math.Min(i, line.Length)).StartsWith("\"} ", StringComparison.Ordinal)) continue;
                var value = line.Substring(i + 3).Trim();
                // Only a plain number is carried over: the file is rewritten, never trusted blindly.
                if (decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _))
                    result[id.ToString()] = value;
            }
            return result;
        }
    }
}
