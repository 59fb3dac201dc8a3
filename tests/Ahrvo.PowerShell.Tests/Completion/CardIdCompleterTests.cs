using System.Collections;
using Ahrvo.PowerShell.Completion;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Completion;

/// <summary>-CardId tab completion from the ids seen: the quote style typed is kept, ids that would not parse bare are quoted.</summary>
// The registry is process-wide; tests in this assembly run one at a time (AssemblyInfo.cs).
public sealed class CardIdCompleterTests : IDisposable
{
    public CardIdCompleterTests() => SeenCardIds.Reset();

    public void Dispose() => SeenCardIds.Reset();

    [Theory]
    [InlineData("card2", "card201907021723076245")]
    [InlineData("'card2", "'card201907021723076245'")]
    [InlineData("\"card2", "\"card201907021723076245\"")]
    public void Completer_keeps_the_quote_style_typed(string word, string expected)
    {
        SeenCardIds.Add("card201907021723076245");
        var results = new CardIdCompleter().CompleteArgument("Get-AhrvoCardBalance", "CardId", word, null!, new Hashtable()).ToList();

        var only = Assert.Single(results);
        Assert.Equal(expected, only.CompletionText);
        Assert.Equal("card201907021723076245", only.ListItemText);
    }

    [Fact]
    public void Completer_quotes_ids_that_would_not_parse_bare()
    {
        SeenCardIds.Add("card with space");
        SeenCardIds.Add("card'quote");
        var texts = new CardIdCompleter().CompleteArgument("Get-AhrvoCardBalance", "CardId", "card", null!, new Hashtable())
            .Select(r => r.CompletionText).ToList();

        Assert.Equal(new[] { "'card with space'", "'card''quote'" }, texts);
    }
}
