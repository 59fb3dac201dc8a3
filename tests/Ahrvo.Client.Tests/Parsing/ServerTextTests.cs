using System.Text.RegularExpressions;
using Ahrvo.Client.Parsing;
using CsCheck;
using Xunit;

namespace Ahrvo.Client.Tests.Parsing;

/// <summary>
/// MaskDigitRuns skips its regex when no run of 13 characters from [0-9 -] exists (it runs on every
/// answer). The shortcut must never change the result: compared here with the regex applied always.
/// </summary>
public class ServerTextTests
{
    private static string RegexAlways(string text) =>
        Regex.Replace(text, "[0-9][0-9 -]{11,}[0-9]", m => CardNumberMasker.Mask(m.Value) ?? m.Value);

    [Fact]
    public void Masking_shortcut_gives_the_regex_result_for_any_mix_of_digits_spaces_dashes_and_letters() =>
        Gen.OneOf(Gen.Char['0', '9'], Gen.OneOfConst(' ', '-', '*', 'x', '\n')).Array[0, 40]
            .Select(a => new string(a))
            .Sample(text => Assert.Equal(RegexAlways(text), ServerText.MaskDigitRuns(text)), iter: 5000);
}
