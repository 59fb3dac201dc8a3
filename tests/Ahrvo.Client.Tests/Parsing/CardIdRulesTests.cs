using System.Web;
using Ahrvo.Client.Parsing;
using CsCheck;
using Xunit;

namespace Ahrvo.Client.Tests.Parsing;

public class CardIdRulesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t")]
    [InlineData("card\n1")]
    [InlineData("card\u00001")]
    public void Refuses_unusable_ids(string? id) => Assert.NotNull(CardIdRules.Check(id));

    [Fact]
    public void Refuses_lone_surrogates_which_encoding_would_turn_into_another_id()
    {
        // Built here, not in [InlineData]: xunit's serialization of test data replaces lone surrogates.
        foreach (var id in new[] { "card" + '\uD800', '\uDC00' + "card", "ca" + '\uDC00' + '\uD800' + "rd" })
            Assert.NotNull(CardIdRules.Check(id));
        Assert.Null(CardIdRules.Check("card-" + char.ConvertFromUtf32(0x1F4B3))); // a proper pair is fine
    }

    [Theory]
    [InlineData(" card201907021723076245")]
    [InlineData("card201907021723076245 ")]
    [InlineData("\tcard201907021723076245\r")]
    [InlineData("\u00A0card201907021723076245")]
    [InlineData("\uFEFFcard201907021723076245")]
    [InlineData("card201907021723076245 \u200B ")]
    public void Refuses_ids_with_white_space_around_them_and_Trim_removes_it(string id)
    {
        // Never sent as given: the caller trims (and says so), the client refuses what was not trimmed.
        Assert.NotNull(CardIdRules.Check(id));
        Assert.Equal("card201907021723076245", CardIdRules.Trim(id));
        Assert.Null(CardIdRules.Check(CardIdRules.Trim(id)));
    }

    [Fact]
    public void Trim_keeps_white_space_inside_and_is_idempotent()
    {
        Assert.Equal("a b", CardIdRules.Trim(" a b\t"));
        Gen.String.Sample(s => CardIdRules.Trim(CardIdRules.Trim(s)) == CardIdRules.Trim(s)
            && (CardIdRules.Trim(s).Length == 0 || CardIdRules.Check(CardIdRules.Trim(s)) != "The card id has white space around it."));
    }

    [Fact]
    public void Refuses_over_long_ids() => Assert.NotNull(CardIdRules.Check(new string('a', CardIdRules.MaxLength + 1)));

    [Theory]
    [InlineData("card201907021723076245")]
    [InlineData("card1&card_id=card2")]
    [InlineData("a/b?c#d%e+f g")]
    [InlineData("kärtchen-ü-日本")]
    public void Encodes_any_accepted_id_as_one_query_value(string id)
    {
        Assert.Null(CardIdRules.Check(id));
        var relative = CardIdRules.BalancePathAndQuery(id);
        var uri = new Uri(new Uri("https://api.ahrvo.network/"), relative);
        Assert.Equal("/card/issuance/api/issuing/card/v2/normal/balance", uri.AbsolutePath);
        var query = HttpUtility.ParseQueryString(uri.Query);
        Assert.Single(query.AllKeys);
        Assert.Equal(id, query["card_id"]);
        Assert.DoesNotContain('#', uri.AbsoluteUri.Replace("%23", ""));
    }

    [Fact]
    public void Any_accepted_id_of_arbitrary_utf16_is_sent_exactly_including_surrogates()
    {
        // Any UTF-16 code unit, and, more often than chance would give them, the reserved URL
        // characters, non-ASCII letters and lone or paired surrogates.
        var chars = Gen.OneOf(Gen.Char, Gen.Char['a', 'z'], Gen.OneOfConst('&', '/', '?', '#', '%', '+', '=', ' ', ';'), Gen.Char['\u00a0', '\u2fff'],
            Gen.Char['\ud800', '\udfff']);
        chars.Array[1, 20].Select(a => new string(a)).Sample(id =>
        {
            if (CardIdRules.Check(id) != null) return true;
            var uri = new Uri(new Uri("https://api.ahrvo.network/"), CardIdRules.BalancePathAndQuery(id));
            var query = HttpUtility.ParseQueryString(uri.Query);
            return query.AllKeys.Length == 1 && query["card_id"] == id && uri.Fragment == string.Empty;
        }, iter: 20_000);
    }
}
