using System.Text.RegularExpressions;
using Ahrvo.Client.Auth;
using Xunit;

namespace Ahrvo.Client.Tests;

/// <summary>
/// Issue 18: remedy text lives in one place. Every kind of error has exactly one entry in
/// <see cref="Remedies"/>' table, and the error's own RecommendedAction is that entry in this
/// library's terms, which name no PowerShell parameter, cmdlet or variable.
/// </summary>
public sealed class RemediesTests
{
    private static readonly Regex PowerShellWording = new(@"(?<![\w-])-[A-Z][A-Za-z]+\b|\b[A-Z][a-z]+-Ahrvo\w*|AHRVO_", RegexOptions.Compiled);

    [Fact]
    public void Every_kind_has_exactly_one_remedy_in_the_table()
    {
        var kinds = Remedies.Table.Select(e => e.Key).ToList();
        foreach (var kind in Enum.GetValues<AhrvoErrorKind>())
            Assert.True(kinds.Count(k => k == kind) == 1, $"{kind} has {kinds.Count(k => k == kind)} entries in Remedies.Table");
        Assert.Equal(Enum.GetValues<AhrvoErrorKind>().Length, kinds.Count); // nothing else either
    }

    /// <summary>Errors of every kind with every combination of the facts a remedy is worded from.</summary>
    public static IEnumerable<AhrvoError> Errors()
    {
        var statuses = new int?[] { null, 302, 400, 401, 403, 404, 418, 429, 500, 503 };
        var causes = new Exception?[] { null, new TokenProviderException("failed"), new TokenProviderException("hung", didNotAnswer: true), new HttpRequestException("refused") };
        var api = new (string?, string?)[] { (null, null), ("INVALID_CARD_ID", "card_id is missing or invalid"), ("NOT_DEDICATED_FUNDS_CARD", "Shared Funds card") };
        foreach (var kind in Enum.GetValues<AhrvoErrorKind>())
            foreach (var status in statuses)
                foreach (var limit in Enum.GetValues<AhrvoLimit>())
                    foreach (var throttled in new[] { false, true })
                        foreach (var cause in causes)
                            foreach (var (code, message) in api)
                                yield return new AhrvoError(kind, "Card 'card1' failed.", status, code, message, cause)
                                {
                                    CardId = "card1",
                                    LimitReached = limit,
                                    Throttled = throttled,
                                    RetryAfter = throttled ? TimeSpan.FromSeconds(60) : null,
                                };
    }

    [Fact]
    public void The_errors_remedy_is_the_tables_in_this_librarys_terms_and_names_nothing_of_PowerShell()
    {
        int n = 0;
        foreach (var e in Errors())
        {
            var action = e.RecommendedAction;
            Assert.Equal(Remedies.For(e, RemedyTerms.Client), action);
            Assert.False(string.IsNullOrWhiteSpace(action));
            Assert.DoesNotMatch(PowerShellWording, action);
            Assert.EndsWith(".", action); // a sentence, so a host can put it after the message
            n++;
        }
        Assert.True(n > 1000);
    }

    [Fact]
    public void The_remedy_follows_the_facts()
    {
        AhrvoError E(AhrvoErrorKind kind, int? status = null, AhrvoLimit limit = AhrvoLimit.None, bool throttled = false, Exception? cause = null) =>
            new(kind, "m", status, exception: cause) { LimitReached = limit, Throttled = throttled, RetryAfter = throttled ? TimeSpan.FromSeconds(7.5) : null };
        Assert.Contains("(the server asked to wait 7.5 s)", E(AhrvoErrorKind.ServiceUnavailable, 429, AhrvoLimit.TotalTimeout, throttled: true).RecommendedAction);
        Assert.Contains("MaxRequestsPerSecond", E(AhrvoErrorKind.ServiceUnavailable, 429, AhrvoLimit.TotalTimeout, throttled: true).RecommendedAction);
        Assert.Contains("raise MaxRetries.", E(AhrvoErrorKind.ServiceUnavailable, 503, AhrvoLimit.MaxRetries).RecommendedAction);
        Assert.Contains("Proxy", E(AhrvoErrorKind.ServiceUnavailable).RecommendedAction);
        Assert.Contains("raise AttemptTimeout (or MaxRetries)", E(AhrvoErrorKind.Timeout, limit: AhrvoLimit.AttemptTimeout).RecommendedAction);
        Assert.Contains("TokenProviderTimeout", E(AhrvoErrorKind.Unauthorized, 401, cause: new TokenProviderException("hung", didNotAnswer: true)).RecommendedAction);
        Assert.Contains("a fixed AccessToken", E(AhrvoErrorKind.Unauthorized, 401, cause: new TokenProviderException("failed")).RecommendedAction);
        Assert.Contains("as issued", E(AhrvoErrorKind.InvalidCard).RecommendedAction);
        Assert.Contains("Shared Funds", E(AhrvoErrorKind.InvalidCard, 400).RecommendedAction);
    }
}
