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
    [Fact]
    public void A_recheck_is_Settled_exactly_when_the_second_reading_is_within_the_tolerance_and_keeps_the_first()
    {
        // A sweep around the tolerance's edges, both signs, several tolerances.
        var expected = 100.00m;
        var steps = new[] { -1m, -0.011m, -0.0101m, -0.01m, -0.005m, 0m, 0.005m, 0.01m, 0.0101m, 0.011m, 1m, 250m };
        int cases = 0;
        foreach (var tolerance in new[] { 0m, 0.005m, 0.01m, 0.5m })
            foreach (var firstOff in steps)
                foreach (var secondOff in steps)
                {
                    var first = Reconciliation.Compare("c", "5157********0000", expected, expected + firstOff, tolerance);
                    if (first.Status != ReconciliationStatus.Discrepancy)
                    {
                        Assert.Throws<ArgumentException>(() => Reconciliation.Recheck(first, null, expected + secondOff, tolerance));
                        continue;
                    }
                    var r = Reconciliation.Recheck(first, null, expected + secondOff, tolerance);
                    cases++;
                    Assert.Equal(Math.Abs(secondOff) <= tolerance ? ReconciliationStatus.Settled : ReconciliationStatus.Discrepancy, r.Status);
                    Assert.Equal(expected + firstOff, r.FirstBalance);
                    Assert.Equal(expected + secondOff, r.ActualBalance);
                    Assert.Equal(secondOff, r.Difference);
                    Assert.Equal(expected, r.ExpectedBalance);
                    Assert.Equal("5157********0000", r.CardNumber); // the first reading's, when the second has none
                }
        Assert.True(cases > 100, cases + " cases");
    }

    [Fact]
    public void FirstBalance_is_the_only_reading_when_there_was_no_recheck_and_null_when_Failed()
    {
        Assert.Equal(42.5m, Reconciliation.Compare("c", null, 40m, 42.5m, 0.01m).FirstBalance);
        Assert.Null(Reconciliation.Failed("c", 10m).FirstBalance);
        Assert.Throws<ArgumentException>(() => Reconciliation.Recheck(Reconciliation.Failed("c", 10m), null, 10m, 0.01m));
    }
}
