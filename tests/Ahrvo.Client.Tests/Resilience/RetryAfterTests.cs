using System.Net.Http.Headers;
using Ahrvo.Client.Resilience;
using Xunit;

namespace Ahrvo.Client.Tests.Resilience;

/// <summary>Retry-After as delta seconds or an HTTP date.</summary>
public class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private static RetryConditionHeaderValue H(string v) => RetryConditionHeaderValue.Parse(v);

    [Theory]
    [InlineData("1", 1)]
    [InlineData("120", 120)]
    [InlineData(" 3 ", 3)]
    public void Reads_retry_after_seconds(string value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.Parse(H(value), Now));

    [Fact]
    public void Reads_retry_after_http_dates_against_the_time_given()
    {
        var now = Now;
        Assert.Equal(TimeSpan.FromSeconds(30), RetryAfter.Parse(H(now.AddSeconds(30).ToString("r")), now));
        Assert.Equal(TimeSpan.Zero, RetryAfter.Parse(H(now.AddSeconds(-30).ToString("r")), now));
        Assert.Null(RetryAfter.Parse(null, now));
    }
}
