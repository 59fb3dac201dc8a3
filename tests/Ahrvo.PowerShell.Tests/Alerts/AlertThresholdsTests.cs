using System.Globalization;
using Ahrvo.PowerShell.Alerts;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Alerts;

/// <summary>Levels from Watch-AhrvoCardBalance's thresholds: "at or below" each, omitted ones, disordered ones.</summary>
public sealed class AlertThresholdsTests
{
    private static decimal D(string s) => decimal.Parse(s, CultureInfo.InvariantCulture);

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
}
