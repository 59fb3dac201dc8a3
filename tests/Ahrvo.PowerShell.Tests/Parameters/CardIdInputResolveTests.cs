using System.Collections;
using System.Management.Automation;
using Ahrvo.PowerShell.Parameters;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Parameters;

/// <summary>CardIdInput.Resolve over the whole space of header spellings (exhaustive, no runspace needed).</summary>
public sealed class CardIdInputResolveTests
{
    private const string Id = "card201907021723076245";

    /// <summary>Every casing of "card" and "id", every separator between them, blanks around or not.</summary>
    private static IEnumerable<string> Spellings()
    {
        var separators = new[] { "", " ", "_", "-", ".", "  ", " _ " };
        var around = new[] { ("", ""), (" ", ""), ("", " "), ("\uFEFF", "") };
        for (int mask = 0; mask < 64; mask++)
        {
            var chars = "cardid".Select((c, i) => (mask >> i & 1) == 1 ? char.ToUpperInvariant(c) : c).ToArray();
            var card = new string(chars, 0, 4);
            var id = new string(chars, 4, 2);
            foreach (var sep in separators)
                foreach (var (before, after) in around)
                    yield return before + card + sep + id + after;
            foreach (var (before, after) in around) yield return before + id + after; // "Id" alone
        }
    }

    [Fact]
    public void Every_spelling_of_card_id_is_recognised_in_objects_and_hashtables()
    {
        int n = 0;
        foreach (var name in Spellings())
        {
            var row = new PSObject();
            row.Properties.Add(new PSNoteProperty(name, " " + Id + " "));
            row.Properties.Add(new PSNoteProperty("owner", "alice"));
            foreach (var input in new object[] { row, new Hashtable { [name] = Id, ["owner"] = "alice" } })
            {
                var r = CardIdInput.Resolve(input, null, "Get-AhrvoCardBalance");
                Assert.True(r.Refusal == null, $"'{name}' ({input.GetType().Name}): {r.Refusal?.Exception.Message}");
                Assert.Equal(new[] { Id }, r.Ids);
                n++;
            }
        }
        Assert.True(n > 1000, n + " spellings");
    }

    [Theory]
    [InlineData("card")]         // could be a card number: never guessed, -CardIdProperty card says so
    [InlineData("card_number")]
    [InlineData("CardNumber")]
    [InlineData("cardidentifier")]
    [InlineData("owner")]
    [InlineData("idx")]
    [InlineData("card_id;owner")]
    public void Other_names_are_refused_with_the_columns_and_a_way_to_map_them(string name)
    {
        var row = new PSObject();
        row.Properties.Add(new PSNoteProperty(name, Id));
        var r = CardIdInput.Resolve(row, null, "Get-AhrvoCardBalance");
        Assert.Empty(r.Ids);
        Assert.NotNull(r.Refusal);
        Assert.Equal("Ahrvo.NoCardId", r.Refusal!.FullyQualifiedErrorId);
        Assert.Contains("'" + name + "'", r.Refusal.Exception.Message);
        Assert.Contains(name.Contains(';') ? "-Delimiter" : "-CardIdProperty '" + name + "'", r.Refusal.ErrorDetails.RecommendedAction);
        Assert.DoesNotContain(Id, r.Refusal.Exception.Message); // names columns, never values
        // And the named column is then read.
        var mapped = CardIdInput.Resolve(row, name, "Get-AhrvoCardBalance");
        Assert.Equal(new[] { Id }, mapped.Ids);
    }

    [Fact]
    public void Two_id_columns_with_different_values_are_refused_and_equal_ones_are_fine()
    {
        var row = new PSObject();
        row.Properties.Add(new PSNoteProperty("card_id", Id));
        row.Properties.Add(new PSNoteProperty("CardId", "card2"));
        Assert.NotNull(CardIdInput.Resolve(row, null, "x").Refusal);
        var same = new Hashtable { ["card_id"] = Id, ["Card ID"] = " " + Id };
        Assert.Equal(new[] { Id }, CardIdInput.Resolve(same, null, "x").Ids);
        // A card id column wins over a plain Id (a row number, say).
        var both = new Hashtable { ["Id"] = "7", ["card_id"] = Id };
        Assert.Equal(new[] { Id }, CardIdInput.Resolve(both, null, "x").Ids);
    }

    [Theory]
    [InlineData(42)]
    [InlineData(4.2)]
    [InlineData(true)]
    public void Values_that_are_not_strings_are_never_turned_into_ids(object value)
    {
        Assert.NotNull(CardIdInput.Resolve(value, null, "x").Refusal);
        Assert.NotNull(CardIdInput.Resolve(PSObject.AsPSObject(value), null, "x").Refusal);
    }
}
