using System.Globalization;
using System.Management.Automation;
using System.Text.Json.Nodes;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Watch-AhrvoCardBalance -StatePath, -Prune and -RepeatAfter, hosted, against the emulator.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class WatchAhrvoCardBalanceCommandStatePathTests(EmulatorFixture fx) : IAsyncLifetime
{
    private const string Watch = "Watch-AhrvoCardBalance -CardId $ids -Critical 50 -Low 250 -Once -StatePath $state";
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ahrvo-state-");

    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync()
    {
        _dir.Delete(recursive: true);
        return Task.CompletedTask;
    }

    private string State => Path.Combine(_dir.FullName, "state.json");

    private ScriptResult Run(string script, string[] ids) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(("ids", ids), ("state", State)));

    private async Task<string[]> PlantAsync(params string[] balances)
    {
        var ids = new string[balances.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = await fx.PlantAsync(balances[i]);
        return ids;
    }

    private JsonObject File_() => JsonNode.Parse(File.ReadAllText(State))!.AsObject();

    private JsonObject CardIn(JsonObject file, string id) => file["cards"]![id]!.AsObject();

    /// <summary>The alerts as "id Level Previous [repeat]".</summary>
    private static string[] Alerts(ScriptResult r) => r.Output.Select(o =>
        $"{Prop<string>(o, "CardId")} {Prop<BalanceLevel>(o, "Level")} {Prop<BalanceLevel?>(o, "PreviousLevel")?.ToString() ?? "-"}{(Prop<bool>(o, "IsRepeat") ? " repeat" : "")}").ToArray();

    private static void Clean(ScriptResult r)
    {
        Assert.True(r.Terminating == null, r.Terminating?.ToString());
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors));
    }

    [Fact]
    public async Task The_first_run_without_a_file_alerts_as_a_first_pass_does_and_saves_every_card()
    {
        var ids = await PlantAsync("300.00", "200.00", "10.00");
        var without = Run("Watch-AhrvoCardBalance -CardId $ids -Critical 50 -Low 250 -Once", ids);
        var with = Run(Watch, ids);
        Clean(with);
        Assert.Equal(new[] { $"{ids[1]} Low -", $"{ids[2]} Critical -" }, Alerts(with));
        Assert.Equal(Alerts(without), Alerts(with));

        var file = File_();
        Assert.Equal(1, (int)file["version"]!);
        Assert.Equal(3, file["cards"]!.AsObject().Count);
        Assert.Equal("Normal", (string)CardIn(file, ids[0])["level"]!);
        Assert.Equal("200.00", (string)CardIn(file, ids[1])["balance"]!);
        Assert.Equal("Critical", (string)CardIn(file, ids[2])["level"]!);
        Assert.NotNull(CardIn(file, ids[2])["lastAlertedAt"]);
        Assert.Null(CardIn(file, ids[0])["lastAlertedAt"]);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(State));
    }

    [Fact]
    public async Task A_second_run_with_the_same_balances_alerts_nothing()
    {
        var ids = await PlantAsync("300.00", "200.00", "10.00");
        Assert.Equal(2, Run(Watch, ids).Output.Count);
        var second = Run(Watch + " -Verbose", ids);
        Clean(second);
        Assert.Empty(second.Output);
        Assert.Contains(second.Verbose, v => v.Contains("3 cards") && v.Contains(State));
    }

    [Fact]
    public async Task A_level_change_since_the_last_run_alerts_once_with_the_saved_previous_level()
    {
        var ids = await PlantAsync("300.00", "200.00", "10.00");
        Run(Watch, ids);
        await fx.Emulator.PutCardAsync(ids[0], "250.00"); // Normal -> Low
        await fx.Emulator.PutCardAsync(ids[1], "40.00");  // Low -> Critical
        await fx.Emulator.PutCardAsync(ids[2], "5.00");   // Critical still: no alert, but the balance is kept
        var second = Run(Watch, ids);
        Clean(second);
        Assert.Equal(new[] { $"{ids[0]} Low Normal", $"{ids[1]} Critical Low" }, Alerts(second));
        Assert.Equal("5.00", (string)CardIn(File_(), ids[2])["balance"]!);
        Assert.Empty(Run(Watch, ids).Output);
    }

    [Fact]
    public async Task A_card_that_cannot_be_read_keeps_its_saved_level()
    {
        var ids = await PlantAsync("200.00", "300.00");
        Run(Watch, ids);
        var before = CardIn(File_(), ids[0]).ToJsonString();
        await fx.Emulator.DeleteCardAsync(ids[0]);
        var failed = Run(Watch, ids);
        Assert.Null(failed.Terminating);
        Assert.Equal("Ahrvo.CardNotFound", Assert.Single(failed.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(failed.Output);
        Assert.Equal(before, CardIn(File_(), ids[0]).ToJsonString());
        // Back at the same level: nothing to say; back to Normal: the change from the saved level.
        await fx.Emulator.PutCardAsync(ids[0], "200.00");
        Assert.Empty(Run(Watch, ids).Output);
        await fx.Emulator.PutCardAsync(ids[0], "900.00");
        Assert.Equal(new[] { $"{ids[0]} Normal Low" }, Alerts(Run(Watch, ids)));
    }

    [Fact]
    public async Task Cards_no_longer_watched_are_kept_unless_Prune()
    {
        var ids = await PlantAsync("200.00", "10.00");
        Run(Watch, ids);
        var onlyFirst = new[] { ids[0] };
        Clean(Run(Watch, onlyFirst));
        Assert.Equal(2, File_()["cards"]!.AsObject().Count);
        var pruned = Run(Watch + " -Prune -Verbose", onlyFirst);
        Clean(pruned);
        Assert.Equal(new[] { ids[0] }, File_()["cards"]!.AsObject().Select(p => p.Key));
        Assert.Contains(pruned.Verbose, v => v.Contains("1 no longer watched removed"));
        // The pruned card is new again: its next run alerts as a first sight.
        Assert.Equal(new[] { $"{ids[1]} Critical -" }, Alerts(Run(Watch, ids)));
    }

    [Fact]
    public void Prune_without_StatePath_is_refused()
    {
        var r = Run("try { Watch-AhrvoCardBalance -CardId card201907021723076245 -Low 1 -Once -Prune } catch { $_ }", Array.Empty<string>());
        var error = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.StartsWith("Ahrvo.PruneWithoutStatePath,", error.FullyQualifiedErrorId);
    }

    [Theory]
    [InlineData("{ \"version\": 1, \"cards\": { \"x\": ", "not valid JSON")]
    [InlineData("{ \"version\": 7, \"cards\": {} }", "version 7")]
    [InlineData("", "empty")]
    // A lone surrogate escape, which System.Text.Json parses but cannot turn into a string (issue 18).
    [InlineData("{ \"version\": 1, \"cards\": { \"card\\ud800\": {} } }", "not text")]
    public async Task A_corrupt_file_is_a_terminating_error_naming_the_file_and_no_card_is_read(string content, string reason)
    {
        var ids = await PlantAsync("10.00");
        File.WriteAllText(State, content);
        var r = Run("try {\n" + Watch + "\n} catch { $_ }", ids);
        var error = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.StartsWith("Ahrvo.StateFileInvalid,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Contains(State, error.Exception.Message);
        Assert.Contains(reason, error.Exception.Message);
        Assert.Contains("delete it", error.ErrorDetails.RecommendedAction);
        Assert.Equal(content, File.ReadAllText(State)); // never replaced by a fresh start
        var stats = await fx.Emulator.GetStatsAsync(0);
        Assert.False(stats.RequestsPerCard.ContainsKey(ids[0]), "the card was queried although the state file is broken");
    }

    // ---- At-least-once delivery: an alert is delivered when WriteObject returned for it ----------

    /// <summary>A delivery that fails for the cards in $fail: a webhook call that throws, as Invoke-RestMethod does.</summary>
    private const string Deliver = " | ForEach-Object { if ($fail -contains $_.CardId) { throw \"webhook down for $($_.CardId)\" }; \"sent $($_.CardId)\" }";

    private ScriptResult RunDelivering(string[] ids, params string[] fail) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + "try {\n" + Watch + Deliver + "\n} catch { \"failed: $_\" }",
            fx.Variables(("ids", ids), ("state", State), ("fail", fail)));

    [Fact]
    public async Task An_alert_whose_delivery_throws_is_alerted_again_by_the_next_run()
    {
        var ids = await PlantAsync("900.00", "900.00");
        Clean(Run(Watch, ids));
        foreach (var id in ids) await fx.Emulator.PutCardAsync(id, "10.00"); // both Normal -> Critical

        // The first delivery throws: the pipeline ends there, and neither alert was delivered.
        var failed = RunDelivering(ids, ids[0]);
        Assert.Equal(new[] { $"failed: webhook down for {ids[0]}" }, failed.Output.Select(o => o.ToString()));
        // The next run alerts 2 of 2, as the same change from the saved level.
        var next = Run(Watch, ids);
        Clean(next);
        Assert.Equal(new[] { $"{ids[0]} Critical Normal", $"{ids[1]} Critical Normal" }, Alerts(next));
        Assert.Empty(Run(Watch, ids).Output); // and, delivered, once only

        // The first delivered, the second fails: only the second is alerted again.
        foreach (var id in ids) await fx.Emulator.PutCardAsync(id, "200.00"); // Critical -> Low
        var half = RunDelivering(ids, ids[1]);
        Assert.Equal(new[] { $"sent {ids[0]}", $"failed: webhook down for {ids[1]}" }, half.Output.Select(o => o.ToString()));
        Assert.Equal("Low", (string)CardIn(File_(), ids[0])["level"]!);
        Assert.Equal("Critical", (string)CardIn(File_(), ids[1])["level"]!); // still the level last delivered
        var rest = Run(Watch, ids);
        Clean(rest);
        Assert.Equal(new[] { $"{ids[1]} Low Critical" }, Alerts(rest));
        Assert.Empty(Run(Watch, ids).Output);
    }

    [Fact]
    public async Task A_first_sight_alert_not_delivered_is_a_first_sight_again()
    {
        var ids = await PlantAsync("10.00", "200.00");
        var failed = RunDelivering(ids, ids[0], ids[1]);
        Assert.StartsWith("failed:", Assert.Single(failed.Output).ToString());
        var next = Run(Watch, ids);
        Clean(next);
        Assert.Equal(new[] { $"{ids[0]} Critical -", $"{ids[1]} Low -" }, Alerts(next));
    }

    [Fact]
    public async Task Ctrl_C_during_delivery_leaves_the_alerts_not_delivered_for_the_next_run()
    {
        var ids = await PlantAsync("10.00", "20.00");
        // The first alert reaches the output, then its delivery hangs (a webhook that does not answer): Ctrl+C.
        using (var run = PowerShellHost.Start(PowerShellHost.ConnectLine + Watch + " | ForEach-Object { $_; Start-Sleep -Seconds 3600 }",
            fx.Variables(("ids", ids), ("state", State))))
        {
            run.WaitForOutput(1);
            run.Stop();
        }
        // At least once: the alert whose delivery did not finish is sent again, and so is the one never started.
        var next = Run(Watch, ids);
        Clean(next);
        Assert.Equal(new[] { $"{ids[0]} Critical -", $"{ids[1]} Critical -" }, Alerts(next));
        Assert.Empty(Run(Watch, ids).Output);
    }

    [Fact]
    public async Task Select_Object_First_delivers_what_it_took_and_leaves_the_rest_for_the_next_run()
    {
        var ids = await PlantAsync("10.00", "20.00", "30.00");
        var first = Run(Watch + " | Select-Object -First 1", ids);
        Clean(first);
        Assert.Equal(new[] { $"{ids[0]} Critical -" }, Alerts(first));
        var next = Run(Watch, ids);
        Clean(next);
        Assert.Equal(new[] { $"{ids[1]} Critical -", $"{ids[2]} Critical -" }, Alerts(next));
    }

    [Fact]
    public async Task A_clock_stepped_back_or_another_machines_clock_never_silences_a_change()
    {
        var ids = await PlantAsync("200.00");
        Clean(Run(Watch, ids));
        // The file as a machine whose clock is two hours ahead wrote it (or as it was before this
        // machine's clock stepped back two hours): every time in it is later than this run's.
        var file = File_();
        var ahead = DateTimeOffset.UtcNow.AddHours(2).ToString("O", CultureInfo.InvariantCulture);
        file["savedAt"] = ahead;
        foreach (var name in new[] { "observedAt", "levelSince", "lastAlertedAt" }) CardIn(file, ids[0])[name] = ahead;
        File.WriteAllText(State, file.ToJsonString());

        await fx.Emulator.PutCardAsync(ids[0], "10.00"); // Low -> Critical
        var r = Run(Watch, ids);
        Clean(r);
        Assert.Equal(new[] { $"{ids[0]} Critical Low" }, Alerts(r));
        Assert.Equal("Critical", (string)CardIn(File_(), ids[0])["level"]!);
    }

    // ---- Files that cannot be written, and locks that cannot hold -----------------------------

    [LinuxFact("/sys/kernel is a folder that even root (as in CI) cannot create files in; a chmod'ed folder would not stop root")]
    public async Task A_state_path_in_a_folder_that_cannot_be_written_fails_at_once_saying_so_and_reads_no_card()
    {
        var ids = await PlantAsync("10.00");
        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + "try { Watch-AhrvoCardBalance -CardId $ids -Critical 50 -Once -StatePath /sys/kernel/ahrvo-state.json } catch { $_ }",
            fx.Variables(("ids", ids)));
        var error = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.StartsWith("Ahrvo.StateFileNotWritable,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.PermissionDenied, error.CategoryInfo.Category);
        Assert.Contains("the folder '/sys/kernel' cannot be written", error.Exception.Message);
        Assert.DoesNotContain("another run", error.Exception.Message);
        Assert.Contains("folder this user can write", error.ErrorDetails.RecommendedAction);
        // At once: before any request, so never after a 30 s wait for a lock no one holds.
        var stats = await fx.Emulator.GetStatsAsync(0);
        Assert.False(stats.RequestsPerCard.ContainsKey(ids[0]), "the card was queried although the state cannot be kept");
    }

    [Fact]
    public async Task A_lock_that_the_runtime_grants_without_holding_is_refused_not_trusted()
    {
        // DOTNET_SYSTEM_IO_DISABLEFILELOCKING makes .NET skip flock, exactly as a file system whose
        // flock fails (ENOLCK, EOPNOTSUPP) makes it go on without a lock: the open succeeds, and
        // nothing else would say that overlapping runs no longer take turns.
        var ids = await PlantAsync("10.00");
        const string script = """
            Import-Module $env:AHRVO_TEST_MODULE
            Connect-Ahrvo -BaseUri $env:T_URI | Out-Null
            try { Watch-AhrvoCardBalance -CardId $env:T_ID -Critical 50 -Once -StatePath $env:T_STATE; 'NO ERROR' }
            catch { "$($_.FullyQualifiedErrorId) | $($_.Exception.Message) | $($_.ErrorDetails.RecommendedAction)" }
            """;
        var r = await PwshProcess.RunAsync(script, new Dictionary<string, string?>
        {
            ["AHRVO_API_KEY"] = fx.Emulator.ApiKey, ["AHRVO_ACCESS_TOKEN"] = fx.Emulator.AccessToken, ["T_URI"] = fx.Emulator.BaseUri.ToString(),
            ["T_ID"] = ids[0], ["T_STATE"] = State, ["DOTNET_SYSTEM_IO_DISABLEFILELOCKING"] = "1",
        }, TimeSpan.FromMinutes(2));
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("Ahrvo.StateFileLockUnsupported,", r.StdOut);
        Assert.Contains("DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1", r.StdOut);
        Assert.Contains("saved nothing and alerted nothing", r.StdOut);
        Assert.DoesNotContain("NO ERROR", r.StdOut);
        Assert.False(File.Exists(State), "the state was saved without a lock");
        // Found before any request: the lock is tried once when the command starts.
        Assert.False((await fx.Emulator.GetStatsAsync(0)).RequestsPerCard.ContainsKey(ids[0]), "the card was queried although the lock cannot hold");
    }

    [Fact]
    public async Task RepeatAfter_alerts_again_for_a_card_still_below_normal_marked_as_a_repeat()
    {
        var ids = await PlantAsync("200.00", "10.00", "900.00");
        Run(Watch, ids);
        // As if the last alerts were two hours ago (no waiting): the file says when each card last alerted.
        void AlertedTwoHoursAgo()
        {
            var file = File_();
            var twoHoursAgo = DateTimeOffset.UtcNow.AddHours(-2).ToString("O", CultureInfo.InvariantCulture);
            foreach (var id in ids.Take(2)) CardIn(file, id)["lastAlertedAt"] = twoHoursAgo;
            CardIn(file, ids[1])["levelSince"] = twoHoursAgo;
            File.WriteAllText(State, file.ToJsonString());
        }
        AlertedTwoHoursAgo();

        Assert.Empty(Run(Watch + " -RepeatAfter 03:00:00", ids).Output); // not yet
        var repeat = Run(Watch + " -RepeatAfter 01:00:00", ids);
        Clean(repeat);
        Assert.Equal(new[] { $"{ids[0]} Low Low repeat", $"{ids[1]} Critical Critical repeat" }, Alerts(repeat));
        Assert.EndsWith("(repeat)", repeat.Output[0].BaseObject.ToString());
        Assert.Empty(Run(Watch + " -RepeatAfter 3600", ids).Output); // counted from the reminder

        // Both cards remind again, this time as a table.
        AlertedTwoHoursAgo();
        var table = Run($"Update-FormatData -AppendPath '{FormatFile}'\n" + Watch + " -RepeatAfter 01:00:00 | Out-String -Width 80", ids);
        Clean(table);
        var rows = Assert.Single(table.Output).BaseObject.ToString()!.Split('\n').Where(l => l.Contains(ids[0]) || l.Contains(ids[1])).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row => Assert.Matches(@"(Low|Critical)\s+repeat(\s|$)", row));
    }

    [Fact]
    public async Task The_table_shows_when_in_UTC_with_year_and_zone_and_a_first_sight_as_new_within_80_columns()
    {
        var ids = await PlantAsync("10.00");
        var r = Run($"Update-FormatData -AppendPath '{FormatFile}'\n$a = " + Watch + "\n$a.ObservedAt; $a | Out-String -Width 80", ids);
        Clean(r);
        var observedAt = Assert.IsType<DateTimeOffset>(r.Output[0].BaseObject);
        var lines = r.Output[1].BaseObject.ToString()!.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("ObservedAt (UTC)", StringComparison.Ordinal));
        var row = Assert.Single(lines, l => l.Contains(ids[0]));
        // ISO 8601 in UTC whatever the machine's zone: the year, and Z for the zone.
        Assert.StartsWith(observedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z ", row);
        Assert.Matches(@"Critical\s+new$", row.TrimEnd());
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80, l));
    }

    [Fact]
    public void RepeatAfter_must_be_positive()
    {
        var r = Run("try { Watch-AhrvoCardBalance -CardId card201907021723076245 -Low 1 -Once -RepeatAfter 0 } catch { $_ }", Array.Empty<string>());
        var error = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.StartsWith("ParameterArgumentValidationError,", error.FullyQualifiedErrorId);
    }

    [Fact]
    public async Task Overlapping_runs_leave_a_valid_file_and_alert_each_change_exactly_once()
    {
        var emu = fx.Emulator;
        var ids = await PlantAsync(Enumerable.Repeat("900.00", 24).ToArray());
        var first = Run(Watch, ids);
        Clean(first);
        Assert.Empty(first.Output);

        var changed = ids.Where((_, i) => i % 2 == 0).ToArray();
        foreach (var id in changed) await emu.PutCardAsync(id, "20.00");
        var saved = File.ReadAllText(State);

        // Separate pwsh processes, as cron would start them, released together by a barrier of files.
        const int runs = 3;
        const string script = """
            $ErrorActionPreference = 'Stop'
            Import-Module $env:AHRVO_TEST_MODULE
            Connect-Ahrvo -BaseUri $env:T_URI | Out-Null
            $null = New-Item -ItemType File (Join-Path $env:T_BARRIER "ready-$env:T_RUN")
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while (@(Get-ChildItem $env:T_BARRIER -Filter 'ready-*').Count -lt [int]$env:T_RUNS -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            Watch-AhrvoCardBalance -CardId ($env:T_IDS -split ',') -Critical 50 -Low 250 -Once -StatePath $env:T_STATE -ThrottleLimit 2 |
                ForEach-Object { "ALERT $($_.CardId) $($_.Level) $($_.PreviousLevel)" }
            """;
        var barrier = _dir.CreateSubdirectory("barrier");
        Task<PwshResult>[] tasks;
        // This test holds the state's lock until every run has read every card, so all three decide
        // on the same old balances and then queue for the lock: the worst overlap, made certain
        // instead of hoped for. A run waits up to 30 s for the lock; it is released as soon as the
        // last run has sent its last request.
        using (new AlertStateStore(State).Lock(TimeSpan.FromSeconds(1), CancellationToken.None))
        {
            tasks = Enumerable.Range(0, runs).Select(i => PwshProcess.RunAsync(script, new Dictionary<string, string?>
            {
                ["AHRVO_API_KEY"] = emu.ApiKey, ["AHRVO_ACCESS_TOKEN"] = emu.AccessToken, ["T_URI"] = emu.BaseUri.ToString(),
                ["T_IDS"] = string.Join(",", ids), ["T_STATE"] = State, ["T_BARRIER"] = barrier.FullName,
                ["T_RUN"] = i.ToString(CultureInfo.InvariantCulture), ["T_RUNS"] = runs.ToString(CultureInfo.InvariantCulture),
            }, TimeSpan.FromMinutes(3))).ToArray();
            await emu.WaitForStatsAsync(s => ids.All(id => s.RequestsPerCard.GetValueOrDefault(id) == 1 + runs), "every run read every card",
                TimeSpan.FromMinutes(2));
            Assert.Equal(saved, File.ReadAllText(State)); // no run saved while the lock was held
        }
        var results = await Task.WhenAll(tasks);
        foreach (var r in results) Assert.True(r.ExitCode == 0, r.All);

        var alerts = results.SelectMany(r => r.StdOut.Split('\n').Where(l => l.StartsWith("ALERT ", StringComparison.Ordinal)).Select(l => l.Trim())).ToList();
        Assert.Equal(changed.Select(id => $"ALERT {id} Critical Normal").OrderBy(a => a, StringComparer.Ordinal),
            alerts.OrderBy(a => a, StringComparer.Ordinal));

        var file = File_();
        Assert.Equal(ids.Length, file["cards"]!.AsObject().Count);
        foreach (var id in ids)
            Assert.Equal(changed.Contains(id) ? "Critical" : "Normal", (string)CardIn(file, id)["level"]!);
        Assert.Equal(new[] { "barrier", "state.json", "state.json.lock" },
            _dir.GetFileSystemInfos().Select(f => f.Name).OrderBy(n => n, StringComparer.Ordinal));
    }
}
