using System.Management.Automation;
using System.Text;
using Ahrvo.PowerShell.Metrics;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;
using static Ahrvo.PowerShell.Tests.Support.EmulatorFixtureBase;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Export-AhrvoBalanceMetric, hosted, against the emulator: the file it writes and when it writes none.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class ExportAhrvoBalanceMetricCommandTests(EmulatorFixture fx) : IAsyncLifetime
{
    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private ScriptResult Run(string script, params (string Name, object? Value)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    [Fact]
    public async Task Writes_utf8_without_bom_lf_and_owner_only_and_leaves_no_temporary_file()
    {
        var good = await fx.PlantAsync("1468.87");
        var unknown = NewCardId();
        var dir = NewTempDir("ahrvo-metrics-");
        try
        {
            var path = Path.Combine(dir, "ahrvo.prom");
            File.WriteAllText(path, "old\r\n"); // replaced without -Force: the file is rewritten on each run
            var r = Run("Export-AhrvoBalanceMetric -CardId $good, $unknown -Path $path -Critical 50 -PassThru", ("good", good), ("unknown", unknown), ("path", path));
            NoTerminating(r);
            var error = Assert.Single(r.Errors);
            Assert.StartsWith("Ahrvo.CardNotFound", error.FullyQualifiedErrorId);
            Assert.Equal(path, Assert.IsType<FileInfo>(Assert.Single(r.Output).BaseObject).FullName);
            Assert.Empty(r.Warning);

            var bytes = File.ReadAllBytes(path);
            Assert.NotEqual(0xEF, bytes[0]); // no BOM
            var text = new UTF8Encoding(false, true).GetString(bytes);
            Assert.StartsWith("# HELP ", text);
            Assert.DoesNotContain("\r", text);
            Assert.EndsWith("\n", text);
            Assert.Contains($"ahrvo_card_available_balance{{card_id=\"{good}\",currency=\"USD\"}} 1468.87\n", text);
            Assert.Contains($"ahrvo_card_read_ok{{card_id=\"{unknown}\"}} 0\n", text);
            Assert.DoesNotContain($"ahrvo_card_available_balance{{card_id=\"{unknown}\"", text);
            Assert.Contains($"ahrvo_card_balance_level{{card_id=\"{good}\"}} 0\n", text);
            Assert.Matches(@"\nahrvo_requests_total [1-9]\d*\n", text);
            Assert.Equal(new[] { "ahrvo.prom" }, Directory.GetFiles(dir).Select(Path.GetFileName));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Pipeline_input_under_de_DE_with_errors_merged_and_mixed_currencies()
    {
        var good = await fx.PlantAsync("1234.50");
        var unknown = NewCardId();
        var dir = NewTempDir("ahrvo-metrics-");
        try
        {
            var path = Path.Combine(dir, "ahrvo.prom");
            var r = Run("""
                [cultureinfo]::CurrentCulture = 'de-DE'
                $euro = [Ahrvo.PowerShell.CardBalance]::new("we`"ird\id`nx", $null, [decimal]'0.5', 'EUR', [DateTimeOffset]::UtcNow)
                @(Get-AhrvoCardBalance $good, $unknown 2>&1) + $euro | Export-AhrvoBalanceMetric -Path $path
                """, ("good", good), ("unknown", unknown), ("path", path));
            NoTerminating(r);
            Assert.Empty(r.Errors); // merged with 2>&1: counted as failed, not written again
            Assert.Empty(r.Warning); // mixed currencies are fine: each sample has its currency
            var text = File.ReadAllText(path);
            Assert.Contains($"ahrvo_card_available_balance{{card_id=\"{good}\",currency=\"USD\"}} 1234.50\n", text);
            Assert.Contains("ahrvo_card_available_balance{card_id=\"we\\\"ird\\\\id\\nx\",currency=\"EUR\"} 0.5\n", text);
            Assert.Contains($"ahrvo_card_read_ok{{card_id=\"{unknown}\"}} 0\n", text);
            Assert.Contains("ahrvo_cards_read 2\n", text);
            Assert.Contains("ahrvo_cards_failed 1\n", text);
            Assert.DoesNotMatch(@"\d,\d", text);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task A_card_that_fails_later_keeps_its_last_success_time_and_loses_its_balance()
    {
        var card = await fx.PlantAsync("10.00");
        var dir = NewTempDir("ahrvo-metrics-");
        try
        {
            var path = Path.Combine(dir, "ahrvo.prom");
            NoTerminating(Run("Export-AhrvoBalanceMetric -CardId $card -Path $path", ("card", card), ("path", path)));
            var before = BalanceMetrics.ReadLastSuccess(File.ReadAllText(path))[card];
            await fx.Emulator.DeleteCardAsync(card);
            var r = Run("Export-AhrvoBalanceMetric -CardId $card -Path $path -ErrorAction SilentlyContinue", ("card", card), ("path", path));
            NoTerminating(r);
            var text = File.ReadAllText(path);
            Assert.Contains($"ahrvo_card_last_success_timestamp_seconds{{card_id=\"{card}\"}} {before}\n", text);
            Assert.Contains($"ahrvo_card_read_ok{{card_id=\"{card}\"}} 0\n", text);
            Assert.DoesNotContain("ahrvo_card_available_balance", text);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task WhatIf_and_bad_thresholds_read_no_card_and_write_nothing()
    {
        var card = await fx.PlantAsync("1.00");
        var dir = NewTempDir("ahrvo-metrics-");
        try
        {
            var path = Path.Combine(dir, "ahrvo.prom");
            var whatIf = Run("Export-AhrvoBalanceMetric -CardId $card -Path $path -WhatIf -PassThru", ("card", card), ("path", path));
            NoTerminating(whatIf);
            Assert.Empty(whatIf.Output);
            var bad = Run("try { Export-AhrvoBalanceMetric -CardId $card -Path $path -Critical 100 -Warning 50 } catch { $_ }", ("card", card), ("path", path));
            NoTerminating(bad);
            var error = Assert.IsType<ErrorRecord>(Assert.Single(bad.Output).BaseObject);
            Assert.StartsWith("Ahrvo.InvalidThresholds", error.FullyQualifiedErrorId);
            Assert.Empty(Directory.GetFiles(dir));
            var stats = await fx.Emulator.GetStatsAsync(0);
            Assert.False(stats.RequestsPerCard.ContainsKey(card));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_name_the_collector_would_skip_gets_a_warning()
    {
        var dir = NewTempDir("ahrvo-metrics-");
        try
        {
            var r = PowerShellHost.Run("[Ahrvo.PowerShell.CardBalance]::new('card1', $null, 1.5, 'USD', [DateTimeOffset]::UtcNow) | Export-AhrvoBalanceMetric -Path (Join-Path $dir 'ahrvo.txt')", new Dictionary<string, object?> { ["dir"] = dir });
            NoTerminating(r);
            Assert.Contains(r.Warning, w => w.Contains(".prom"));
            Assert.Contains("\nahrvo_cards_read 1\n", File.ReadAllText(Path.Combine(dir, "ahrvo.txt"))); // written all the same
        }
        finally { Directory.Delete(dir, true); }
    }
}
