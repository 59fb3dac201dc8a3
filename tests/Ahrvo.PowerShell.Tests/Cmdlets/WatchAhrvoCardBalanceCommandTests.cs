using System.Management.Automation;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;
using static Ahrvo.PowerShell.Tests.Support.EmulatorFixtureBase;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Watch-AhrvoCardBalance without -StatePath, hosted, against the emulator: passes, alerts, errors, stopping.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class WatchAhrvoCardBalanceCommandTests(EmulatorFixture fx) : IAsyncLifetime
{
    private const string Sample = EmulatorFixture.Sample; // the spec's card: 1468.87

    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private ScriptResult Run(string script, params (string Name, object? Value)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    // Plants a card's balance between passes: the script merges the verbose stream (4>&1), so the
    // "Pass N finished" record reaches ForEach-Object on the pipeline thread before the wait.
    private const string PlantBetweenPasses = """
        function Set-Card([string] $id, [string] $balance) {
            $body = @{ card_number = '5157********0000'; available_balance = $balance; type = 'Dedicated' } | ConvertTo-Json
            $null = Invoke-RestMethod -Method Put -Uri ([uri]::new($emuUri, "_emulator/cards/$id")) -Body $body -ContentType 'application/json' -NoProxy
        }
        function Remove-Card([string] $id) {
            $null = Invoke-RestMethod -Method Delete -Uri ([uri]::new($emuUri, "_emulator/cards/$id")) -NoProxy
        }

        """;

    [Fact]
    public async Task Watch_alerts_at_each_level_change_across_passes_and_back_to_normal()
    {
        var card = await fx.PlantAsync("300.00");
        // Pass 1 sees 300 (Normal: quiet); then each "Pass N finished" plants the balance for pass N+1.
        var r = Run(PlantBetweenPasses + """
            $next = @('250.00', '200.00', '100.00', '50.00', '49.99', '100.01', '250.01', '0.00')
            Watch-AhrvoCardBalance -CardId $card -Critical 50 -Warning 100 -Low 250 -Interval 0.05 -Count 9 -Verbose 4>&1 | ForEach-Object {
                if ($_ -is [System.Management.Automation.VerboseRecord]) {
                    if ($_.Message -match '^Pass (\d+) finished' -and [int]$Matches[1] -le $next.Count) { Set-Card $card $next[[int]$Matches[1] - 1] }
                } else { $_ }
            }
            """, ("card", card));
        NoTerminating(r);
        Assert.Empty(r.Errors);
        var alerts = r.Output.Select(o => (Prop<decimal>(o, "AvailableBalance"), Prop<BalanceLevel>(o, "Level"), Prop<BalanceLevel?>(o, "PreviousLevel"), Prop<decimal?>(o, "Threshold"))).ToList();
        Assert.Equal(new (decimal, BalanceLevel, BalanceLevel?, decimal?)[]
        {
            (250.00m, BalanceLevel.Low, BalanceLevel.Normal, 250m),        // equality at Low
            (100.00m, BalanceLevel.Warning, BalanceLevel.Low, 100m),       // equality at Warning
            (50.00m, BalanceLevel.Critical, BalanceLevel.Warning, 50m),    // equality at Critical
            (100.01m, BalanceLevel.Low, BalanceLevel.Critical, 250m),      // up two levels at once
            (250.01m, BalanceLevel.Normal, BalanceLevel.Low, null),        // back to Normal
            (0.00m, BalanceLevel.Critical, BalanceLevel.Normal, 50m),      // down three levels at once
        }, alerts);
        Assert.All(r.Output, o => Assert.Equal("Ahrvo.PowerShell.BalanceAlert", o.TypeNames[0]));
        Assert.Equal(9, await fx.RequestsForAsync(card));
    }

    [Fact]
    public async Task Watch_first_pass_reports_only_cards_below_normal()
    {
        var normal = await fx.PlantAsync("500.00");
        var low = await fx.PlantAsync("250.00");
        var critical = await fx.PlantAsync("50.00");
        var r = Run("Watch-AhrvoCardBalance -CardId $ids -Critical 50 -Warning 100 -Low 250 -Once",
            ("ids", new[] { normal, low, critical }));
        NoTerminating(r);
        Assert.Equal(new[] { low, critical }, r.Output.Select(o => Prop<string>(o, "CardId")));
        Assert.All(r.Output, o => Assert.Null(Prop<BalanceLevel?>(o, "PreviousLevel")));
        Assert.Equal(new[] { BalanceLevel.Low, BalanceLevel.Critical }, r.Output.Select(o => Prop<BalanceLevel>(o, "Level")));
        Assert.Equal(1, await fx.RequestsForAsync(normal));
    }

    [Fact]
    public async Task Watch_takes_ids_from_the_pipeline_by_value_and_by_property_name_and_ignores_duplicates()
    {
        var a = await fx.PlantAsync("1.00");
        var b = await fx.PlantAsync("2.00");
        var r = Run("""
            @($a, [pscustomobject]@{ card_id = $b }, [pscustomobject]@{ Id = $a }) | Watch-AhrvoCardBalance -Low 10 -Once
            """, ("a", a), ("b", b));
        NoTerminating(r);
        Assert.Equal(new[] { a, b }, r.Output.Select(o => Prop<string>(o, "CardId")));
        Assert.Equal(1, await fx.RequestsForAsync(a));
    }

    [Fact]
    public async Task Watch_writes_an_unreadable_cards_error_goes_on_and_keeps_its_last_level()
    {
        var good = await fx.PlantAsync("10.00");
        var flaky = await fx.PlantAsync("20.00");
        var unknown = NewCardId();
        // Pass 1: flaky is Low. Pass 2: it is gone (404). Pass 3: back, still Low: no alert, its level was kept.
        // Pass 4: at 5.00 it is Critical, with Low as the previous level. The unknown card fails every pass.
        var r = Run(PlantBetweenPasses + """
            Watch-AhrvoCardBalance -CardId $good, $unknown, $flaky -Critical 5 -Low 50 -Interval 0.05 -Count 4 -Verbose 4>&1 | ForEach-Object {
                if ($_ -is [System.Management.Automation.VerboseRecord]) {
                    switch -regex ($_.Message) {
                        '^Pass 1 finished' { Remove-Card $flaky }
                        '^Pass 2 finished' { Set-Card $flaky '20.00' }
                        '^Pass 3 finished' { Set-Card $flaky '5.00' }
                    }
                } else { $_ }
            }
            """, ("good", good), ("flaky", flaky), ("unknown", unknown));
        NoTerminating(r);
        Assert.Equal(new[] { (good, BalanceLevel.Low, (BalanceLevel?)null), (flaky, BalanceLevel.Low, null), (flaky, BalanceLevel.Critical, BalanceLevel.Low) },
            r.Output.Select(o => (Prop<string>(o, "CardId"), Prop<BalanceLevel>(o, "Level"), Prop<BalanceLevel?>(o, "PreviousLevel"))));
        // The unknown card's error every pass, the flaky one's in pass 2.
        Assert.Equal(5, r.Errors.Count);
        Assert.Equal(4, r.Errors.Count(e => Equals(e.TargetObject, unknown) && e.FullyQualifiedErrorId.StartsWith("Ahrvo.CardNotFound", StringComparison.Ordinal)));
        Assert.Single(r.Errors, e => Equals(e.TargetObject, flaky));
        Assert.Equal(4, await fx.RequestsForAsync(unknown));
    }

    [Fact]
    public async Task Watch_verbose_tells_when_each_pass_starts_and_ends_and_how_many_changed()
    {
        var card = await fx.PlantAsync("1.00");
        var r = Run("Watch-AhrvoCardBalance -CardId $card -Low 10 -Interval 0.05 -Count 2 -Verbose", ("card", card));
        NoTerminating(r);
        Assert.Contains("Pass 1 started: 1 card.", r.Verbose);
        Assert.Contains("Pass 1 finished: 1 card changed level, 0 could not be read.", r.Verbose);
        Assert.Contains("Pass 2 finished: 0 cards changed level, 0 could not be read.", r.Verbose);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(200)]
    public async Task Watch_alert_table_fits_80_columns_and_keeps_its_shape_when_wider(int width)
    {
        var card = await fx.PlantAsync("42.17");
        var format = FormatFile;
        var r = Run("Update-FormatData -AppendPath $format\n" +
            $"Watch-AhrvoCardBalance -CardId $card -Critical 50 -Low 250 -Once | Out-String -Width {width}", ("card", card), ("format", format));
        NoTerminating(r);
        var lines = string.Concat(r.Output.Select(o => o.ToString())).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80, $"'{l}' is {l.Length} wide"));
        // When in UTC with year and zone; a first sight is "new"; the threshold is left to Format-List.
        Assert.Matches($@"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+{card}\s+42\.17 Critical\s+new$", lines[2].TrimEnd());
    }

    [Theory]
    [InlineData("-Critical 100 -Warning 50", "-Critical 100 is above -Warning 50")]
    [InlineData("-Warning 300 -Low 250.5", "-Warning 300 is above -Low 250.5")]
    [InlineData("", "at least one threshold")]
    public void Watch_refuses_disordered_thresholds_before_connecting(string thresholds, string message)
    {
        // No Connect-Ahrvo: the thresholds are checked first.
        var r = PowerShellHost.Run(Try($"Watch-AhrvoCardBalance -CardId {Sample} {thresholds} -Once"));
        var error = TerminatingRecord(r);
        Assert.Equal("Ahrvo.InvalidThresholds,Ahrvo.PowerShell.Cmdlets.WatchAhrvoCardBalanceCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains(message, error.Exception.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1.00:00:01")]
    public void Watch_interval_must_be_positive_and_at_most_a_day(string interval)
    {
        var r = PowerShellHost.Run(Try($"Watch-AhrvoCardBalance -CardId {Sample} -Low 1 -Interval {interval} -Count 1"));
        Assert.StartsWith("ParameterArgumentValidationError", TerminatingRecord(r).FullyQualifiedErrorId);
    }

    [Fact]
    public async Task Watch_stops_at_once_on_ctrl_c_during_the_wait()
    {
        var card = await fx.PlantAsync("1.00");
        // A ten-minute interval: only Ctrl+C can end this run within the liveness limit.
        using var run = PowerShellHost.Start(PowerShellHost.ConnectLine + "Watch-AhrvoCardBalance -CardId $card -Low 10 -Interval 00:10:00 -Verbose",
            fx.Variables(("card", card)));
        // Written just before the wait: the first pass is over.
        run.WaitForVerbose(v => v.StartsWith("Next pass at", StringComparison.Ordinal), "announcing the next pass");
        run.Stop();
        var r = run.Finish();
        Assert.IsType<PipelineStoppedException>(r.Terminating);
        Assert.Single(r.Output);
        Assert.Equal(1, await fx.RequestsForAsync(card));
    }

    [Fact]
    public async Task Watch_until_the_first_alert_with_select_object_first()
    {
        var card = await fx.PlantAsync("300.00");
        // No -Count: the watch would run forever (and fail the liveness limit); only Select-Object stopping the pipeline ends it.
        var r = Run(PlantBetweenPasses + """
            Watch-AhrvoCardBalance -CardId $card -Low 250 -Interval 0.1 -Verbose 4>&1 | ForEach-Object {
                if ($_ -is [System.Management.Automation.VerboseRecord]) { if ($_.Message -like 'Pass 1 finished*') { Set-Card $card '10.00' } } else { $_ }
            } | Select-Object -First 1
            """, ("card", card));
        NoTerminating(r);
        Assert.Equal(BalanceLevel.Low, Prop<BalanceLevel>(Assert.Single(r.Output), "Level"));
        Assert.Equal(2, await fx.RequestsForAsync(card));
    }
}
