using Ahrvo.Client.Parsing;
using CsCheck;
using Xunit;

namespace Ahrvo.Client.Tests.Parsing;

public class CardNumberMaskerTests
{
    [Theory]
    [InlineData("5157********2686", "5157********2686")]
    [InlineData("5157****8888", "5157****8888")]
    [InlineData("5157123456782686", "515712******2686")]
    [InlineData("4111 1111 1111 1111", "4111 11** **** 1111")]
    [InlineData("4111111111111", "411111***1111")]
    [InlineData("4111111111111111111", "411111*********1111")]
    [InlineData(null, null)]
    [InlineData("", "")]
    public void Masks_full_numbers_and_leaves_masked_ones(string? input, string? expected) =>
        Assert.Equal(expected, CardNumberMasker.Mask(input));

    [Fact]
    public void Never_shows_more_than_ten_digits()
    {
        Gen.String["0123456789 *-"].Sample(s =>
        {
            var masked = CardNumberMasker.Mask(s)!;
            return masked.Count(char.IsDigit) <= 10 && masked.Length == s.Length;
        }, iter: 20_000);
    }
}
