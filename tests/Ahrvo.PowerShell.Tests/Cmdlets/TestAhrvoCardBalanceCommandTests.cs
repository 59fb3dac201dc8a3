using System.Globalization;
using System.Management.Automation;
using Ahrvo.Emulator;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Test-AhrvoCardBalance as PowerShell runs it: booleans and checks, amounts per record, failing closed.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class TestAhrvoCardBalanceCommandTests(EmulatorFixture fx, CardsEmulatorFixture cardsFx) : IAsyncLifetime
{
    private const string Good = EmulatorFixture.Sample;     // 1468.87
    private const string Low = "card201907021723076248";    // 42.17
    private const string Unknown = "card999999999999999999";

    public async Task InitializeAsync()
    {
        await fx.FreshAsync();
        await cardsFx.FreshAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Connect(string parameters = "") => EmulatorFixtureBase.Connect(parameters);

    private ScriptResult Run(string script, params (string, object?)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    [Fact]
    public void Test_emits_booleans_and_detailed_checks()
    {
        var r = Run($$"""
            Test-AhrvoCardBalance -CardId {{Good}},{{Low}} -Amount 500
            Test-AhrvoCardBalance -CardId {{Good}},{{Low}} -Amount 500 -Detailed
            """);
        Assert.Empty(r.Errors);
        Assert.Equal(true, r.Output[0].BaseObject);
        Assert.Equal(false, r.Output[1].BaseObject);
        var ok = (BalanceCheck)r.Output[2].BaseObject;
        var short_ = (BalanceCheck)r.Output[3].BaseObject;
        Assert.True(ok.Sufficient);
        Assert.Equal(968.87m, ok.RemainingAfter);
        Assert.Null(ok.Shortage);
        Assert.False(short_.Sufficient);
        Assert.Equal(457.83m, short_.Shortage);
        Assert.Null(short_.RemainingAfter);
        Assert.Equal(500m, short_.Amount);
    }

    [Fact]
    public void Test_binds_card_and_amount_per_record()
    {
        var r = Run($$"""
            @(
              [pscustomobject]@{ card_id = '{{Good}}'; amount = '1000' },
              [pscustomobject]@{ card_id = '{{Low}}'; amount = '42.17' },
              [pscustomobject]@{ card_id = '{{Low}}'; amount = '42.18' }
            ) | Test-AhrvoCardBalance -Detailed
            """);
        Assert.Empty(r.Errors);
        var checks = r.Output.Select(o => (BalanceCheck)o.BaseObject).ToList();
        Assert.Equal(new[] { 1000m, 42.17m, 42.18m }, checks.Select(c => c.Amount));
        Assert.Equal(new[] { true, true, false }, checks.Select(c => c.Sufficient));
    }

    [Fact]
    public void Test_fails_closed()
    {
        var r = Run($"Test-AhrvoCardBalance -CardId {Unknown},{Good} -Amount 0");
        Assert.Equal(new object[] { true }, r.Output.Select(o => o.BaseObject));
        Assert.Equal(Unknown, Assert.Single(r.Errors).TargetObject);
    }

    [Fact]
    public void Negative_amount_is_a_validation_error()
    {
        var r = Run($"try {{ Test-AhrvoCardBalance -CardId {Good} -Amount -1 }} catch {{ $_ }}");
        var ex = Assert.IsAssignableFrom<ParameterBindingException>(((ErrorRecord)Assert.Single(r.Output).BaseObject).Exception);
        Assert.Contains("negative", ex.Message);
    }

    [Fact]
    public async Task Test_AhrvoCardBalance_never_answers_for_a_card_it_could_not_read()
    {
        var emu = fx.Emulator;
        await emu.PutCardAsync("bal-nan-t", "NaN");
        await emu.PutCardAsync("bal-null-t", null);
        await emu.SetConfigAsync(new { faults = new object[] { new { kind = "emptybody", cardIds = new[] { Low } } } });
        var r = PowerShellHost.Run(Connect() + "Test-AhrvoCardBalance -CardId bal-nan-t,bal-null-t,$low,$good -Amount 0", fx.Variables(("low", Low), ("good", Good)));
        // Amount 0 would be "sufficient" for any balance, a zero included: only the readable card answers.
        Assert.Equal(new object[] { true }, r.Output.Select(o => o.BaseObject));
        Assert.Equal(3, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.Equal("Ahrvo.InvalidResponse", ErrorId(e)));
    }

    [Fact]
    public async Task Test_AhrvoCardBalance_checks_each_card_against_its_own_amount_under_concurrency()
    {
        var cards = CardsEmulatorFixture.Cards.Take(600).Where(c => c.Type == EmulatorCard.Dedicated).ToList();
        // Per-record amounts from the pipeline: the exact balance (enough) or one cent more (not enough).
        var rows = cards.Select((c, i) => new PSObject(new
        {
            card_id = c.Id,
            Amount = decimal.Parse(c.AvailableBalance!, CultureInfo.InvariantCulture) + (i % 2 == 0 ? 0m : 0.01m),
        })).ToArray();
        await cardsFx.Emulator.SetConfigAsync(new { latencyMs = 1 });

        var vars = cardsFx.Variables();
        vars["rows"] = rows;
        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + "$rows | Test-AhrvoCardBalance -Detailed -ThrottleLimit 16", vars);

        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var checks = r.Output.Select(o => o.BaseObject).Cast<BalanceCheck>().ToList();
        Assert.Equal(cards.Select(c => c.Id), checks.Select(c => c.CardId));
        for (int i = 0; i < checks.Count; i++)
        {
            Assert.Equal(decimal.Parse(cards[i].AvailableBalance!, CultureInfo.InvariantCulture), checks[i].AvailableBalance);
            Assert.Equal(i % 2 == 0, checks[i].Sufficient);
        }
    }
}
