using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Errors;
using Ahrvo.PowerShell.Files;
using Ahrvo.PowerShell.Reports;
using Ahrvo.PowerShell.Parameters;
using Xunit;

namespace Ahrvo.PowerShell.Tests;

/// <summary>The pure logic behind the use-case cmdlets: levels, changes, tolerance, ranges, the report, the file write.</summary>
public class UseCaseLogicTests
{
    private static decimal D(string s) => decimal.Parse(s, CultureInfo.InvariantCulture);

    // ---- alert levels -------------------------------------------------------------------------

    // The spec's thresholds: critical 50, warning 100, low 250; "at or below" each.
    [Theory]
    [InlineData("-5", BalanceLevel.Critical)]
    [InlineData("0", BalanceLevel.Critical)]
    [InlineData("49.99", BalanceLevel.Critical)]
    [InlineData("50", BalanceLevel.Critical)]
    [InlineData("50.00", BalanceLevel.Critical)]
    [InlineData("50.01", BalanceLevel.Warning)]
    [InlineData("99.99", BalanceLevel.Warning)]
    [InlineData("100", BalanceLevel.Warning)]
    [InlineData("100.001", BalanceLevel.Low)]
    [InlineData("250", BalanceLevel.Low)]
    [InlineData("250.00", BalanceLevel.Low)]
    [InlineData("250.01", BalanceLevel.Normal)]
    [InlineData("1468.87", BalanceLevel.Normal)]
    public void Classifies_at_or_below_each_threshold(string balance, BalanceLevel expected)
    {
        var t = new AlertThresholds(50m, 100m, 250m);
        Assert.Equal(expected, t.Classify(D(balance)));
    }

    [Fact]
    public void Threshold_of_each_level_and_none_for_normal()
    {
        var t = new AlertThresholds(50m, 100m, 250m);
        Assert.Equal(50m, t.ThresholdOf(BalanceLevel.Critical));
        Assert.Equal(100m, t.ThresholdOf(BalanceLevel.Warning));
        Assert.Equal(250m, t.ThresholdOf(BalanceLevel.Low));
        Assert.Null(t.ThresholdOf(BalanceLevel.Normal));
    }

    [Fact]
    public void Omitted_thresholds_are_levels_not_used()
    {
        var lowOnly = new AlertThresholds(null, null, 100m);
        Assert.Equal(BalanceLevel.Low, lowOnly.Classify(0m));
        Assert.Equal(BalanceLevel.Low, lowOnly.Classify(100m));
        Assert.Equal(BalanceLevel.Normal, lowOnly.Classify(100.01m));

        var noWarning = new AlertThresholds(10m, null, 100m);
        Assert.Equal(BalanceLevel.Critical, noWarning.Classify(10m));
        Assert.Equal(BalanceLevel.Low, noWarning.Classify(10.01m));
    }

    [Fact]
    public void Equal_thresholds_give_the_most_severe_level()
    {
        var t = new AlertThresholds(100m, 100m, 100m);
        Assert.Equal(BalanceLevel.Critical, t.Classify(100m));
        Assert.Equal(BalanceLevel.Normal, t.Classify(100.01m));
    }

    [Theory]
    [InlineData(100, 50, null, "-Critical 100 is above -Warning 50")]
    [InlineData(null, 300, 250, "-Warning 300 is above -Low 250")]
    [InlineData(300, null, 250, "-Critical 300 is above -Low 250")]
    [InlineData(300, 200, 100, "-Critical 300 is above -Warning 200 and -Warning 200 is above -Low 100")]
    public void Disordered_thresholds_are_refused_naming_the_values(int? critical, int? warning, int? low, string expected)
    {
        var problem = AlertThresholds.Problem(critical, warning, low);
        Assert.NotNull(problem);
        Assert.Contains(expected, problem);
        Assert.Throws<ArgumentException>(() => new AlertThresholds(critical, warning, low));
    }

    [Fact]
    public void At_least_one_threshold_is_required()
    {
        Assert.Contains("at least one", AlertThresholds.Problem(null, null, null));
        Assert.Null(AlertThresholds.Problem(50m, 100m, 250m));
        Assert.Null(AlertThresholds.Problem(50m, 50m, 50m));
    }

    // ---- reconciliation --------------------------------------------------------------------------

    [Theory]
    [InlineData("100.00", "100.00", ReconciliationStatus.Matched)]
    [InlineData("100.00", "100.01", ReconciliationStatus.Matched)]   // exactly the tolerance above
    [InlineData("100.00", "99.99", ReconciliationStatus.Matched)]    // exactly the tolerance below
    [InlineData("100.00", "100.011", ReconciliationStatus.Discrepancy)]
    [InlineData("100.00", "99.989", ReconciliationStatus.Discrepancy)]
    [InlineData("1468.87", "1468.87", ReconciliationStatus.Matched)]
    [InlineData("2500.00", "2400.00", ReconciliationStatus.Discrepancy)]
    public void Only_a_difference_greater_than_the_tolerance_is_a_discrepancy(string expected, string actual, ReconciliationStatus status)
    {
        var r = Reconciliation.Compare("c", "5157********0000", D(expected), D(actual), Reconciliation.DefaultTolerance);
        Assert.Equal(status, r.Status);
        Assert.Equal(D(actual) - D(expected), r.Difference);
        Assert.Equal(D(actual), r.ActualBalance);
    }

    [Fact]
    public void Difference_is_actual_minus_expected()
    {
        Assert.Equal(-0.011m, Reconciliation.Compare("c", null, 850.511m, 850.50m, 0.01m).Difference);
        Assert.Equal(100m, Reconciliation.Compare("c", null, 2400m, 2500m, 0.01m).Difference);
    }

    [Fact]
    public void Zero_tolerance_means_exact()
    {
        Assert.Equal(ReconciliationStatus.Matched, Reconciliation.Compare("c", null, 1m, 1.000m, 0m).Status);
        Assert.Equal(ReconciliationStatus.Discrepancy, Reconciliation.Compare("c", null, 1m, 1.001m, 0m).Status);
        Assert.Throws<ArgumentOutOfRangeException>(() => Reconciliation.Compare("c", null, 1m, 1m, -0.01m));
    }

    [Fact]
    public void Failed_has_no_actual_and_no_difference()
    {
        var r = Reconciliation.Failed("c", 10m);
        Assert.Equal(ReconciliationStatus.Failed, r.Status);
        Assert.Null(r.ActualBalance);
        Assert.Null(r.Difference);
        Assert.Equal(10m, r.ExpectedBalance);
    }

    // ---- distribution and statistics ---------------------------------------------------------

    [Theory]
    [InlineData("-0.01", 0)]  // negative balances go to the first range
    [InlineData("0", 0)]
    [InlineData("99.99", 0)]
    [InlineData("100", 1)]
    [InlineData("499.999", 1)]
    [InlineData("500", 2)]
    [InlineData("999.99", 2)]
    [InlineData("1000", 3)]
    [InlineData("4999.99", 3)]
    [InlineData("5000", 4)]
    [InlineData("12850.00", 4)]
    public void Ranges_follow_the_spec_boundaries(string balance, int index)
    {
        Assert.Equal(index, BalanceBuckets.IndexOf(D(balance)));
    }

    [Fact]
    public void The_five_ranges_in_order_with_labels_and_bounds()
    {
        var buckets = BalanceBuckets.Build(new int[BalanceBuckets.BucketCount]);
        Assert.Equal(new[] { "$0\u2013100", "$100\u2013500", "$500\u20131,000", "$1,000\u20135,000", "$5,000+" }, buckets.Select(b => b.Label));
        Assert.Equal(new decimal?[] { null, 100m, 500m, 1000m, 5000m }, buckets.Select(b => b.Minimum));
        Assert.Equal(new decimal?[] { 100m, 500m, 1000m, 5000m, null }, buckets.Select(b => b.Maximum));
        Assert.All(buckets, b => Assert.Equal(0, b.Count));
    }

    private static CardBalance Card(string id, decimal balance, string currency = "USD") =>
        new(id, "5157********0000", balance, currency, DateTimeOffset.UtcNow);

    [Fact]
    public void Empty_input_gives_zero_count_and_no_statistics()
    {
        var s = new BalanceStatistics().ToSummary();
        Assert.Equal(0, s.Count);
        Assert.Equal(0m, s.Total);
        Assert.Null(s.Average);
        Assert.Null(s.Minimum);
        Assert.Null(s.Maximum);
        Assert.Null(s.Currency);
        Assert.Empty(s.Failed);
        Assert.Equal(5, s.Distribution.Length);
    }

    [Fact]
    public void Statistics_of_the_spec_sample_cards()
    {
        var stats = new BalanceStatistics();
        foreach (var (id, b) in new[] { ("a", 1468.87m), ("b", 2500.00m), ("c", 850.50m), ("d", 42.17m), ("e", 7.05m) }) stats.Add(Card(id, b));
        stats.AddFailure("x", "not found");
        var s = stats.ToSummary();
        Assert.Equal(5, s.Count);
        Assert.Equal(4868.59m, s.Total);
        Assert.Equal(4868.59m / 5, s.Average);
        Assert.Equal(7.05m, s.Minimum);
        Assert.Equal(2500.00m, s.Maximum);
        Assert.Equal(new[] { 2, 0, 1, 2, 0 }, s.Distribution.Select(b => b.Count));
        Assert.Equal(new[] { "x" }, s.Failed);
        Assert.Equal("USD", s.Currency);
        Assert.Null(stats.CurrencyWarning());
    }

    [Fact]
    public void Negative_balances_count_in_the_first_range_and_the_minimum()
    {
        var stats = new BalanceStatistics();
        stats.Add(Card("a", -12.5m));
        stats.Add(Card("b", 10m));
        var s = stats.ToSummary();
        Assert.Equal(-12.5m, s.Minimum);
        Assert.Equal(-2.5m, s.Total);
        Assert.Equal(2, s.Distribution[0].Count);
    }

    [Fact]
    public void Mixed_currencies_leave_currency_null_and_warn()
    {
        var stats = new BalanceStatistics();
        stats.Add(Card("a", 1m, "USD"));
        stats.Add(Card("b", 1m, "EUR"));
        var s = stats.ToSummary();
        Assert.Null(s.Currency);
        Assert.Equal(new[] { "EUR", "USD" }, s.Currencies);
        Assert.Contains("EUR, USD", stats.CurrencyWarning());
    }

    [Fact]
    public void Cards_are_kept_only_when_asked()
    {
        var counting = new BalanceStatistics();
        counting.Add(Card("a", 1m));
        Assert.Empty(counting.Cards);
        var keeping = new BalanceStatistics(keepCards: true);
        keeping.Add(Card("a", 1m));
        Assert.Single(keeping.Cards);
    }

    // ---- HTML report ------------------------------------------------------------------------------

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

    // ---- argument helpers -------------------------------------------------------------------------

    [Fact]
    public void A_bare_number_for_an_interval_means_seconds()
    {
        var t = new SecondsTransformationAttribute();
        Assert.Equal(TimeSpan.FromSeconds(30), t.Transform(null!, 30));
        Assert.Equal(TimeSpan.FromSeconds(0.5), t.Transform(null!, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(90), t.Transform(null!, "90"));
        Assert.Equal("00:05:00", t.Transform(null!, "00:05:00"));
        Assert.Equal(TimeSpan.FromMinutes(1), t.Transform(null!, TimeSpan.FromMinutes(1)));
    }

    [Theory]
    [InlineData("1468.87", "1468.87")]
    [InlineData(" 0.011 ", "0.011")]
    [InlineData("-3", "-3")]
    public void Money_text_is_parsed_invariantly(string text, string expected)
    {
        Assert.Equal(D(expected), new MoneyTransformationAttribute().Transform(null!, text));
    }

    [Theory]
    [InlineData("1,5")]
    [InlineData("1.468,87")]
    [InlineData("1,468.87")]
    [InlineData("$5")]
    [InlineData("")]
    public void Ambiguous_money_text_is_refused(string text)
    {
        var ex = Assert.Throws<System.Management.Automation.ArgumentTransformationMetadataException>(() => new MoneyTransformationAttribute().Transform(null!, text));
        Assert.Contains("'" + text + "'", ex.Message);
    }

    // ---- atomic write ------------------------------------------------------------------------------

    [Fact]
    public void Atomic_write_creates_refuses_to_overwrite_and_replaces_when_asked()
    {
        var dir = Directory.CreateTempSubdirectory("ahrvo-atomic-").FullName;
        try
        {
            var path = Path.Combine(dir, "r.html");
            AtomicFile.WriteAllText(path, "one", new UTF8Encoding(false), overwrite: false);
            Assert.Equal("one", File.ReadAllText(path));
            Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(path, "two", new UTF8Encoding(false), overwrite: false));
            Assert.Equal("one", File.ReadAllText(path));
            AtomicFile.WriteAllText(path, "three", new UTF8Encoding(false), overwrite: true);
            Assert.Equal("three", File.ReadAllText(path));
            // No temporary file is left behind, after a success or a refusal.
            Assert.Equal(new[] { "r.html" }, Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, true); }
    }
}
