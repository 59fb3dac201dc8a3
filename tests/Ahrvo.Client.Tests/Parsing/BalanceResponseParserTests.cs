using System.Text;
using Ahrvo.Client.Parsing;
using CsCheck;
using Xunit;

namespace Ahrvo.Client.Tests.Parsing;

public class BalanceResponseParserTests
{
    private static (bool ok, ParsedBody body, string? problem) Parse(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var ok = BalanceResponseParser.TryParse(bytes, bytes.Length, out var body, out var problem);
        return (ok, body, problem);
    }

    [Fact]
    public void Reads_the_spec_example()
    {
        var (ok, body, _) = Parse("""{"code":"SUCCESS","data":{"card_number":"5157********2686","available_balance":"1468.87"}}""");
        Assert.True(ok);
        Assert.Equal("SUCCESS", body.Code);
        Assert.True(body.HasData);
        Assert.Equal("5157********2686", body.CardNumber);
        Assert.Equal("1468.87", body.AvailableBalanceText);
    }

    [Fact]
    public void Takes_a_json_number_by_its_exact_text_not_via_double()
    {
        var (ok, body, _) = Parse("""{"code":"SUCCESS","data":{"available_balance":0.1000000000000000055511151231257827}}""");
        Assert.True(ok);
        Assert.Equal("0.1000000000000000055511151231257827", body.AvailableBalanceText);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"code\":\"SUCCESS\",\"data\":{\"available_balance\":\"1")]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    [InlineData("[1,2]")]
    [InlineData("\"SUCCESS\"")]
    public void Refuses_what_is_not_a_json_object(string text)
    {
        var (ok, _, problem) = Parse(text);
        Assert.False(ok);
        Assert.NotNull(problem);
    }

    [Fact]
    public void Refuses_invalid_utf8()
    {
        var bytes = new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}' };
        Assert.False(BalanceResponseParser.TryParse(bytes, bytes.Length, out _, out var problem));
        Assert.Contains("UTF-8", problem);
    }

    [Fact]
    public void Notes_a_null_balance()
    {
        var (ok, body, _) = Parse("""{"code":"SUCCESS","data":{"card_number":"x","available_balance":null}}""");
        Assert.True(ok);
        Assert.True(body.BalanceIsNull);
        Assert.Null(body.AvailableBalanceText);
    }

    [Fact]
    public void Never_throws_on_arbitrary_bytes()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            BalanceResponseParser.TryParse(bytes, bytes.Length, out _, out _);
        }, iter: 20_000);
    }

    private static (bool ok, ParsedBody body, string? problem) Parse(byte[] bytes)
    {
        var ok = BalanceResponseParser.TryParse(bytes, bytes.Length, out var body, out var problem);
        return (ok, body, problem);
    }

    [Fact]
    public void Ignores_a_utf8_byte_order_mark()
    {
        var (ok, body, _) = Parse([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("""{"code":"SUCCESS","data":{"available_balance":"4.50"}}""")]);
        Assert.True(ok);
        Assert.Equal("4.50", body.AvailableBalanceText);
    }

    [Theory]
    [InlineData("""{"code":"SUCCESS","data":{"available_balance":"1.00","available_balance":"999.00"}}""")]
    [InlineData("""{"code":"SUCCESS","code":"FAIL","data":{"available_balance":"1.00"}}""")]
    [InlineData("""{"code":"SUCCESS","data":{"available_balance":"1.00"},"data":{"available_balance":"2.00"}}""")]
    public void Refuses_duplicate_keys_rather_than_pick_one(string json)
    {
        var (ok, _, problem) = Parse(Encoding.UTF8.GetBytes(json));
        Assert.False(ok);
        Assert.Contains("more than once", problem);
    }

    [Fact]
    public void A_successful_parse_of_arbitrary_json_shaped_bytes_never_invents_a_balance()
    {
        // Bodies built from fragments of real answers: whatever the mix, a balance text is only ever
        // one that literally appears in the body.
        var fragments = Gen.OneOfConst("{", "}", "\"code\":", "\"SUCCESS\"", "\"data\":", "\"available_balance\":", "\"12.50\"", "12.50", "null", ",", "[", "]", "\"x\"", "\uFEFF");
        fragments.Array[0, 16].Select(a => string.Concat(a)).Sample(text =>
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            if (!BalanceResponseParser.TryParse(bytes, bytes.Length, out var body, out _)) return true;
            return body.AvailableBalanceText == null || text.Contains(body.AvailableBalanceText);
        }, iter: 20_000);
    }
}
