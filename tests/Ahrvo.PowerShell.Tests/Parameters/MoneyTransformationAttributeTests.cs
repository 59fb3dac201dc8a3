using System.Globalization;
using Ahrvo.PowerShell.Parameters;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Parameters;

/// <summary>The one money rule for every amount parameter: invariant decimal text, anything ambiguous refused.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class MoneyTransformationAttributeTests(CardsEmulatorFixture fx) : IAsyncLifetime
{
    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Connect(string parameters = "") => EmulatorFixtureBase.Connect(parameters);

    private static decimal D(string s) => decimal.Parse(s, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("1468.87", "1468.87")]
    [InlineData(" 0.011 ", "0.011")]
    [InlineData("-3", "-3")]
    public void Money_text_is_parsed_invariantly(string text, string expected)
    {
        Assert.Equal(D(expected), new MoneyTransformationAttribute().Transform(null!, text));
    }

    [Theory]
    [InlineData("1,5")]
    [InlineData("1.468,87")]
    [InlineData("1,468.87")]
    [InlineData("$5")]
    [InlineData("")]
    public void Ambiguous_money_text_is_refused(string text)
    {
        var ex = Assert.Throws<System.Management.Automation.ArgumentTransformationMetadataException>(() => new MoneyTransformationAttribute().Transform(null!, text));
        Assert.Contains("'" + text + "'", ex.Message);
    }

    [Theory]
    [InlineData("Test-AhrvoCardBalance -CardId $id -Amount '1,5'")]
    [InlineData("[pscustomobject]@{ card_id = $id; amount = '1,5' } | Test-AhrvoCardBalance")]
    [InlineData("Compare-AhrvoCardBalance -CardId $id -ExpectedBalance 10 -Tolerance '0,01'")]
    [InlineData("Get-AhrvoCardBalance $id | Export-AhrvoBalanceReport -Path $path -LowBalanceThreshold '1,5'")]
    [InlineData("Watch-AhrvoCardBalance -CardId $id -Once -Critical '1,5'")]
    [InlineData("Export-AhrvoBalanceMetric -CardId $id -Path $path -Low '1,5'")]
    public async Task Every_amount_parameter_follows_the_one_money_rule_so_1_comma_5_is_refused_not_read_as_15(string script)
    {
        var emu = fx.Emulator;
        var path = Path.Combine(Path.GetTempPath(), "ahrvo-money-" + Guid.NewGuid() + ".html");
        var r = PowerShellHost.Run(Connect() + script, fx.Variables(("id", CardsEmulatorFixture.Ids(1)[0]), ("path", path)));
        // A parameter binding error that names the value and the rule; nothing compared or written.
        var all = r.Errors.Select(e => e.ToString()).Append(r.Terminating?.Message ?? "");
        Assert.Contains(all, m => m.Contains("'1,5'") || m.Contains("'0,01'"));
        Assert.Contains(all, m => m.Contains("'.' as the decimal point"));
        Assert.DoesNotContain(r.Output, o => o.BaseObject is bool);
        Assert.False(File.Exists(path));
    }
}
