using System.Globalization;
using System.Management.Automation;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;
using static Ahrvo.PowerShell.Tests.Support.EmulatorFixtureBase;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Measure-AhrvoCardBalance, hosted, against the emulator and on balances given directly.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class MeasureAhrvoCardBalanceCommandTests(EmulatorFixture fx) : IAsyncLifetime
{
    private const string Sample = EmulatorFixture.Sample; // the spec's card: 1468.87

    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Connect(string parameters = "") => EmulatorFixtureBase.Connect(parameters);

    private ScriptResult Run(string script, params (string Name, object? Value)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    [Fact]
    public async Task Measure_summarizes_piped_balances_without_a_second_query()
    {
        var ids = new List<string>();
        foreach (var b in new[] { "1468.87", "2500.00", "850.50", "42.17", "7.05", "5000.00", "-3.00" }) ids.Add(await fx.PlantAsync(b));
        var r = Run("$ids | Get-AhrvoCardBalance | Measure-AhrvoCardBalance", ("ids", ids.ToArray()));
        NoTerminating(r);
        Assert.Empty(r.Errors);
        var s = Assert.Single(r.Output);
        Assert.Equal("Ahrvo.PowerShell.BalanceSummary", s.TypeNames[0]);
        Assert.Equal(7, Prop<int>(s, "Count"));
        Assert.Equal(9865.59m, Prop<decimal>(s, "Total"));
        Assert.Equal(9865.59m / 7, Prop<decimal?>(s, "Average"));
        Assert.Equal(-3.00m, Prop<decimal?>(s, "Minimum"));
        Assert.Equal(5000.00m, Prop<decimal?>(s, "Maximum"));
        Assert.Equal("USD", Prop<string>(s, "Currency"));
        var buckets = Prop<BalanceBucket[]>(s, "Distribution");
        Assert.Equal(new[] { 3, 0, 1, 2, 1 }, buckets.Select(b => b.Count));
        foreach (var id in ids) Assert.Equal(1, await fx.RequestsForAsync(id));
    }

    [Fact]
    public async Task Measure_with_card_ids_lists_failures_and_writes_their_errors()
    {
        var a = await fx.PlantAsync("100.00");
        var unknown = NewCardId();
        var b = await fx.PlantAsync("300.00");
        var r = Run("Measure-AhrvoCardBalance -CardId $a, $unknown, $b", ("a", a), ("b", b), ("unknown", unknown));
        NoTerminating(r);
        var s = Assert.Single(r.Output);
        Assert.Equal(2, Prop<int>(s, "Count"));
        Assert.Equal(400m, Prop<decimal>(s, "Total"));
        Assert.Equal(new[] { unknown }, Prop<string[]>(s, "Failed"));
        var error = Assert.Single(r.Errors);
        Assert.Equal("Ahrvo.CardNotFound,Ahrvo.PowerShell.Cmdlets.MeasureAhrvoCardBalanceCommand", error.FullyQualifiedErrorId);
    }

    [Fact]
    public void Measure_of_nothing_has_count_zero_and_null_statistics_and_needs_no_connection()
    {
        var r = PowerShellHost.Run("@() | Measure-AhrvoCardBalance");
        NoTerminating(r);
        var s = Assert.Single(r.Output);
        Assert.Equal(0, Prop<int>(s, "Count"));
        Assert.Equal(0m, Prop<decimal>(s, "Total"));
        Assert.Null(Prop<decimal?>(s, "Average"));
        Assert.Null(Prop<decimal?>(s, "Minimum"));
        Assert.Null(Prop<decimal?>(s, "Maximum"));
        Assert.Empty(Prop<string[]>(s, "Failed"));
    }

    [Fact]
    public void Measure_warns_about_mixed_currencies_and_refuses_other_input()
    {
        var r = PowerShellHost.Run("""
            [Ahrvo.PowerShell.CardBalance]::new('card1', $null, 10, 'USD', [datetimeoffset]::UtcNow),
            [Ahrvo.PowerShell.CardBalance]::new('card2', $null, 20, 'EUR', [datetimeoffset]::UtcNow),
            'card3' | Measure-AhrvoCardBalance
            """);
        NoTerminating(r);
        var s = Assert.Single(r.Output);
        Assert.Equal(2, Prop<int>(s, "Count"));
        Assert.Null(Prop<string>(s, "Currency"));
        Assert.Contains(r.Warning, w => w.Contains("EUR, USD"));
        var error = Assert.Single(r.Errors);
        Assert.Equal("Ahrvo.UnsupportedInput,Ahrvo.PowerShell.Cmdlets.MeasureAhrvoCardBalanceCommand", error.FullyQualifiedErrorId);
        // The refused input counts as failed, never as nothing.
        Assert.Equal(1, Prop<int>(s, "Refused"));
        Assert.Equal(1, Prop<int>(s, "FailedCount"));
    }

    [Fact]
    public async Task Measure_counts_refused_inputs_as_failed_never_as_nothing()
    {
        // Issue 22: rows without a card id (here -CardId given rows of a CSV whose id column has
        // another name) and a failed card. The summary must not read as "nothing failed".
        var a = await fx.PlantAsync("10.00");
        var unknown = NewCardId();
        var dir = NewTempDir();
        try
        {
            File.WriteAllText(Path.Combine(dir, "cards.csv"), $"number,owner\n{a},alice\n{a},bob\n");
            var r = Run("""
                Update-FormatData -AppendPath $format
                $s = Measure-AhrvoCardBalance -CardId (@(Import-Csv (Join-Path $dir 'cards.csv')) + $a + $unknown)
                $s
                $s.ToString()
                ($s | Format-List | Out-String -Width 200)
                """, ("a", a), ("unknown", unknown), ("dir", dir), ("format", FormatFile));
            NoTerminating(r);
            var s = r.Output[0];
            Assert.Equal(1, Prop<int>(s, "Count"));
            Assert.Equal(new[] { unknown }, Prop<string[]>(s, "Failed"));
            Assert.Equal(2, Prop<int>(s, "Refused"));
            Assert.Equal(3, Prop<int>(s, "FailedCount"));
            Assert.Equal("1 cards, total 10.00 USD, 3 failed", r.Output[1].ToString());
            Assert.Contains("Failed       : 3: " + unknown + ", 2 input(s) refused (no card id)", r.Output[2].ToString());
            Assert.Equal(3, r.Errors.Count); // two Ahrvo.NoCardId, one Ahrvo.CardNotFound
            Assert.Equal(2, r.Errors.Count(e => e.FullyQualifiedErrorId.StartsWith("Ahrvo.NoCardId")));
            Assert.Equal(1, await fx.RequestsForAsync(unknown));
            Assert.Equal(1, await fx.RequestsForAsync(a)); // the rows were never sent
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Measure_counts_error_records_merged_with_2_to_1_as_failed_cards()
    {
        var a = await fx.PlantAsync("1.00");
        var unknown = NewCardId();
        var r = Run("Get-AhrvoCardBalance $a, $unknown 2>&1 | Measure-AhrvoCardBalance", ("a", a), ("unknown", unknown));
        NoTerminating(r);
        var s = Assert.Single(r.Output);
        Assert.Equal(1, Prop<int>(s, "Count"));
        Assert.Equal(new[] { unknown }, Prop<string[]>(s, "Failed"));
    }

    [Fact]
    public async Task Measure_takes_balances_saved_with_export_clixml_without_a_connection()
    {
        var a = await fx.PlantAsync("10.50");
        var b = await fx.PlantAsync("600.00");
        var dir = NewTempDir();
        try
        {
            var r = Run("""
                Get-AhrvoCardBalance $a, $b | Export-Clixml (Join-Path $dir 'b.xml')
                Disconnect-Ahrvo
                Import-Clixml (Join-Path $dir 'b.xml') | Measure-AhrvoCardBalance
                """, ("a", a), ("b", b), ("dir", dir));
            NoTerminating(r);
            Assert.Empty(r.Errors);
            var s = Assert.Single(r.Output);
            Assert.Equal(2, Prop<int>(s, "Count"));
            Assert.Equal(610.50m, Prop<decimal>(s, "Total"));
            Assert.Equal(1, await fx.RequestsForAsync(a));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Measure_view_draws_the_distribution_as_bars()
    {
        var format = FormatFile;
        var r = PowerShellHost.Run("""
            Update-FormatData -AppendPath $format
            $cards = 5, 50, 99.99, 150, 7000 | ForEach-Object { [Ahrvo.PowerShell.CardBalance]::new("card$_", $null, $_, 'USD', [datetimeoffset]::UtcNow) }
            $cards | Measure-AhrvoCardBalance | Out-String -Width 120
            """, new Dictionary<string, object?> { ["format"] = format });
        NoTerminating(r);
        Assert.Empty(r.Errors);
        var text = string.Concat(r.Output.Select(o => o.ToString()));
        Assert.Matches(@"\$0\u2013100\s+3 \u2588{15}(\r?\n)", text);
        Assert.Matches(@"\$100\u2013500\s+1 \u2588{5}(\r?\n)", text);
        Assert.Matches(@"\$500\u20131,000\s+0 ?(\r?\n)", text);
        Assert.Matches(@"Count\s+: 5", text);
    }

    [Fact]
    public async Task Measure_shows_progress_and_completes()
    {
        // Regression: the first progress update computed Elapsed - TimeSpan.MinValue and overflowed.
        var ids = new List<string>();
        for (int i = 0; i < 6; i++) ids.Add(await fx.PlantAsync("1.00"));
        using var progress = ProgressTiming.Always();
        var r = Run("$ProgressPreference = 'Continue'; Measure-AhrvoCardBalance -CardId $ids -ThrottleLimit 1", ("ids", ids.ToArray()));
        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(6, Prop<int>(Assert.Single(r.Output), "Count"));
        Assert.Contains(r.Progress, p => p.StatusDescription.Contains("of 6 cards"));
        Assert.Equal(ProgressRecordType.Completed, r.Progress[^1].RecordType);
    }

    [Fact]
    public async Task Totals_and_differences_never_overflow_and_a_huge_balance_loses_no_other_card()
    {
        var emu = fx.Emulator;
        await emu.PutCardAsync("card-huge-1", "79228162514264337593543950335");
        await emu.PutCardAsync("card-huge-2", "79228162514264337593543950335");
        await emu.PutCardAsync("card-limit-1", "1000000000000000.00");
        await emu.PutCardAsync("card-limit-2", "1000000000000000.00");
        var ids = new[] { "card-huge-1", "card-limit-1", "card-huge-2", "card-limit-2" };
        var r = PowerShellHost.Run(Connect() + "Measure-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { "card-huge-1", "card-huge-2" }, r.Errors.Select(e => (string)e.TargetObject));
        Assert.All(r.Errors, e => Assert.Equal("Ahrvo.InvalidResponse", ErrorId(e)));
        var summary = Assert.Single(r.Output).BaseObject;
        Assert.Contains("2000000000000000", string.Join(" ", summary.GetType().GetProperties().Select(p => Convert.ToString(p.GetValue(summary), CultureInfo.InvariantCulture))));

        // Amounts from the user follow the same rule, so a difference cannot overflow either.
        var c = PowerShellHost.Run(Connect() + "Compare-AhrvoCardBalance -CardId card-limit-1 -ExpectedBalance 79228162514264337593543950335", fx.Variables());
        Assert.Contains(c.Errors.Select(e => e.ToString()).Append(c.Terminating?.Message ?? ""), m => m.Contains("more than any card holds"));
    }
}
