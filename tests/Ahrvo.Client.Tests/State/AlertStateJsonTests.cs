using System.Text;
using Ahrvo.Client.State;
using CsCheck;
using Xunit;

namespace Ahrvo.Client.Tests.State;

/// <summary>
/// A state file that was edited by hand or damaged is refused with <see cref="InvalidDataException"/>
/// saying what is wrong (the module turns it into Ahrvo.StateFileInvalid), never with another
/// exception: System.Text.Json's GetString() and JsonProperty.Name throw InvalidOperationException
/// on a lone surrogate escape, which JsonDocument.Parse lets through.
/// </summary>
public sealed class AlertStateJsonTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 31, 9, 0, 0, TimeSpan.Zero);

    private static string ValidFile() => Encoding.UTF8.GetString(AlertStateJson.Write(new[]
    {
        new AlertStateEntry("card201907021723076245", "Low", 212.50m, "USD", T0, T0.AddHours(-1), T0.AddMinutes(-30), 3),
        new AlertStateEntry("card201907021723076246", "Critical", -0.01m, "EUR", T0, T0, null, 3),
    }, T0, 3));

    [Theory]
    [InlineData("\"card201907021723076245\":", "\"card\\ud8002019\":", "a card id")]
    [InlineData("\"card201907021723076245\":", "\"\\udc00\":", "a card id")]
    [InlineData("\"level\": \"Low\"", "\"level\": \"\\ud800\"", "\"level\"")]
    [InlineData("\"level\": \"Low\"", "\"le\\ud800vel\": \"Low\"", "a name or a value")] // found while looking \"level\" up
    [InlineData("\"currency\": \"USD\"", "\"currency\": \"U\\uDFFFSD\"", "\"currency\"")]
    [InlineData("\"balance\": \"212.50\"", "\"balance\": \"21\\ud8002.50\"", "\"balance\"")]
    [InlineData("\"observedAt\": \"2026-01-31T09:00:00+00:00\"", "\"observedAt\": \"2026-01-31T09:00:00\\ud800\"", "\"observedAt\"")]
    [InlineData("\"levelSince\": \"2026-01-31T08:00:00+00:00\"", "\"levelSince\": \"\\udbff2026-01-31T08:00:00+00:00\"", "\"levelSince\"")]
    public void A_lone_surrogate_escape_anywhere_is_the_files_fault_said_as_such(string from, string to, string names)
    {
        var valid = ValidFile();
        Assert.Contains(from, valid);
        var broken = valid.Replace(from, to);
        var ex = Assert.Throws<InvalidDataException>(() => AlertStateJson.Read(Encoding.UTF8.GetBytes(broken)));
        Assert.Contains(names, ex.Message);
        Assert.Contains("not text", ex.Message);
    }

    // What a hand edit, a bad merge or a damaged disk does to the file.
    private static readonly Gen<string> Insert = Gen.OneOfConst(
        "\\ud800", "\\udc00", "\\uDBFF\\u0041", "\\u", "\\x41", "\\", "\"", "{", "}", ",", ":", "null", "1e999", "-", "\u0000", "\uFEFF", "é");

    private static readonly Gen<(byte[] bytes, string what)> Damaged =
        from shape in Gen.Int[0, 3]
        from at in Gen.Double[0, 1]
        from insert in Insert
        from length in Gen.Int[0, 12]
        from b in Gen.Byte
        select Damage(shape, at, insert, length, b);

    private static (byte[], string) Damage(int shape, double at, string insert, int length, byte b)
    {
        var text = ValidFile();
        var bytes = Encoding.UTF8.GetBytes(text);
        int i = (int)(at * text.Length);
        return shape switch
        {
            0 => (Encoding.UTF8.GetBytes(text.Insert(i, insert)), $"'{insert}' inserted at {i}"),
            1 => (Encoding.UTF8.GetBytes(text.Remove(i, Math.Min(length, text.Length - i))), $"{length} characters removed at {i}"),
            2 => (bytes.Take(i).ToArray(), $"cut at {i}"),
            _ => (bytes.Select((x, k) => k == Math.Min(i, bytes.Length - 1) ? b : x).ToArray(), $"byte {i} set to {b}"),
        };
    }

    [Fact]
    public void Any_damage_to_a_state_file_is_read_or_refused_as_invalid_data_never_another_exception()
    {
        int refused = 0, read = 0;
        Damaged.Sample(d =>
        {
            try
            {
                AlertStateJson.Read(d.bytes, out _);
                read++;
            }
            catch (InvalidDataException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                refused++;
            }
        }, iter: 3000, print: d => d.what);
        // Most damage is refused, and some (an é in a card id, a byte in white space) still reads.
        Assert.True(refused > 100, $"{refused} refused, {read} read");
    }
}
