using System.Management.Automation;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;
using static Ahrvo.PowerShell.Tests.Support.EmulatorFixtureBase;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Export-AhrvoBalanceReport, hosted, against the emulator: where the file goes, what it says, when it is refused.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class ExportAhrvoBalanceReportCommandTests(EmulatorFixture fx) : IAsyncLifetime
{
    private const string Sample = EmulatorFixture.Sample; // the spec's card: 1468.87

    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private ScriptResult Run(string script, params (string Name, object? Value)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    [Fact]
    public async Task Export_writes_the_report_relative_to_the_powershell_location()
    {
        var high = await fx.PlantAsync("2500.00");
        var low = await fx.PlantAsync("42.17");
        var unknown = NewCardId();
        var dir = NewTempDir("ahrvo-report-");
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
        var a = await fx.PlantAsync("99.99");
        var unknown = NewCardId();
        var dir = NewTempDir("ahrvo-report-");
        try
        {
            var path = Path.Combine(dir, "r.html");
            var r = Run("Export-AhrvoBalanceReport -CardId $a, $unknown -Path $path -LowBalanceThreshold 99.99", ("a", a), ("unknown", unknown), ("path", path));
            NoTerminating(r);
            Assert.Single(r.Errors);
            var html = File.ReadAllText(path);
            Assert.Contains($"<li><code>{unknown}</code>: Card &#39;{unknown}&#39; was not found", html);
            // The reason says what to do too, as the error record of the same card does.
            Assert.Contains(System.Net.WebUtility.HtmlEncode(r.Errors[0].Exception.Message), html);
            Assert.Contains("Verify the card id", html);
            Assert.Contains("id=\"failed-cards\">1<", html);
            // Strictly below the threshold is low: 99.99 is not below 99.99.
            Assert.Contains($"<tr data-card-id=\"{a}\">", html);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Export_refuses_to_overwrite_without_force_before_any_query()
    {
        var a = await fx.PlantAsync("1.00");
        var dir = NewTempDir("ahrvo-report-");
        try
        {
            var path = Path.Combine(dir, "r.html");
            File.WriteAllText(path, "finance's old report");
            var r = Run(Try("Export-AhrvoBalanceReport -CardId $a -Path $path"), ("a", a), ("path", path));
            var error = TerminatingRecord(r);
            Assert.Equal("Ahrvo.ReportFileExists,Ahrvo.PowerShell.Cmdlets.ExportAhrvoBalanceReportCommand", error.FullyQualifiedErrorId);
            Assert.Contains("-Force", error.Exception.Message);
            Assert.Equal("finance's old report", File.ReadAllText(path));
            Assert.Equal(0, await fx.RequestsForAsync(a));

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
        var a = await fx.PlantAsync("1.00");
        var dir = NewTempDir("ahrvo-report-");
        try
        {
            var path = Path.Combine(dir, "r.html");
            var r = Run("Export-AhrvoBalanceReport -CardId $a -Path $path -WhatIf -PassThru", ("a", a), ("path", path));
            NoTerminating(r);
            Assert.Empty(r.Output);
            Assert.False(File.Exists(path));
            Assert.Empty(Directory.GetFiles(dir));
            Assert.Equal(0, await fx.RequestsForAsync(a));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Export_reports_a_missing_directory_and_a_directory_path_clearly()
    {
        var dir = NewTempDir("ahrvo-report-");
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
    public void Export_of_nothing_leaves_the_file_alone_and_a_failed_card_alone_is_a_report_with_the_title_encoded()
    {
        var dir = NewTempDir("ahrvo-report-");
        try
        {
            // Nothing came in: no report, the previous file untouched, and an error says so (issue 22).
            var path = Path.Combine(dir, "r.html");
            File.WriteAllText(path, "previous");
            var r = PowerShellHost.Run("@() | Export-AhrvoBalanceReport -Path $path -Title '<b>Q3</b> & co' -Force", new Dictionary<string, object?> { ["path"] = path });
            NoTerminating(r);
            Assert.Equal("previous", File.ReadAllText(path));
            Assert.Equal("Ahrvo.NothingToExport", ErrorId(Assert.Single(r.Errors)));
            // Only a card that failed: a report that says no balance is available, and lists the card.
            var failed = PowerShellHost.Run("""
                $e = [System.Management.Automation.ErrorRecord]::new([Exception]::new('down'), 'Ahrvo.ServiceUnavailable', 'ConnectionError', 'card201907021723076245')
                $e | Export-AhrvoBalanceReport -Path $path -Title '<b>Q3</b> & co' -Force
                """, new Dictionary<string, object?> { ["path"] = path });
            NoTerminating(failed);
            Assert.Empty(failed.Errors);
            var html = File.ReadAllText(path);
            Assert.Contains("<h1>&lt;b&gt;Q3&lt;/b&gt; &amp; co</h1>", html);
            Assert.Contains("No balance data available", html);
            Assert.Contains("card201907021723076245", html);
        }
        finally { Directory.Delete(dir, true); }
    }
}
