using Ahrvo.Client.Resilience;
using Xunit;

namespace Ahrvo.Client.Tests.Resilience;

public class RetryAfterTests
{
    [Theory]
    [InlineData("1", 1)]
    [InlineData("120", 120)]
    [InlineData(" 3 ", 3)]
    public void Reads_retry_after_seconds(string value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.Parse(System.Net.Http.Headers.RetryConditionHeaderValue.Parse(value), DateTimeOffset.UtcNow));

    [Fact]
    public void Reads_retry_after_http_dates()
    {
        var now = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
        static System.Net.Http.Headers.RetryConditionHeaderValue H(string v) => System.Net.Http.Headers.RetryConditionHeaderValue.Parse(v);
        Assert.Equal(TimeSpan.FromSeconds(30), RetryAfter.Parse(H(now.AddSeconds(30).ToString("r")), now));
        Assert.Equal(TimeSpan.Zero, RetryAfter.Parse(H(now.AddSeconds(-30).ToString("r")), now));
        Assert.Null(RetryAfter.Parse(null, now));
    }
}
