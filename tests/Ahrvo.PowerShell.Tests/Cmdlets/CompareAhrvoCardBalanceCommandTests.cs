using System.Management.Automation;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;
using static Ahrvo.PowerShell.Tests.Support.EmulatorFixtureBase;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Compare-AhrvoCardBalance, hosted, against the emulator.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class CompareAhrvoCardBalanceCommandTests(EmulatorFixture fx) : IAsyncLifetime
{
    private const string Sample = EmulatorFixture.Sample; // the spec's card: 1468.87

    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private ScriptResult Run(string script, params (string Name, object? Value)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    [Fact]
    public async Task Compare_tolerance_edge_one_cent_is_matched_more_is_a_discrepancy()
    {
        var card = await fx.PlantAsync("100.00");
        var r = Run("""
            @(
                [pscustomobject]@{ CardId = $card; ExpectedBalance = '100.00' }
                [pscustomobject]@{ CardId = $card; ExpectedBalance = '99.99' }
                [pscustomobject]@{ CardId = $card; ExpectedBalance = '100.01' }
                [pscustomobject]@{ CardId = $card; ExpectedBalance = '99.989' }
                [pscustomobject]@{ CardId = $card; ExpectedBalance = '100.011' }
            ) | Compare-AhrvoCardBalance
            """, ("card", card));
        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { ReconciliationStatus.Matched, ReconciliationStatus.Matched, ReconciliationStatus.Matched, ReconciliationStatus.Discrepancy, ReconciliationStatus.Discrepancy },
            r.Output.Select(o => Prop<ReconciliationStatus>(o, "Status")));
        Assert.Equal(new decimal?[] { 0m, 0.01m, -0.01m, 0.011m, -0.011m }, r.Output.Select(o => Prop<decimal?>(o, "Difference")));
        Assert.All(r.Output, o => Assert.Equal(100.00m, Prop<decimal?>(o, "ActualBalance")));
    }

    [Fact]
    public async Task Compare_with_a_custom_tolerance_and_zero_tolerance()
    {
        var card = await fx.PlantAsync("10.00");
        var r = Run("""
            Compare-AhrvoCardBalance -CardId $card -ExpectedBalance 9.5 -Tolerance 0.5
            Compare-AhrvoCardBalance -CardId $card -ExpectedBalance 10.001 -Tolerance 0
            """, ("card", card));
        NoTerminating(r);
        Assert.Equal(new[] { ReconciliationStatus.Matched, ReconciliationStatus.Discrepancy }, r.Output.Select(o => Prop<ReconciliationStatus>(o, "Status")));
    }

    [Fact]
    public void Compare_refuses_a_negative_tolerance()
    {
        var r = PowerShellHost.Run(Try($"Compare-AhrvoCardBalance -CardId {Sample} -ExpectedBalance 1 -Tolerance -0.01"));
        var error = TerminatingRecord(r);
        Assert.StartsWith("ParameterArgumentValidationError", error.FullyQualifiedErrorId);
        Assert.Contains("negative", error.Exception.Message);
    }

    [Fact]
    public async Task Compare_emits_failed_for_an_unknown_card_among_good_ones_in_input_order()
    {
        var good = await fx.PlantAsync("5.00");
        var off = await fx.PlantAsync("7.00");
        var unknown = NewCardId();
        var r = Run("""
            $rows = @(
                [pscustomobject]@{ card_id = $good; balance = '5.00' }
                [pscustomobject]@{ card_id = $unknown; balance = '3.00' }
                [pscustomobject]@{ card_id = $off; balance = '6.00' }
            )
            $all = $rows | Compare-AhrvoCardBalance
            $only = $rows | Compare-AhrvoCardBalance -DiscrepancyOnly
            [pscustomobject]@{ All = $all; Only = $only }
            """, ("good", good), ("off", off), ("unknown", unknown));
        NoTerminating(r);
        var all = ((object[])Prop<object>(r.Output[0], "All")).Cast<object>().Select(PSObject.AsPSObject).ToList();
        var only = ((object[])Prop<object>(r.Output[0], "Only")).Cast<object>().Select(PSObject.AsPSObject).ToList();
        Assert.Equal(new[] { good, unknown, off }, all.Select(o => Prop<string>(o, "CardId")));
        Assert.Equal(new[] { ReconciliationStatus.Matched, ReconciliationStatus.Failed, ReconciliationStatus.Discrepancy }, all.Select(o => Prop<ReconciliationStatus>(o, "Status")));
        var failed = all[1];
        Assert.Null(Prop<decimal?>(failed, "ActualBalance"));
        Assert.Null(Prop<decimal?>(failed, "Difference"));
        Assert.Equal(3.00m, Prop<decimal>(failed, "ExpectedBalance"));
        // -DiscrepancyOnly hides the match, never the failure.
        Assert.Equal(new[] { unknown, off }, only.Select(o => Prop<string>(o, "CardId")));
        Assert.Equal(2, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.Equal(unknown, e.TargetObject));
        Assert.All(r.Errors, e => Assert.IsType<AhrvoException>(e.Exception));
    }

    [Fact]
    public async Task Compare_reads_csv_text_invariantly_under_de_DE_and_refuses_ambiguous_amounts()
    {
        var a = await fx.PlantAsync("1468.87");
        var b = await fx.PlantAsync("1.50");
        var r = Run("""
            [System.Threading.Thread]::CurrentThread.CurrentCulture = [cultureinfo]'de-DE'
            $csv = "card_id,balance`n$a,1468.87`n$b,`"1,5`"`n$b,1.5"
            $csv | ConvertFrom-Csv | Compare-AhrvoCardBalance
            """, ("a", a), ("b", b));
        NoTerminating(r);
        // "1,5" means 1.5 in de-DE and 15 to PowerShell: refused, not guessed. The rest goes on.
        Assert.Equal(new[] { (a, ReconciliationStatus.Matched, 1468.87m), (b, ReconciliationStatus.Matched, 1.5m) },
            r.Output.Select(o => (Prop<string>(o, "CardId"), Prop<ReconciliationStatus>(o, "Status"), Prop<decimal>(o, "ExpectedBalance"))));
        var error = Assert.Single(r.Errors);
        Assert.IsAssignableFrom<ParameterBindingException>(error.Exception);
        Assert.StartsWith("ParameterArgumentTransformationError", error.FullyQualifiedErrorId);
        Assert.Contains("'1,5'", error.Exception.Message);
    }

    [Fact]
    public async Task Compare_refuses_a_malformed_card_id_for_that_row_only()
    {
        var good = await fx.PlantAsync("1.00");
        var r = Run("""
            [pscustomobject]@{ CardId = '   '; ExpectedBalance = 1 }, [pscustomobject]@{ CardId = $good; ExpectedBalance = 1 } | Compare-AhrvoCardBalance
            """, ("good", good));
        NoTerminating(r);
        Assert.Equal(good, Prop<string>(Assert.Single(r.Output), "CardId"));
        // The row is resolved as Get-AhrvoCardBalance resolves it (issue 22): refused before any request.
        var error = Assert.Single(r.Errors);
        Assert.StartsWith("Ahrvo.InvalidCard,", error.FullyQualifiedErrorId);
        Assert.Contains("Nothing was sent", error.Exception.Message);
        Assert.Equal(1, await fx.RequestsForAsync(good));
    }

    [Fact]
    public void Compare_with_no_input_emits_nothing()
    {
        var r = Run("@() | Compare-AhrvoCardBalance");
        NoTerminating(r);
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors);
    }
}
