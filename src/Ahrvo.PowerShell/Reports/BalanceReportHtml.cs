using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Reports
{
    /// <summary>
    /// Renders the spec's "Generate Balance Report" as one self-contained HTML page: inline CSS, CSS
    /// bars, no script, no external resource (a Content-Security-Policy forbids loading any), every
    /// piece of text HTML-encoded. Numbers are formatted culture-invariantly (1,468.87) so a report
    /// reads the same whoever made it.
    /// </summary>
    internal static class BalanceReportHtml
    {
        public const string DefaultTitle = "Dedicated Funds Card Balance Report";
        public const decimal DefaultLowBalanceThreshold = 100m;

        private const string Style = @"
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2rem;color:#1f2328;background:#fff}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.meta{color:#59636e;margin-top:0}
table{border-collapse:collapse}th,td{padding:.3rem .7rem;text-align:left;vertical-align:middle}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.cards{width:100%}table.cards thead th{border-bottom:2px solid #d0d7de}table.cards tbody tr{border-bottom:1px solid #eaeef2}
table.cards tr.low{background:#fff1f0}table.cards tr.discrepancy td.difference{color:#b42318;font-weight:600}
table.cards tr.settled td.difference{color:#59636e}.note{color:#59636e}table.cards tr.low td.balance{color:#b42318;font-weight:600}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;background:#b42318;color:#fff;font-size:.8rem}
.ok{color:#59636e}
.bar-track{width:20rem;background:#f0f2f4;border-radius:3px}.share .bar-track{width:10rem}
.bar{height:1rem;background:#2f6fdb;border-radius:3px}
.warning{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem 1rem}
ul.failed li{margin:.2rem 0}code{font-family:ui-monospace,Consolas,monospace}
footer{margin-top:3rem;color:#59636e;font-size:.8rem}";

        public static string Render(BalanceReportData data)
        {
            var s = data.Summary;
            var currency = s.Currency ?? (s.Currencies.Length == 0 ? "" : string.Join("/", s.Currencies));
            var html = new StringBuilder(4096 + data.Cards.Count * 400);
            html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
            html.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
            html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
            html.Append("<title>").Append(E(data.Title)).Append("</title>\n<style>").Append(Style).Append("\n</style>\n</head>\n<body>\n");
            html.Append("<h1>").Append(E(data.Title)).Append("</h1>\n");
            html.Append("<p class=\"meta\">Generated ").Append(E(data.GeneratedAt.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture)))
                .Append(currency.Length > 0 ? " \u00b7 balances in " + E(currency) : "").Append("</p>\n");
            if (data.CurrencyWarning != null) html.Append("<p class=\"warning\">").Append(E(data.CurrencyWarning)).Append("</p>\n");

            AppendSummary(html, data);
            AppendReconciliation(html, data.Reconciliations);
            AppendDistribution(html, s);
            AppendCards(html, data);
            AppendFailures(html, data.Failures);

            html.Append("<footer>Written by Export-AhrvoBalanceReport (Ahrvo.PowerShell).</footer>\n</body>\n</html>\n");
            return html.ToString();
        }

        private static void AppendSummary(StringBuilder html, BalanceReportData data)
        {
            var s = data.Summary;
            int low = data.Cards.Count(c => IsLow(c, data.LowBalanceThreshold));
            html.Append("<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"summary\">\n");
            Row(html, "total-cards", "Total cards", s.Count.ToString(CultureInfo.InvariantCulture));
            Row(html, "total-balance", "Total balance", Money(s.Total));
            // The average is derived, not a balance: two decimals are enough.
            Row(html, "average-balance", "Average balance", s.Average is decimal avg ? avg.ToString("#,##0.00", CultureInfo.InvariantCulture) : Money(null));
            Row(html, "highest-balance", "Highest balance", Money(s.Maximum));
            Row(html, "lowest-balance", "Lowest balance", Money(s.Minimum));
            Row(html, "low-balance-cards", "Low balance (below " + Money(data.LowBalanceThreshold) + ")", low.ToString(CultureInfo.InvariantCulture));
            Row(html, "failed-cards", "Could not be read", data.Failures.Count.ToString(CultureInfo.InvariantCulture));
            html.Append("</table>\n</section>\n");
        }

        private static void Row(StringBuilder html, string id, string label, string value) =>
            html.Append("<tr><th scope=\"row\">").Append(E(label)).Append("</th><td class=\"num\" id=\"").Append(id).Append("\">")
                .Append(E(value)).Append("</td></tr>\n");

        /// <summary>
        /// Compare-AhrvoCardBalance results: counts by status, then the discrepancies (largest first)
        /// and, apart from them, the cards that settled on the recheck (in the order given): a
        /// settled card is not a discrepancy and must not be chased as one.
        /// </summary>
        private static void AppendReconciliation(StringBuilder html, IReadOnlyList<BalanceReconciliation> all)
        {
            if (all.Count == 0) return;
            var discrepancies = all.Where(r => r.Status == ReconciliationStatus.Discrepancy)
                .OrderByDescending(r => Math.Abs(r.Difference ?? 0m)).ThenBy(r => r.CardId, StringComparer.Ordinal).ToList();
            var settled = all.Where(r => r.Status == ReconciliationStatus.Settled).ToList();
            int Count(ReconciliationStatus status) => all.Count(r => r.Status == status);
            html.Append("<section id=\"reconciliation\">\n<h2>Reconciliation</h2>\n<table class=\"summary\">\n");
            Row(html, "reconciled-cards", "Cards compared", all.Count.ToString(CultureInfo.InvariantCulture));
            Row(html, "matched-cards", "Matched", Count(ReconciliationStatus.Matched).ToString(CultureInfo.InvariantCulture));
            Row(html, "settled-cards", "Settled on recheck", settled.Count.ToString(CultureInfo.InvariantCulture));
            Row(html, "discrepancy-cards", "Discrepancies", discrepancies.Count.ToString(CultureInfo.InvariantCulture));
            Row(html, "total-discrepancy", "Total discrepancy", Money(discrepancies.Sum(r => Math.Abs(r.Difference ?? 0m))));
            Row(html, "unreconciled-cards", "Could not be read", Count(ReconciliationStatus.Failed).ToString(CultureInfo.InvariantCulture));
            html.Append("</table>\n");

            html.Append("<h3 id=\"discrepancies\">Discrepancies (").Append(discrepancies.Count.ToString(CultureInfo.InvariantCulture)).Append(")</h3>\n");
            if (discrepancies.Count == 0) html.Append("<p>No discrepancies.</p>\n");
            else ReconciliationTable(html, "discrepancies", "discrepancy", discrepancies);

            // Only when a recheck ran or found one: without -RecheckAfter there is nothing to say here.
            if (settled.Count > 0)
            {
                html.Append("<h3 id=\"settled\">Settled on recheck (").Append(settled.Count.ToString(CultureInfo.InvariantCulture)).Append(")</h3>\n")
                    .Append("<p class=\"note\">Out of tolerance at the first reading and within it when read again after the delay: ")
                    .Append("the balance was still settling (pending transactions), not a discrepancy.</p>\n");
                ReconciliationTable(html, "settled", "settled", settled);
            }
            html.Append("</section>\n");
        }

        private static void ReconciliationTable(StringBuilder html, string id, string rowClass, IReadOnlyList<BalanceReconciliation> rows)
        {
            html.Append("<table class=\"cards ").Append(id).Append("\">\n<thead><tr><th>Card ID</th><th>Card number</th><th class=\"num\">Expected</th>")
                .Append("<th class=\"num\">First reading</th><th class=\"num\">Last reading</th><th class=\"num\">Difference</th></tr></thead>\n<tbody>\n");
            foreach (var r in rows)
            {
                html.Append("<tr data-card-id=\"").Append(E(r.CardId)).Append("\" class=\"").Append(rowClass).Append("\">")
                    .Append("<td><code>").Append(E(r.CardId)).Append("</code></td>")
                    .Append("<td><code>").Append(E(r.CardNumber ?? "")).Append("</code></td>")
                    .Append("<td class=\"num expected\">").Append(E(Money(r.ExpectedBalance))).Append("</td>")
                    .Append("<td class=\"num first\">").Append(E(Money(r.FirstBalance))).Append("</td>")
                    .Append("<td class=\"num last\">").Append(E(Money(r.ActualBalance))).Append("</td>")
                    .Append("<td class=\"num difference\">").Append(E(SignedMoney(r.Difference))).Append("</td>")
                    .Append("</tr>\n");
            }
            html.Append("</tbody>\n</table>\n");
        }

        private static string SignedMoney(decimal? value) =>
            value is decimal d && d > 0 ? "+" + Money(d) : Money(value);

        private static void AppendDistribution(StringBuilder html, BalanceSummary s)
        {
            int max = s.Distribution.Length == 0 ? 0 : s.Distribution.Max(b => b.Count);
            html.Append("<section id=\"distribution\">\n<h2>Balance distribution</h2>\n<table class=\"chart\">\n");
            foreach (var bucket in s.Distribution)
            {
                var width = max == 0 ? 0 : Math.Round(bucket.Count * 100.0 / max, 1);
                html.Append("<tr><th scope=\"row\">").Append(E(bucket.Label)).Append("</th><td><div class=\"bar-track\"><div class=\"bar\" style=\"width:")
                    .Append(width.ToString("0.#", CultureInfo.InvariantCulture)).Append("%\"></div></div></td><td class=\"num\">")
                    .Append(bucket.Count.ToString(CultureInfo.InvariantCulture)).Append(bucket.Count == 1 ? " card" : " cards").Append("</td></tr>\n");
            }
            html.Append("</table>\n</section>\n");
        }

        private static void AppendCards(StringBuilder html, BalanceReportData data)
        {
            html.Append("<section id=\"cards\">\n<h2>Card balances</h2>\n");
            if (data.Cards.Count == 0)
            {
                html.Append("<p>No balance data available.</p>\n</section>\n");
                return;
            }
            // Highest first, as in the spec's report; equal balances by card id so the order is stable.
            var sorted = data.Cards.OrderByDescending(c => c.AvailableBalance).ThenBy(c => c.CardId, StringComparer.Ordinal).ToList();
            var total = data.Summary.Total;
            html.Append("<table class=\"cards\">\n<thead><tr><th class=\"num\">#</th><th>Card ID</th><th>Card number</th><th class=\"num\">Balance</th>")
                .Append("<th>Currency</th><th class=\"num\">Share</th><th></th><th>Status</th></tr></thead>\n<tbody>\n");
            for (int i = 0; i < sorted.Count; i++)
            {
                var c = sorted[i];
                bool low = IsLow(c, data.LowBalanceThreshold);
                double share = total > 0 && c.AvailableBalance > 0 ? (double)(c.AvailableBalance / total * 100m) : 0;
                html.Append("<tr data-card-id=\"").Append(E(c.CardId)).Append(low ? "\" class=\"low\">" : "\">")
                    .Append("<td class=\"num\">").Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append("</td>")
                    .Append("<td><code>").Append(E(c.CardId)).Append("</code></td>")
                    .Append("<td><code>").Append(E(c.CardNumber ?? "")).Append("</code></td>")
                    .Append("<td class=\"num balance\">").Append(E(Money(c.AvailableBalance))).Append("</td>")
                    .Append("<td>").Append(E(c.Currency)).Append("</td>")
                    .Append("<td class=\"num\">").Append(share.ToString("0.0", CultureInfo.InvariantCulture)).Append(" %</td>")
                    .Append("<td class=\"share\"><div class=\"bar-track\"><div class=\"bar\" style=\"width:")
                    .Append(Math.Min(100, share).ToString("0.#", CultureInfo.InvariantCulture)).Append("%\"></div></div></td>")
                    .Append(low ? "<td><span class=\"badge\">Low</span></td>" : "<td class=\"ok\">OK</td>")
                    .Append("</tr>\n");
            }
            html.Append("</tbody>\n</table>\n</section>\n");
        }

        private static void AppendFailures(StringBuilder html, IReadOnlyList<FailedCard> failures)
        {
            if (failures.Count == 0) return;
            html.Append("<section id=\"failed\">\n<h2>Could not be read (").Append(failures.Count.ToString(CultureInfo.InvariantCulture)).Append(")</h2>\n<ul class=\"failed\">\n");
            foreach (var f in failures)
                html.Append("<li><code>").Append(E(f.CardId)).Append("</code>: ").Append(E(f.Reason)).Append("</li>\n");
            html.Append("</ul>\n</section>\n");
        }

        /// <summary>The spec's low balance: strictly below the threshold.</summary>
        public static bool IsLow(CardBalance card, decimal threshold) => card.AvailableBalance < threshold;

        // At least two decimals, and every further digit the API gave: a report never rounds a balance away.
        public static string Money(decimal? value) =>
            value is decimal d ? d.ToString("#,##0.00##########################", CultureInfo.InvariantCulture) : "\u2013";

        private static string E(string text) => WebUtility.HtmlEncode(text);
    }
}
