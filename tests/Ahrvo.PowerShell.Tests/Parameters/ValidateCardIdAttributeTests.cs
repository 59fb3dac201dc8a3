using System.Management.Automation;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.PowerShell.Tests.Parameters;

/// <summary>-CardId values that cannot be a card id are parameter errors, one by one, before anything is sent.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class ValidateCardIdAttributeTests(CardsEmulatorFixture fx, ITestOutputHelper log) : IAsyncLifetime
{
    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Connect(string parameters = "") => EmulatorFixtureBase.Connect(parameters);

    [Fact]
    public async Task Unusable_card_ids_are_parameter_errors_and_send_nothing()
    {
                var cases = new (string script, string why)[]
        {
            ("Get-AhrvoCardBalance -CardId $null", "null"),
            ("Get-AhrvoCardBalance -CardId ''", "empty"),
            ("Get-AhrvoCardBalance -CardId '   '", "white space"),
            ("Get-AhrvoCardBalance -CardId ('c' * 129)", "129 characters"),
            ("Get-AhrvoCardBalance -CardId \"card`t1\"", "control character"),
            ("Get-AhrvoCardBalance -CardId ('card' + [char]0xD800)", "lone UTF-16 surrogate"),
            ("Test-AhrvoCardBalance -CardId '' -Amount 1", "empty"),
        };
        foreach (var (script, why) in cases)
        {
            var r = PowerShellHost.Run(Connect() + script, fx.Variables());
            var e = r.Errors.SingleOrDefault() ?? (r.Terminating as IContainsErrorRecord)?.ErrorRecord;
            Assert.True(e != null, $"{why}: no error");
            Assert.Empty(r.Output);
            Assert.Equal(ErrorCategory.InvalidData, e!.CategoryInfo.Category);
            Assert.StartsWith("ParameterArgumentValidationError", e.FullyQualifiedErrorId);
            log.WriteLine($"{why}: {e.Exception.Message.Split('\n')[0]}");
        }
        // From the pipeline: the bad ones are refused one by one, the good one still gets its balance.
        var p = PowerShellHost.Run(Connect() + "$null, '', '  ', 'card201900000000000001', ('x' * 300) | Get-AhrvoCardBalance", fx.Variables());
        Assert.Equal("card201900000000000001", Assert.Single(p.Output.Select(o => ((CardBalance)o.BaseObject).CardId)));
        Assert.Equal(4, p.Errors.Count);
        Assert.Equal(1, (await fx.Emulator.GetStatsAsync(limit: 0)).BalanceRequests);
    }
}
