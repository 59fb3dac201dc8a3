using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using Ahrvo.TestSupport;
using Xunit;

namespace Ahrvo.PowerShell.Tests;

/// <summary>Watch-, Compare-, Measure-AhrvoCardBalance and Export-AhrvoBalanceReport, hosted, against the emulator.</summary>
public sealed class UseCaseCmdletTests : IClassFixture<EmulatorFixture>
{
    private const string Sample = "card201907021723076245"; // the spec's card: 1468.87
    private readonly EmulatorFixture _fx;
    private readonly EmulatorProcess _emu;

    public UseCaseCmdletTests(EmulatorFixture fixture)
    {
        _fx = fixture;
        _emu = fixture.Emulator;
    }

    private Dictionary<string, object?> Vars(params (string Name, object? Value)[] more) => _fx.Variables(more);

    private ScriptResult Run(string script, params (string Name, object? Value)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, Vars(vars));

    /// <summary>A card id no other test uses.</summary>
    private static string NewCardId() => "card" + Guid.NewGuid().ToString("N")[..20];

    private async Task<string> PlantAsync(string balance, string currency = "USD")
    {
        var id = NewCardId();
        await _emu.PutCardAsync(id, balance, currency: currency);
        return id;
    }

    private async Task<int> RequestsForAsync(string cardId)
    {
        var stats = await _emu.GetStatsAsync(0);
        return stats.RequestsPerCard.TryGetValue(cardId, out var n) ? n : 0;
    }

    private static T Prop<T>(PSObject o, string name) => (T)o.Properties[name].Value;

    private static void NoTerminating(ScriptResult r) => Assert.True(r.Terminating == null, r.Terminating?.ToString());

    /// <summary>Wraps a script so its terminating error is caught (a non-terminating one would not be) and emitted.</summary>
    private static string Try(string script) => "try {\n" + script + "\n} catch { $_ }";

    private static ErrorRecord TerminatingRecord(ScriptResult r)
    {
        NoTerminating(r);
        return Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
    }

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

    // ---- Watch-AhrvoCardBalance ---------------------------------------------------------------------

    [Fact]
    public async Task Watch_alerts_at_each_level_change_across_passes_and_back_to_normal()
    {
        var card = await PlantAsync("300.00");
        // Pass 1 sees 300 (Normal: quiet); then each "Pass N finished" plants the balance for pass N+1.
        var r = Run(PlantBetweenPasses + """
            $next = @('250.00', '200.00', '100.00', '50.00', '49.99', '100.01', '250.01', '0.00')
            Watch-AhrvoCardBalance -CardId $card -Critical 50 -Warning 100 -Low 250 -Interval 0.2 -Count 9 -Verbose 4>&1 | ForEach-Object {
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
        Assert.Equal(9, await RequestsForAsync(card));
    }

    [Fact]
    public async Task Watch_first_pass_reports_only_cards_below_normal()
    {
        var normal = await PlantAsync("500.00");
        var low = await PlantAsync("250.00");
        var critical = await PlantAsync("50.00");
        var r = Run("Watch-AhrvoCardBalance -CardId $ids -Critical 50 -Warning 100 -Low 250 -Once",
            ("ids", new[] { normal, low, critical }));
        NoTerminating(r);
        Assert.Equal(new[] { low, critical }, r.Output.Select(o => Prop<string>(o, "CardId")));
        Assert.All(r.Output, o => Assert.Null(Prop<BalanceLevel?>(o, "PreviousLevel")));
        Assert.Equal(new[] { BalanceLevel.Low, BalanceLevel.Critical }, r.Output.Select(o => Prop<BalanceLevel>(o, "Level")));
        Assert.Equal(1, await RequestsForAsync(normal));
    }

    [Fact]
    public async Task Watch_takes_ids_from_the_pipeline_by_value_and_by_property_name_and_ignores_duplicates()
    {
        var a = await PlantAsync("1.00");
        var b = await PlantAsync("2.00");
        var r = Run("""
            @($a, [pscustomobject]@{ card_id = $b }, [pscustomobject]@{ Id = $a }) | Watch-AhrvoCardBalance -Low 10 -Once
            """, ("a", a), ("b", b));
        NoTerminating(r);
        Assert.Equal(new[] { a, b }, r.Output.Select(o => Prop<string>(o, "CardId")));
        Assert.Equal(1, await RequestsForAsync(a));
    }

    [Fact]
    public async Task Watch_writes_an_unreadable_cards_error_goes_on_and_keeps_its_last_level()
    {
        var good = await PlantAsync("10.00");
        var flaky = await PlantAsync("20.00");
        var unknown = NewCardId();
        // Pass 1: flaky is Low. Pass 2: it is gone (404). Pass 3: back, still Low: no alert, its level was kept.
        // Pass 4: at 5.00 it is Critical, with Low as the previous level. The unknown card fails every pass.
        var r = Run(PlantBetweenPasses + """
            Watch-AhrvoCardBalance -CardId $good, $unknown, $flaky -Critical 5 -Low 50 -Interval 0.2 -Count 4 -Verbose 4>&1 | ForEach-Object {
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
        Assert.Equal(4, await RequestsForAsync(unknown));
    }

    [Fact]
    public async Task Watch_verbose_tells_when_each_pass_starts_and_ends_and_how_many_changed()
    {
        var card = await PlantAsync("1.00");
        var r = Run("Watch-AhrvoCardBalance -CardId $card -Low 10 -Interval 0.1 -Count 2 -Verbose", ("card", card));
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
        var card = await PlantAsync("42.17");
        var format = Path.Combine(RepoRoot(), "module", "Ahrvo.PowerShell.Format.ps1xml");
        var r = Run("Update-FormatData -AppendPath $format\n" +
            $"Watch-AhrvoCardBalance -CardId $card -Critical 50 -Low 250 -Once | Out-String -Width {width}", ("card", card), ("format", format));
        NoTerminating(r);
        var lines = string.Concat(r.Output.Select(o => o.ToString())).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80, $"'{l}' is {l.Length} wide"));
        Assert.Matches($@"{card}\s+42\.17 Critical\s+50\.00$", lines[2].TrimEnd());
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
        var card = await PlantAsync("1.00");
        var clock = new Stopwatch();
        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + "Watch-AhrvoCardBalance -CardId $card -Low 10 -Interval 00:10:00",
            Vars(("card", card)), whileRunning: ps =>
            {
                // Wait for the first pass to be answered, then press Ctrl+C during the 10-minute wait.
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (RequestsForAsync(card).GetAwaiter().GetResult() < 1 && DateTime.UtcNow < deadline) Thread.Sleep(20);
                Thread.Sleep(200);
                clock.Start();
                ps.Stop();
                clock.Stop();
            });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"Stop took {clock.Elapsed}.");
        Assert.IsType<PipelineStoppedException>(r.Terminating);
        Assert.Single(r.Output);
        Assert.Equal(1, await RequestsForAsync(card));
    }

    [Fact]
    public async Task Watch_until_the_first_alert_with_select_object_first()
    {
        var card = await PlantAsync("300.00");
        var clock = Stopwatch.StartNew();
        // No -Count: the watch would run forever; only Select-Object stopping the pipeline ends it.
        var r = Run(PlantBetweenPasses + """
            Watch-AhrvoCardBalance -CardId $card -Low 250 -Interval 1 -Verbose 4>&1 | ForEach-Object {
                if ($_ -is [System.Management.Automation.VerboseRecord]) { if ($_.Message -like 'Pass 1 finished*') { Set-Card $card '10.00' } } else { $_ }
            } | Select-Object -First 1
            """, ("card", card));
        NoTerminating(r);
        Assert.Equal(BalanceLevel.Low, Prop<BalanceLevel>(Assert.Single(r.Output), "Level"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Equal(2, await RequestsForAsync(card));
    }

    // ---- Compare-AhrvoCardBalance ---------------------------------------------------------------------

    [Fact]
    public async Task Compare_tolerance_edge_one_cent_is_matched_more_is_a_discrepancy()
    {
        var card = await PlantAsync("100.00");
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
        var card = await PlantAsync("10.00");
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
        var good = await PlantAsync("5.00");
        var off = await PlantAsync("7.00");
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
        var a = await PlantAsync("1468.87");
        var b = await PlantAsync("1.50");
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
        var good = await PlantAsync("1.00");
        var r = Run("""
            [pscustomobject]@{ CardId = '   '; ExpectedBalance = 1 }, [pscustomobject]@{ CardId = $good; ExpectedBalance = 1 } | Compare-AhrvoCardBalance
            """, ("good", good));
        NoTerminating(r);
        Assert.Equal(good, Prop<string>(Assert.Single(r.Output), "CardId"));
        Assert.StartsWith("ParameterArgumentValidationError", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Compare_with_no_input_emits_nothing()
    {
        var r = Run("@() | Compare-AhrvoCardBalance");
        NoTerminating(r);
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors);
    }

    // ---- Measure-AhrvoCardBalance ---------------------------------------------------------------------

    [Fact]
    public async Task Measure_summarizes_piped_balances_without_a_second_query()
    {
        var ids = new List<string>();
        foreach (var b in new[] { "1468.87", "2500.00", "850.50", "42.17", "7.05", "5000.00", "-3.00" }) ids.Add(await PlantAsync(b));
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
        foreach (var id in ids) Assert.Equal(1, await RequestsForAsync(id));
    }

    [Fact]
    public async Task Measure_with_card_ids_lists_failures_and_writes_their_errors()
    {
        var a = await PlantAsync("100.00");
        var unknown = NewCardId();
        var b = await PlantAsync("300.00");
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
    }

    [Fact]
    public async Task Measure_counts_error_records_merged_with_2_to_1_as_failed_cards()
    {
        var a = await PlantAsync("1.00");
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
        var a = await PlantAsync("10.50");
        var b = await PlantAsync("600.00");
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
            Assert.Equal(1, await RequestsForAsync(a));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Measure_view_draws_the_distribution_as_bars()
    {
        var format = Path.Combine(RepoRoot(), "module", "Ahrvo.PowerShell.Format.ps1xml");
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

    // ---- Export-AhrvoBalanceReport ---------------------------------------------------------------------

    private static string NewTempDir() => Directory.CreateTempSubdirectory("ahrvo-report-").FullName;

    [Fact]
    public async Task Export_writes_the_report_relative_to_the_powershell_location()
    {
        var high = await PlantAsync("2500.00");
        var low = await PlantAsync("42.17");
        var unknown = NewCardId();
        var dir = NewTempDir();
        try
        {
            var r = Run("""
                Set-Location -LiteralPath $dir
                Get-AhrvoCardBalance $low, $unknown, $high -ErrorAction SilentlyContinue | Export-AhrvoBalanceReport -Path report.html -PassThru
                """, ("dir", dir), ("low", low), ("high", high), ("unknown", unknown));
            NoTerminating(r);
            var file = Assert.IsType<FileInfo>(Assert.Single(r.Output).BaseObject);
            Assert.Equal(Path.Combine(dir, "report.html"), file.FullName);
            var html = File.ReadAllText(file.FullName);
            Assert.Matches($"<tr data-card-id=\"{high}\">", html);
            Assert.Matches($"<tr data-card-id=\"{low}\" class=\"low\">", html);
            Assert.True(html.IndexOf(high, StringComparison.Ordinal) < html.IndexOf(low, StringComparison.Ordinal), "sorted by balance, highest first");
            Assert.Contains("id=\"total-balance\">2,542.17<", html);
            Assert.DoesNotContain(unknown, html); // piped without 2>&1: Export never saw that card
            Assert.Equal(new[] { "report.html" }, Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Export_with_card_ids_lists_failed_cards()
    {
        var a = await PlantAsync("99.99");
        var unknown = NewCardId();
        var dir = NewTempDir();
        try
        {
            var path = Path.Combine(dir, "r.html");
            var r = Run("Export-AhrvoBalanceReport -CardId $a, $unknown -Path $path -LowBalanceThreshold 99.99", ("a", a), ("unknown", unknown), ("path", path));
            NoTerminating(r);
            Assert.Single(r.Errors);
            var html = File.ReadAllText(path);
            Assert.Contains($"<li><code>{unknown}</code>: Card &#39;{unknown}&#39; was not found", html);
            Assert.Contains("id=\"failed-cards\">1<", html);
            // Strictly below the threshold is low: 99.99 is not below 99.99.
            Assert.Contains($"<tr data-card-id=\"{a}\">", html);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Export_refuses_to_overwrite_without_force_before_any_query()
    {
        var a = await PlantAsync("1.00");
        var dir = NewTempDir();
        try
        {
            var path = Path.Combine(dir, "r.html");
            File.WriteAllText(path, "finance's old report");
            var r = Run(Try("Export-AhrvoBalanceReport -CardId $a -Path $path"), ("a", a), ("path", path));
            var error = TerminatingRecord(r);
            Assert.Equal("Ahrvo.ReportFileExists,Ahrvo.PowerShell.Cmdlets.ExportAhrvoBalanceReportCommand", error.FullyQualifiedErrorId);
            Assert.Contains("-Force", error.Exception.Message);
            Assert.Equal("finance's old report", File.ReadAllText(path));
            Assert.Equal(0, await RequestsForAsync(a));

            var forced = Run("Export-AhrvoBalanceReport -CardId $a -Path $path -Force", ("a", a), ("path", path));
            NoTerminating(forced);
            Assert.Contains(a, File.ReadAllText(path));
            Assert.Equal(new[] { "r.html" }, Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Export_whatif_writes_nothing_and_reads_no_card()
    {
        var a = await PlantAsync("1.00");
        var dir = NewTempDir();
        try
        {
            var path = Path.Combine(dir, "r.html");
            var r = Run("Export-AhrvoBalanceReport -CardId $a -Path $path -WhatIf -PassThru", ("a", a), ("path", path));
            NoTerminating(r);
            Assert.Empty(r.Output);
            Assert.False(File.Exists(path));
            Assert.Empty(Directory.GetFiles(dir));
            Assert.Equal(0, await RequestsForAsync(a));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Export_reports_a_missing_directory_and_a_directory_path_clearly()
    {
        var dir = NewTempDir();
        try
        {
            var missing = PowerShellHost.Run(Try("@() | Export-AhrvoBalanceReport -Path (Join-Path $dir 'no/such/r.html')"), new Dictionary<string, object?> { ["dir"] = dir });
            Assert.StartsWith("Ahrvo.ReportDirectoryNotFound", TerminatingRecord(missing).FullyQualifiedErrorId);
            var isDir = PowerShellHost.Run(Try("@() | Export-AhrvoBalanceReport -Path $dir"), new Dictionary<string, object?> { ["dir"] = dir });
            Assert.StartsWith("Ahrvo.ReportPathIsDirectory", TerminatingRecord(isDir).FullyQualifiedErrorId);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Export_of_nothing_writes_a_report_saying_so_and_encodes_the_title()
    {
        var dir = NewTempDir();
        try
        {
            var path = Path.Combine(dir, "r.html");
            var r = PowerShellHost.Run("@() | Export-AhrvoBalanceReport -Path $path -Title '<b>Q3</b> & co'", new Dictionary<string, object?> { ["path"] = path });
            NoTerminating(r);
            var html = File.ReadAllText(path);
            Assert.Contains("<h1>&lt;b&gt;Q3&lt;/b&gt; &amp; co</h1>", html);
            Assert.Contains("No balance data available", html);
        }
        finally { Directory.Delete(dir, true); }
    }

    // ---- the shared bulk path ------------------------------------------------------------------------

    [Fact]
    public async Task A_run_longer_than_a_second_shows_progress_without_failing()
    {
        // Regression: the first progress update computed Elapsed - TimeSpan.MinValue and overflowed.
        var ids = new List<string>();
        for (int i = 0; i < 6; i++) ids.Add(await PlantAsync("1.00"));
        await _emu.SetConfigAsync(new { latencyMs = 300 });
        try
        {
            var r = Run("Measure-AhrvoCardBalance -CardId $ids -ThrottleLimit 1", ("ids", ids.ToArray()));
            NoTerminating(r);
            Assert.Empty(r.Errors);
            Assert.Equal(6, Prop<int>(Assert.Single(r.Output), "Count"));
            Assert.Contains(r.Progress, p => p.StatusDescription.Contains("of 6 cards"));
            Assert.Contains(r.Progress, p => p.RecordType == ProgressRecordType.Completed);
        }
        finally { await _emu.SetConfigAsync(new { latencyMs = 0 }); }
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Ahrvo.PowerShell.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Ahrvo.PowerShell.sln not found above " + AppContext.BaseDirectory);
    }
}
