using System.Globalization;
using System.Text.RegularExpressions;
using Ahrvo.PowerShell.Errors;
using Ahrvo.PowerShell.Reports;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Reports;

/// <summary>The HTML report: summary, chart, rows, failures, self-contained, every text encoded.</summary>
public sealed class BalanceReportHtmlTests
{
    private static CardBalance Card(string id, decimal balance, string currency = "USD") =>
        new(id, "5157********0000", balance, currency, DateTimeOffset.UtcNow);

    private static string Render(IEnumerable<CardBalance> cards, IEnumerable<FailedCard>? failures = null, string title = BalanceReportHtml.DefaultTitle, decimal low = 100m)
    {
        var stats = new BalanceStatistics(keepCards: true);
        foreach (var c in cards) stats.Add(c);
        foreach (var f in failures ?? Array.Empty<FailedCard>()) stats.AddFailure(f.CardId, f.Reason);
        return BalanceReportHtml.Render(new BalanceReportData(title, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            stats.ToSummary(), stats.Cards, stats.Failures, low, stats.CurrencyWarning()));
    }

    [Fact]
    public void Report_has_summary_chart_sorted_rows_low_highlight_and_failures()
    {
        var html = Render(new[] { Card("card1", 42.17m), Card("card2", 2500m), Card("card3", 100m), Card("card4", 99.99m) },
            new[] { new FailedCard("card9", "Card 'card9' was not found (HTTP 404).") });
        Assert.Contains("id=\"total-cards\">4<", html);
        Assert.Contains("id=\"total-balance\">2,742.16<", html);
        Assert.Contains("id=\"failed-cards\">1<", html);
        Assert.Contains("id=\"low-balance-cards\">2<", html);
        var rows = Regex.Matches(html, "<tr data-card-id=\"(card\\d)\"( class=\"low\")?>").Select(m => (m.Groups[1].Value, m.Groups[2].Success)).ToList();
        // Highest first; below 100 is low, exactly 100 is not (the spec's "balance < 100").
        Assert.Equal(new[] { ("card2", false), ("card3", false), ("card4", true), ("card1", true) }, rows);
        Assert.Contains("<code>card9</code>: Card &#39;card9&#39; was not found (HTTP 404).", html);
        Assert.Contains("$1,000\u20135,000", html);
    }

    [Fact]
    public void Report_is_self_contained()
    {
        var html = Render(new[] { Card("card1", 1m) });
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch("(?i)(https?:)?//[a-z0-9]", html);
        Assert.Contains("default-src 'none'", html);
    }

    [Fact]
    public void Report_encodes_every_text()
    {
        var evil = "<script>alert(1)</script>&\"'";
        var html = Render(new[] { new CardBalance("card1", evil, 5m, "U<S>D", DateTimeOffset.UtcNow) },
            new[] { new FailedCard("card2", evil) }, title: evil);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;", html);
        Assert.Contains("U&lt;S&gt;D", html);
    }

    [Fact]
    public void Report_without_cards_says_so_and_keeps_every_digit_of_a_balance()
    {
        Assert.Contains("No balance data available", Render(Array.Empty<CardBalance>()));
        var html = Render(new[] { Card("card1", 1234.5678m) });
        Assert.Contains(">1,234.5678<", html);
    }

    [Fact]
    public void Report_numbers_do_not_depend_on_the_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.Contains("id=\"total-balance\">1,468.87<", Render(new[] { Card("card1", 1468.87m) }));
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }
    private static string RenderReconciliations(params BalanceReconciliation[] rows)
    {
        var stats = new BalanceStatistics(keepCards: true);
        foreach (var r in rows) stats.Add(r);
        return BalanceReportHtml.Render(new BalanceReportData(BalanceReportHtml.DefaultTitle, DateTimeOffset.UnixEpoch,
            stats.ToSummary(), stats.Cards, stats.Failures, 100m, stats.CurrencyWarning(), stats.Reconciliations));
    }

    [Fact]
    public void Reconciliations_show_discrepancies_largest_first_and_settled_cards_apart()
    {
        var small = Reconciliation.Compare("card-small", null, 10m, 12m, 0.01m);
        var large = Reconciliation.Compare("card-large", null, 10m, 110m, 0.01m);
        var settled = Reconciliation.Recheck(Reconciliation.Compare("card-settled", null, 10m, 5m, 0.01m), null, 10m, 0.01m);
        var html = RenderReconciliations(Reconciliation.Compare("card-ok", null, 1m, 1m, 0.01m), small, settled, large, Reconciliation.Failed("card-failed", 3m));
        var rows = Regex.Matches(html, "<tr data-card-id=\"([a-z-]+)\" class=\"(discrepancy|settled)\">").Select(m => (m.Groups[1].Value, m.Groups[2].Value));
        Assert.Equal(new[] { ("card-large", "discrepancy"), ("card-small", "discrepancy"), ("card-settled", "settled") }, rows);
        Assert.True(html.IndexOf("id=\"discrepancies\"", StringComparison.Ordinal) < html.IndexOf("id=\"settled\"", StringComparison.Ordinal));
        Assert.Contains("id=\"total-discrepancy\">102.00<", html);
        Assert.Contains("<td class=\"num difference\">+100.00</td>", html);
        Assert.Contains("id=\"unreconciled-cards\">1<", html);
        Assert.Contains("id=\"failed-cards\">1<", html);
        Assert.Contains("id=\"total-cards\">4<", html);
    }

    [Fact]
    public void Without_a_settled_card_there_is_no_settled_section_and_without_reconciliations_no_section_at_all()
    {
        var html = RenderReconciliations(Reconciliation.Compare("card-ok", "<b>", 1m, 1m, 0.01m));
        Assert.Contains("<p>No discrepancies.</p>", html);
        Assert.DoesNotContain("id=\"settled\"", html);
        Assert.Contains("id=\"settled-cards\">0<", html);
        Assert.DoesNotContain("<b>", html);
        Assert.DoesNotContain("id=\"reconciliation\"", Render(new[] { Card("card1", 1m) }));
    }
}
