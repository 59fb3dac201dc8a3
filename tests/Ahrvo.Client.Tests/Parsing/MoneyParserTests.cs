using System.Globalization;
using Ahrvo.Client.Parsing;
using CsCheck;
using Xunit;

namespace Ahrvo.Client.Tests.Parsing;

public class MoneyParserTests
{
    [Theory]
    [InlineData("1468.87", "1468.87")]
    [InlineData("0", "0")]
    [InlineData("0.00", "0.00")]
    [InlineData("12.5", "12.5")]
    [InlineData(" 12.50 ", "12.50")]
    [InlineData("-3.25", "-3.25")]
    [InlineData("+7", "7")]
    [InlineData("0.001", "0.001")]
    [InlineData("1000000000000000", "1000000000000000")]
    [InlineData("-1000000000000000.00", "-1000000000000000.00")]
    public void Accepts_plain_decimals_exactly(string text, string expected)
    {
        Assert.True(MoneyParser.TryParse(text, out var value, out var reason), reason);
        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), value);
        // Exactly, digits included: 12.50 keeps its scale, nothing is rounded.
        Assert.Equal(expected, value.ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("1,234.50")]
    [InlineData("1.234,50")]
    [InlineData("12,5")]
    [InlineData("1e3")]
    [InlineData("1E3")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("0x10")]
    [InlineData("$12.00")]
    [InlineData("12.00 USD")]
    [InlineData("1 000")]
    [InlineData("٣.٥")] // Arabic-Indic digits
    [InlineData("79228162514264337593543950336")] // decimal.MaxValue + 1
    [InlineData("79228162514264337593543950335")] // decimal.MaxValue: sums of two would overflow
    [InlineData("1000000000000000.01")] // just beyond ±10^15
    [InlineData("-1000000000000001")]
    [InlineData("1.00000000000000000000000000001")] // more precision than decimal holds
    public void Refuses_anything_else_with_a_reason(string? text)
    {
        Assert.False(MoneyParser.TryParse(text, out var value, out var reason));
        Assert.Equal(0m, value);
        Assert.False(string.IsNullOrWhiteSpace(reason));
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    [InlineData("fr-FR")]
    [InlineData("ar-SA")]
    public void Same_value_under_every_culture(string culture)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo(culture);
            Assert.True(MoneyParser.TryParse("12.5", out var v, out _));
            Assert.Equal(12.5m, v);
            Assert.True(MoneyParser.TryParse("1468.87", out v, out _));
            Assert.Equal(1468.87m, v);
        }
        finally
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = saved;
        }
    }

    [Fact]
    public void Round_trips_every_decimal_written_invariantly_and_refuses_those_beyond_the_range()
    {
        Gen.Decimal.Sample(d =>
        {
            var text = d.ToString(CultureInfo.InvariantCulture);
            bool inRange = Math.Abs(d) <= MoneyParser.MaxMagnitude;
            return MoneyParser.TryParse(text, out var back, out _) == inRange && (!inRange || back == d);
        }, iter: 20_000);
    }

    [Fact]
    public void Never_accepts_text_containing_a_separator_or_exponent()
    {
        Gen.String[" 0123456789.,eE+-"].Sample(s =>
        {
            if (!MoneyParser.TryParse(s, out var v, out _)) return true;
            var t = s.Trim();
            // Whatever is accepted is digits with at most one point, and parses to the same value invariantly.
            return !t.Contains(',') && !t.Contains('e') && !t.Contains('E') && !t.Contains(' ')
                && v == decimal.Parse(t, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        }, iter: 20_000);
    }
}
