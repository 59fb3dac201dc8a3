using System.Management.Automation;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>
/// Issue 22, 1: what becomes a card id. Rows, hashtables and other objects are never turned into
/// text and sent: only strings and objects with a recognised id property are card ids; the rest is
/// refused before any request (the emulator's stats prove none went out), and the audit log holds
/// card ids only.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class CardIdInputTests(EmulatorFixture fx, ITestOutputHelper log) : EmulatorTestWithTempDir(fx)
{
    private const string Good = EmulatorFixture.Sample;     // 1468.87
    private const string Low = "card201907021723076248";    // 42.17
    private const string Owner = "alice-the-cardholder";

    private string Audit => Path.Combine(Dir, "audit.jsonl");

    private ScriptResult Run(string script) =>
        PowerShellHost.Run(EmulatorFixtureBase.Connect("-MaxRetries 0 -AuditLogPath $audit") + script, fx.Variables(("audit", Audit), ("dir", Dir)));

    private string Csv(string name, string text)
    {
        var path = Path.Combine(Dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static IEnumerable<string> Ids(ScriptResult r) => r.Output.Select(o => o.BaseObject switch
    {
        CardBalance b => b.CardId,
        BalanceCheck c => c.CardId,
        _ => o.ToString(),
    });

    /// <summary>The audit log holds exactly these card ids, and nothing of the rows they came from.</summary>
    private void AuditHoldsOnly(params string[] ids)
    {
        var lines = File.Exists(Audit) ? File.ReadAllLines(Audit) : Array.Empty<string>();
        var logged = lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("cardId").GetString()).ToArray();
        Assert.Equal(ids.OrderBy(x => x), logged.OrderBy(x => x));
        Assert.DoesNotContain(Owner, string.Join("\n", lines));
    }

    [Fact]
    public async Task A_csv_with_a_Card_ID_header_reads_the_ids_and_sends_nothing_else()
    {
        var csv = Csv("cards.csv", $"Card ID,owner\n{Good},{Owner}\n{Low},{Owner}\n");
        var r = Run("Import-Csv $dir/cards.csv | Get-AhrvoCardBalance");
        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { Good, Low }, Ids(r));
        var stats = await fx.Emulator.GetStatsAsync();
        Assert.Equal(new[] { Good, Low }.OrderBy(x => x), stats.RequestsPerCard.Keys.OrderBy(x => x));
        AuditHoldsOnly(Good, Low);
    }

    [Fact]
    public async Task Every_spelling_of_the_id_column_is_recognised_in_rows_and_hashtables()
    {
        // A sweep over how users write the header: case, spaces, '_', '-', '.', blanks around it, a BOM.
        var spellings = new[]
        {
            "card_id", "CardId", "Card ID", "card-id", "CARD_ID", "Card-Id", "cardid", "card id", "Card_Id", "card.id",
            " card_id", "card_id ", "Card  ID", "\uFEFFcard_id", "Id", "ID", "id", " Id ",
        };
        var lines = new List<string>();
        foreach (var s in spellings)
        {
            var name = "'" + s.Replace("'", "''") + "'";
            lines.Add($"[pscustomobject]@{{ {name} = '{Good}'; owner = '{Owner}' }}");
            lines.Add($"@{{ {name} = '{Good}'; owner = '{Owner}' }}");
            lines.Add($"([ordered]@{{ {name} = '{Good}'; owner = '{Owner}' }})");
        }
        var r = Run("$inputs = @(\n" + string.Join(",\n", lines) + "\n)\n$inputs | Get-AhrvoCardBalance");
        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(spellings.Length * 3, r.Output.Count);
        Assert.All(Ids(r), id => Assert.Equal(Good, id));
        var stats = await fx.Emulator.GetStatsAsync();
        Assert.Equal(new[] { Good }, stats.RequestsPerCard.Keys);
        AuditHoldsOnly(Enumerable.Repeat(Good, spellings.Length * 3).ToArray());
    }

    [Theory]
    [InlineData("card,owner\n{0},{1}\n", "'card'", "-CardIdProperty 'card'")]
    [InlineData("card_id;owner\n{0};{1}\n", "'card_id;owner'", "-Delimiter")]
    [InlineData("number,owner\n{0},{1}\n", "'number', 'owner'", "-CardIdProperty 'number'")]
    public async Task A_row_without_a_recognised_id_column_is_refused_before_any_request(string text, string columns, string hint)
    {
        Csv("cards.csv", string.Format(text, Good, Owner));
        var r = Run("Import-Csv $dir/cards.csv | Get-AhrvoCardBalance");
        NoTerminating(r);
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("Ahrvo.NoCardId", ErrorId(e));
        Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.Contains(columns, e.Exception.Message);               // names the columns it found
        Assert.Contains(hint, e.ErrorDetails.RecommendedAction);     // and how to map them
        Assert.DoesNotContain(Owner, e.Exception.Message);            // never a value of the row
        Assert.Contains("Nothing was sent", e.Exception.Message);
        log.WriteLine(e.Exception.Message);
        Assert.Equal(0, (await fx.Emulator.GetStatsAsync()).TotalRequests);
        AuditHoldsOnly();
    }

    [Fact]
    public async Task Anything_that_is_neither_a_string_nor_holds_an_id_is_refused_by_every_card_cmdlet()
    {
        // Each line gives one input that is not a card id; no cmdlet may turn it into text and send it.
        var inputs = $"@{{ owner = '{Owner}' }}, [pscustomobject]@{{ name = '{Owner}' }}, 42, (Get-Date), [pscustomobject]@{{ CardId = @{{ x = '{Owner}' }} }}";
        var scripts = new[]
        {
            $"{inputs} | Get-AhrvoCardBalance",
            $"{inputs} | ForEach-Object {{ [pscustomobject]@{{ row = $_; Amount = 5 }} }} | Test-AhrvoCardBalance",
            $"{inputs} | Watch-AhrvoCardBalance -Once -Critical 10",
            $"Get-AhrvoCardBalance -CardId ({inputs})",
            $"Measure-AhrvoCardBalance -CardId ({inputs})",
            $"Export-AhrvoBalanceReport -Path $dir/r.html -Force -CardId ({inputs})",
            $"Export-AhrvoBalanceMetric -Path $dir/m.prom -CardId ({inputs})",
        };
        foreach (var script in scripts)
        {
            var r = Run(script);
            NoTerminating(r);
            Assert.True(r.Errors.Count >= 5, script + ": " + r.Errors.Count + " errors");
            Assert.All(r.Errors.Take(5), e => Assert.True(ErrorId(e) is "Ahrvo.NoCardId" or "Ahrvo.InvalidCard", script + ": " + e.FullyQualifiedErrorId));
            Assert.DoesNotContain(Owner, r.AllText());
        }
        Assert.Equal(0, (await fx.Emulator.GetStatsAsync()).TotalRequests);
        AuditHoldsOnly();
    }

    [Fact]
    public async Task CardIdProperty_names_the_column_on_every_card_cmdlet()
    {
        Csv("cards.csv", $"card,owner\n{Good},{Owner}\n");
        var r = Run("""
            Import-Csv $dir/cards.csv | Get-AhrvoCardBalance -CardIdProperty card
            Import-Csv $dir/cards.csv | Select-Object *, @{ Name = 'Amount'; Expression = { 10 } } | Test-AhrvoCardBalance -CardIdProperty card
            Import-Csv $dir/cards.csv | Watch-AhrvoCardBalance -Once -Critical 5000 -CardIdProperty card
            (Measure-AhrvoCardBalance -CardId (Import-Csv $dir/cards.csv) -CardIdProperty card).Count
            """);
        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(Good, ((CardBalance)r.Output[0].BaseObject).CardId);
        Assert.Equal(true, r.Output[1].BaseObject);
        Assert.Equal(Good, ((BalanceAlert)r.Output[2].BaseObject).CardId);
        Assert.Equal(1, r.Output[3].BaseObject);
        Assert.Equal(4, (await fx.Emulator.GetStatsAsync()).RequestsPerCard[Good]);
    }

    [Fact]
    public async Task White_space_around_an_id_is_trimmed_and_said_under_Verbose_never_sent()
    {
        Csv("cards.csv", $"card_id,Amount\n\" {Good}\t\",1\n");
        var r = Run($$"""
            "{{Low}}  " | Get-AhrvoCardBalance -Verbose
            [pscustomobject]@{ CardId = "`u{00A0}{{Good}}" } | Get-AhrvoCardBalance -Verbose
            Import-Csv $dir/cards.csv | Test-AhrvoCardBalance -Verbose
            Get-AhrvoCardBalance -CardId " {{Low}}" -Verbose
            """);
        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { Low, Good, "True", Low }, Ids(r));
        Assert.Equal(4, r.Verbose.Count(v => v.Contains("has white space around it")));
        var stats = await fx.Emulator.GetStatsAsync();
        Assert.Equal(new[] { Good, Low }.OrderBy(x => x), stats.RequestsPerCard.Keys.OrderBy(x => x)); // as the server decoded them
        AuditHoldsOnly(Low, Good, Good, Low);
    }

    [Fact]
    public async Task Compare_reads_the_usual_header_spellings_trims_and_sends_nothing_for_a_row_without_an_id()
    {
        Csv("ledger.csv", $"Card ID,balance,owner\n\" {Good} \",1468.87,{Owner}\n");
        Csv("other.csv", $"card-id,balance\n{Low},42.17\n");
        Csv("bad.csv", $"number,balance,owner\n{Good},1,{Owner}\n");
        var r = Run("""
            (Import-Csv $dir/ledger.csv | Compare-AhrvoCardBalance -Verbose).Status
            (Import-Csv $dir/other.csv | Compare-AhrvoCardBalance).Status
            Import-Csv $dir/bad.csv | Compare-AhrvoCardBalance
            """);
        NoTerminating(r);
        Assert.Equal(new[] { "Matched", "Matched" }, r.Output.Select(o => o.ToString()));
        Assert.Contains(r.Verbose, v => v.Contains("has white space around it"));
        // Refused as the other cmdlets refuse it, not by PowerShell's binder: the columns found and how to map one.
        var error = Assert.Single(r.Errors);
        Assert.StartsWith("Ahrvo.NoCardId", error.FullyQualifiedErrorId);
        foreach (var column in new[] { "'number'", "'balance'", "'owner'" }) Assert.Contains(column, error.ErrorDetails.Message);
        Assert.Contains("-CardIdProperty 'number' to Compare-AhrvoCardBalance", error.ErrorDetails.RecommendedAction);
        Assert.DoesNotContain(Owner, r.AllText());
        var stats = await fx.Emulator.GetStatsAsync();
        Assert.Equal(new[] { Good, Low }.OrderBy(x => x), stats.RequestsPerCard.Keys.OrderBy(x => x));
        AuditHoldsOnly(Good, Low);
    }

    [Fact]
    public async Task Compare_reads_the_column_named_by_CardIdProperty_and_keeps_its_amounts_strict()
    {
        Csv("semi.csv", $"Card No;expected\n{Good};1468.87\n{Low};\"42,17\"\n");
        var r = Run("""
            Import-Csv $dir/semi.csv -Delimiter ';' | Compare-AhrvoCardBalance -CardIdProperty 'card no' | ForEach-Object { "$($_.CardId) $($_.Status)" }
            """);
        NoTerminating(r);
        // The decimal comma is refused for its row (never read as 4217), and nothing is sent for that row.
        Assert.Equal(new[] { $"{Good} Matched" }, r.Output.Select(o => o.ToString()));
        var error = Assert.Single(r.Errors);
        Assert.Contains("42,17", error.ToString());
        var stats = await fx.Emulator.GetStatsAsync();
        Assert.Equal(new[] { Good }, stats.RequestsPerCard.Keys);
        AuditHoldsOnly(Good);
    }

    [Fact]
    public void Objects_that_carry_a_CardId_still_flow_from_cmdlet_to_cmdlet()
    {
        // CardBalance, BalanceAlert and Import-Csv of an Export-Csv: their CardId property is the id.
        var r = Run($$"""
            $b = Get-AhrvoCardBalance {{Good}}
            ($b | Get-AhrvoCardBalance).CardId
            $b | Export-Csv $dir/out.csv -NoTypeInformation
            (Import-Csv $dir/out.csv | Get-AhrvoCardBalance).CardId
            """);
        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { Good, Good }, r.Output.Select(o => o.ToString()));
    }

    [Fact]
    public async Task An_export_whose_inputs_were_all_refused_leaves_the_previous_file_untouched()
    {
        var prom = Path.Combine(Dir, "x.prom");
        var html = Path.Combine(Dir, "x.html");
        File.WriteAllText(prom, "previous good metrics\n");
        File.WriteAllText(html, "previous good report\n");
        Csv("cards.csv", $"card_id,owner\n{Good},{Owner}\n{Low},{Owner}\n");
        var r = Run("""
            Import-Csv $dir/cards.csv | Export-AhrvoBalanceMetric -Path $dir/x.prom
            Import-Csv $dir/cards.csv | Export-AhrvoBalanceReport -Path $dir/x.html -Force
            @() | Export-AhrvoBalanceMetric -Path $dir/x.prom
            """);
        NoTerminating(r);
        Assert.Equal("previous good metrics\n", File.ReadAllText(prom));
        Assert.Equal("previous good report\n", File.ReadAllText(html));
        var ids = r.Errors.Select(ErrorId).ToList();
        Assert.Equal(new[] { "Ahrvo.UnsupportedInput", "Ahrvo.UnsupportedInput", "Ahrvo.NothingToExport",
            "Ahrvo.UnsupportedInput", "Ahrvo.UnsupportedInput", "Ahrvo.NothingToExport", "Ahrvo.NothingToExport" }, ids);
        Assert.Contains("left untouched", r.Errors[2].Exception.Message);
        Assert.Contains("None of the 2 inputs", r.Errors[2].Exception.Message);
        Assert.Equal(0, (await fx.Emulator.GetStatsAsync()).TotalRequests);
    }

    [Fact]
    public void Refused_input_counts_as_failed_in_the_metrics_and_the_report()
    {
        var r = Run($$"""
            $rows = [pscustomobject]@{ owner = 'x' }, [pscustomobject]@{ owner = 'y' }
            @(Get-AhrvoCardBalance {{Good}}) + $rows | Export-AhrvoBalanceMetric -Path $dir/m.prom
            Export-AhrvoBalanceReport -Path $dir/r.html -CardId (@('{{Low}}') + $rows)
            """);
        NoTerminating(r);
        var metrics = File.ReadAllText(Path.Combine(Dir, "m.prom"));
        Assert.Contains("\nahrvo_cards_read 1\n", metrics);
        Assert.Contains("\nahrvo_cards_failed 2\n", metrics);
        Assert.Contains("\nahrvo_inputs_refused 2\n", metrics);
        var report = File.ReadAllText(Path.Combine(Dir, "r.html"));
        Assert.Contains("id=\"failed-cards\">2<", report);
        Assert.Contains("input without a card id", report);
    }
}
