using System.Globalization;
using Ahrvo.PowerShell.Reports;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Reports;

/// <summary>The five balance ranges of the distribution and their boundaries.</summary>
public sealed class BalanceBucketsTests
{
    private static decimal D(string s) => decimal.Parse(s, CultureInfo.InvariantCulture);

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
}
