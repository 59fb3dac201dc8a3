using Ahrvo.PowerShell.Completion;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Completion;

/// <summary>The registry of card ids seen, behind -CardId tab completion.</summary>
// The registry is process-wide; tests in this assembly run one at a time (AssemblyInfo.cs).
public sealed class SeenCardIdsTests : IDisposable
{
    public SeenCardIdsTests() => SeenCardIds.Reset();

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
}
