using Ahrvo.PowerShell.Reports;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Reports;

/// <summary>Count, total, average, extremes, distribution and currencies of a set of balances.</summary>
public sealed class BalanceStatisticsTests
{
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
}
