using System.Collections;
using Ahrvo.PowerShell.Completion;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Completion;

/// <summary>-Path completion of Invoke-AhrvoRequest: the documented balance path, the API's prefix naming the related endpoints, and the paths used; never a request.</summary>
public sealed class RequestPathCompleterTests
{
    private static List<System.Management.Automation.CompletionResult> Complete(string word) =>
        new RequestPathCompleter().CompleteArgument("Invoke-AhrvoRequest", "Path", word, null!, new Hashtable()).ToList();

    [Fact]
    public void The_balance_path_and_the_prefix_complete_and_the_prefix_names_the_related_endpoints()
    {
        var results = Complete("/card/iss");
        Assert.Contains(results, r => r.ListItemText == "/card/issuance/api/issuing/card/v2/normal/balance" && r.CompletionText == "'/card/issuance/api/issuing/card/v2/normal/balance'");
        var prefix = Assert.Single(results, r => r.ListItemText == "/card/issuance/api/issuing/card/v2/normal/");
        foreach (var name in new[] { "Top-up Dedicated Funds Card", "Withdraw Funds", "Query Card Details", "Query Card Funding Orders", "Create a Card", "Query All Cards" })
            Assert.Contains(name, prefix.ToolTip);
        Assert.Empty(Complete("/nothing"));
    }

    [Fact]
    public void A_path_answered_with_a_2xx_in_this_session_completes_too()
    {
        RequestPathCompleter.Remember("/card/issuance/api/example/used-once");
        Assert.Contains(Complete("'/card/issuance/api/ex"), r => r.ListItemText == "/card/issuance/api/example/used-once");
    }

    [Fact]
    public void Tab_after_Path_offers_them_in_a_runspace()
    {
        var r = PowerShellHost.Run("(TabExpansion2 -inputScript 'Invoke-AhrvoRequest GET /card/issuance/api/issuing/card/v2/normal/b' -cursorColumn 66).CompletionMatches.ListItemText");
        Assert.Contains("/card/issuance/api/issuing/card/v2/normal/balance", r.Output.Select(o => o.ToString()));
    }
}
