using System.Collections;
using Ahrvo.PowerShell.Completion;
using Xunit;

namespace Ahrvo.PowerShell.Tests;

// The registry is process-wide; tests in this assembly run one at a time (AssemblyInfo.cs).
public sealed class CardIdCompletionTests : IDisposable
{
    public CardIdCompletionTests() => SeenCardIds.Reset();

    public void Dispose() => SeenCardIds.Reset();

    [Fact]
    public void Matching_is_a_case_insensitive_prefix_match_sorted()
    {
        foreach (var id in new[] { "card3", "CARD1", "card2", "other" }) SeenCardIds.Add(id);

        Assert.Equal(new[] { "CARD1", "card2", "card3" }, SeenCardIds.Matching("Card"));
        Assert.Equal(new[] { "CARD1", "card2", "card3", "other" }, SeenCardIds.Matching(""));
        Assert.Empty(SeenCardIds.Matching("x"));
    }

    [Fact]
    public void Keeps_only_the_most_recent_ids_and_a_repeat_counts_as_recent()
    {
        SeenCardIds.Reset(capacity: 3);
        SeenCardIds.Add("a");
        SeenCardIds.Add("b");
        SeenCardIds.Add("c");
        SeenCardIds.Add("a"); // seen again: now the newest
        SeenCardIds.Add("d"); // evicts b, the oldest

        Assert.Equal(3, SeenCardIds.Count);
        Assert.Equal(new[] { "a", "c", "d" }, SeenCardIds.Matching(""));
    }

    [Fact]
    public void Default_capacity_bounds_the_registry()
    {
        for (int i = 0; i < SeenCardIds.DefaultCapacity + 500; i++) SeenCardIds.Add("card" + i);

        Assert.Equal(SeenCardIds.DefaultCapacity, SeenCardIds.Count);
        Assert.Empty(SeenCardIds.Matching("card0")); // the oldest went first
        Assert.Single(SeenCardIds.Matching("card10499"));
    }

    [Fact]
    public void Concurrent_adds_and_reads_stay_consistent()
    {
        SeenCardIds.Reset(capacity: 1000);
        Parallel.For(0, 8, worker =>
        {
            for (int i = 0; i < 5000; i++)
            {
                SeenCardIds.Add($"card{worker}-{i}");
                if (i % 100 == 0) _ = SeenCardIds.Matching("card");
            }
        });

        Assert.Equal(1000, SeenCardIds.Count);
        Assert.Equal(1000, SeenCardIds.Matching("card").Count);
    }

    [Fact]
    public void Ignores_null_and_empty_ids()
    {
        SeenCardIds.Add(null);
        SeenCardIds.Add("");
        Assert.Equal(0, SeenCardIds.Count);
    }

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
