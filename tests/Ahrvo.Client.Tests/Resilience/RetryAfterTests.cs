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

    [Theory]
    [InlineData(300)]     // this machine's clock 5 min ahead of the server's
    [InlineData(-300)]    // 5 min behind
    [InlineData(-3600 * 9)]
    public void A_retry_after_date_is_read_against_the_servers_Date_when_the_clocks_differ(int skewSeconds)
    {
        var served = Now;
        var headers = new HttpResponseMessage().Headers;
        headers.Date = served;
        headers.RetryAfter = new RetryConditionHeaderValue(served.AddSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), RetryAfter.Parse(headers, served.AddSeconds(skewSeconds), out var unread));
        Assert.Null(unread);
    }

    [Fact]
    public void A_retry_after_date_is_read_against_this_machines_finer_clock_when_the_clocks_agree()
    {
        // The Date header has whole seconds: 0.6 s into the server's second, 3 s from the Date is 2.4 s from now.
        var headers = new HttpResponseMessage().Headers;
        headers.Date = Now;
        headers.RetryAfter = new RetryConditionHeaderValue(Now.AddSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(2.4), RetryAfter.Parse(headers, Now.AddSeconds(0.6), out _));
        // No Date header: this machine's clock, as before.
        headers.Date = null;
        Assert.Equal(TimeSpan.Zero, RetryAfter.Parse(headers, Now.AddSeconds(300), out _));
    }

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData("0.5", 0.5)]
    [InlineData(" 2.25 ", 2.25)]
    [InlineData(".5", 0.5)]
    [InlineData("0.0", 0)]
    public void Reads_decimal_seconds_that_the_typed_parser_drops(string value, double seconds)
    {
        var headers = new HttpResponseMessage().Headers;
        headers.TryAddWithoutValidation("Retry-After", value);
        Assert.Null(headers.RetryAfter); // .NET's own parser: whole seconds or a date only
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.Parse(headers, Now, out var unread));
        Assert.Null(unread);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-0.5")]
    [InlineData("+1.5")]
    [InlineData("1,5")]  // another culture's decimal comma: not guessed at
    [InlineData("1e3")]
    [InlineData("1.5.2")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("soon")]
    [InlineData("")]
    public void Anything_else_is_not_read_and_is_given_back_as_unread(string value)
    {
        var headers = new HttpResponseMessage().Headers;
        headers.TryAddWithoutValidation("Retry-After", value);
        Assert.Null(RetryAfter.Parse(headers, Now, out var unread));
        Assert.Equal(value, unread);
    }

    [Fact]
    public void A_huge_decimal_is_read_without_overflow_and_typed_values_come_first()
    {
        Assert.True(RetryAfter.TryParseSeconds("99999999999999999999.5", out var huge));
        Assert.Equal(TimeSpan.FromSeconds(int.MaxValue), huge);
        var headers = new HttpResponseMessage().Headers;
        headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
        Assert.Equal(TimeSpan.FromSeconds(7), RetryAfter.Parse(headers, Now, out var unread));
        Assert.Null(unread);
        Assert.Null(RetryAfter.Parse(new HttpResponseMessage().Headers, Now, out unread));
        Assert.Null(unread);
    }
}
