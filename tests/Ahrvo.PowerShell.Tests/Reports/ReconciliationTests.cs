using System.Globalization;
using Ahrvo.PowerShell.Reports;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Reports;

/// <summary>Compare-AhrvoCardBalance's rule: the tolerance, the sign of the difference, a failed card.</summary>
public sealed class ReconciliationTests
{
    private static decimal D(string s) => decimal.Parse(s, CultureInfo.InvariantCulture);

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
}
