using System.Management.Automation;
using Ahrvo.PowerShell.Cmdlets;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;
using static Ahrvo.PowerShell.Tests.Support.EmulatorFixtureBase;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>
/// Compare-AhrvoCardBalance -RecheckAfter, hosted, against the emulator, on a fake clock: the wait
/// is counted, not taken, and what the test does "during the delay" (change a balance in the
/// emulator) happens inside it.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class CompareAhrvoCardBalanceCommandRecheckTests(EmulatorFixture fx) : IAsyncLifetime
{
    private readonly FakeClock _clock = new();
    private CommandClock _previous = CommandClock.System;

    public async Task InitializeAsync()
    {
        await fx.FreshAsync();
        _previous = CompareAhrvoCardBalanceCommand.Clock;
        CompareAhrvoCardBalanceCommand.Clock = _clock;
    }

    public Task DisposeAsync()
    {
        CompareAhrvoCardBalanceCommand.Clock = _previous;
        return Task.CompletedTask;
    }

    /// <summary>Moves only when waited on; records each wait and runs what the test does during it.</summary>
    private sealed class FakeClock : CommandClock
    {
        private readonly object _gate = new();
        private TimeSpan _now = TimeSpan.FromHours(1);

        public List<TimeSpan> Waits { get; } = new();
        public Action? DuringWait { get; set; }
        /// <summary>How far Now moves each time it is read (a first pass that takes time).</summary>
        public TimeSpan StepPerRead { get; set; }

        public override TimeSpan Now
        {
            get
            {
                lock (_gate)
                {
                    _now += StepPerRead;
                    return _now;
                }
            }
        }

        /// <summary>Wait until cancelled (Ctrl+C) instead of returning at once; <see cref="Waiting"/> says when it started.</summary>
        public bool BlockUntilCancelled { get; set; }
        public volatile bool Waiting;
        /// <summary>Set with <see cref="Waiting"/>: the run's streams do not change while it waits, so a test waits on this instead.</summary>
        public readonly ManualResetEventSlim WaitingSignal = new();

        public override bool Wait(TimeSpan delay, CancellationToken cancel)
        {
            lock (_gate)
            {
                Waits.Add(delay);
                _now += delay;
            }
            DuringWait?.Invoke();
            if (BlockUntilCancelled)
            {
                Waiting = true;
                WaitingSignal.Set();
                // Bounded only so that a broken stop fails the test instead of hanging it.
                return !cancel.WaitHandle.WaitOne(Liveness.Timeout);
            }
            return !cancel.IsCancellationRequested;
        }
    }

    private static void Sync(Func<Task> action) => Task.Run(action).GetAwaiter().GetResult();

    private ScriptResult Run(string script, params (string Name, object? Value)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    private static (string Id, ReconciliationStatus Status, decimal? First, decimal? Actual, decimal? Difference) Row(PSObject o) =>
        (Prop<string>(o, "CardId"), Prop<ReconciliationStatus>(o, "Status"), Prop<decimal?>(o, "FirstBalance"), Prop<decimal?>(o, "ActualBalance"), Prop<decimal?>(o, "Difference"));

    private const string Ledger = """
        $rows = @(
            [pscustomobject]@{ CardId = $matchedA; ExpectedBalance = '10.00' }
            [pscustomobject]@{ CardId = $settling; ExpectedBalance = '100.00' }
            [pscustomobject]@{ CardId = $unknown;  ExpectedBalance = '3.00' }
            [pscustomobject]@{ CardId = $stays;    ExpectedBalance = '60.00' }
            [pscustomobject]@{ CardId = $matchedB; ExpectedBalance = '20.00' }
        )
        """;

    private async Task<(string MatchedA, string Settling, string Unknown, string Stays, string MatchedB)> PlantLedgerAsync() =>
        (await fx.PlantAsync("10.00"), await fx.PlantAsync("90.00"), NewCardId(), await fx.PlantAsync("50.00"), await fx.PlantAsync("20.00"));

    private (string, object?)[] Vars((string MatchedA, string Settling, string Unknown, string Stays, string MatchedB) c) =>
        new (string, object?)[] { ("matchedA", c.MatchedA), ("settling", c.Settling), ("unknown", c.Unknown), ("stays", c.Stays), ("matchedB", c.MatchedB) };

    [Fact]
    public async Task A_card_that_settles_during_the_delay_ends_Settled_with_both_readings_one_that_does_not_stays_a_Discrepancy()
    {
        var c = await PlantLedgerAsync();
        Dictionary<string, int>? duringWait = null;
        _clock.DuringWait = () => Sync(async () =>
        {
            duringWait = (await fx.Emulator.GetStatsAsync(limit: 0)).RequestsPerCard;
            // The pending transaction completes while the command waits.
            await fx.Emulator.PutCardAsync(c.Settling, "100.00");
        });

        var r = Run(Ledger + "\n$rows | Compare-AhrvoCardBalance -RecheckAfter (New-TimeSpan -Minutes 1)", Vars(c));

        NoTerminating(r);
        // Matched and failed cards as they come, in input order; the rechecked ones after the wave, in input order.
        Assert.Equal(new[]
        {
            (c.MatchedA, ReconciliationStatus.Matched, (decimal?)10.00m, (decimal?)10.00m, (decimal?)0m),
            (c.Unknown, ReconciliationStatus.Failed, null, null, null),
            (c.MatchedB, ReconciliationStatus.Matched, 20.00m, 20.00m, 0m),
            (c.Settling, ReconciliationStatus.Settled, 90.00m, 100.00m, 0m),
            (c.Stays, ReconciliationStatus.Discrepancy, 50.00m, 50.00m, -10.00m),
        }, r.Output.Select(Row));
        Assert.All(r.Output, o => Assert.Equal(CompareAhrvoCardBalanceCommand.RecheckedTypeName, o.TypeNames[0]));
        // One wait of the whole delay, for the whole run.
        Assert.Equal(new[] { TimeSpan.FromMinutes(1) }, _clock.Waits);
        // The wave came after the wait: then every card had been read once, and no card twice.
        Assert.NotNull(duringWait);
        Assert.Equal(new[] { 1, 1, 1, 1, 1 }, new[] { c.MatchedA, c.Settling, c.Unknown, c.Stays, c.MatchedB }.Select(id => duringWait!.GetValueOrDefault(id)));
        // Matched and failed cards are read exactly once; the discrepancies twice.
        Assert.Equal(1, await fx.RequestsForAsync(c.MatchedA));
        Assert.Equal(1, await fx.RequestsForAsync(c.MatchedB));
        Assert.Equal(1, await fx.RequestsForAsync(c.Unknown));
        Assert.Equal(2, await fx.RequestsForAsync(c.Settling));
        Assert.Equal(2, await fx.RequestsForAsync(c.Stays));
        // Only the unknown card's error; a recheck that worked warns of nothing.
        Assert.Equal(c.Unknown, Assert.Single(r.Errors).TargetObject);
        Assert.Empty(r.Warning);
    }

    [Fact]
    public async Task DiscrepancyOnly_leaves_out_Settled_cards_as_it_leaves_out_matched_ones()
    {
        var c = await PlantLedgerAsync();
        _clock.DuringWait = () => Sync(() => fx.Emulator.PutCardAsync(c.Settling, "100.005"));

        var r = Run(Ledger + "\n$rows | Compare-AhrvoCardBalance -RecheckAfter 00:00:10 -DiscrepancyOnly -ErrorAction SilentlyContinue", Vars(c));

        NoTerminating(r);
        Assert.Equal(new[] { (c.Unknown, ReconciliationStatus.Failed), (c.Stays, ReconciliationStatus.Discrepancy) },
            r.Output.Select(o => (Prop<string>(o, "CardId"), Prop<ReconciliationStatus>(o, "Status"))));
        Assert.Equal(new[] { TimeSpan.FromSeconds(10) }, _clock.Waits);
        Assert.Equal(2, await fx.RequestsForAsync(c.Settling)); // it was read again, then left out as Settled
    }

    [Fact]
    public async Task Without_RecheckAfter_every_card_is_read_once_and_written_in_input_order_as_before()
    {
        var c = await PlantLedgerAsync();
        _clock.DuringWait = () => throw new InvalidOperationException("No wait without -RecheckAfter.");

        var r = Run(Ledger + "\n$rows | Compare-AhrvoCardBalance", Vars(c));

        NoTerminating(r);
        Assert.Equal(new[]
        {
            (c.MatchedA, ReconciliationStatus.Matched, (decimal?)10.00m, (decimal?)10.00m, (decimal?)0m),
            (c.Settling, ReconciliationStatus.Discrepancy, 90.00m, 90.00m, -10.00m),
            (c.Unknown, ReconciliationStatus.Failed, null, null, null),
            (c.Stays, ReconciliationStatus.Discrepancy, 50.00m, 50.00m, -10.00m),
            (c.MatchedB, ReconciliationStatus.Matched, 20.00m, 20.00m, 0m),
        }, r.Output.Select(Row));
        // Plain objects, shown by the table view as before (no FirstBalance column).
        Assert.All(r.Output, o => Assert.Equal("Ahrvo.PowerShell.BalanceReconciliation", o.TypeNames[0]));
        Assert.Empty(_clock.Waits);
        var stats = await fx.Emulator.GetStatsAsync(limit: 0);
        Assert.Equal(5, stats.BalanceRequests);
        Assert.Single(r.Errors);
        Assert.Empty(r.Warning);
    }

    public static TheoryData<int, int, int> WaveCases()
    {
        var cases = new TheoryData<int, int, int>();
        foreach (var discrepancies in new[] { 1, 3, 20 })
            foreach (var throttle in new[] { 1, 8 })
                foreach (var seconds in new[] { 0, 1, 60, 600 })
                    cases.Add(discrepancies, throttle, seconds);
        return cases;
    }

    [Theory]
    [MemberData(nameof(WaveCases))]
    public async Task However_many_cards_are_out_of_tolerance_the_recheck_costs_one_wait_for_the_whole_run(int discrepancies, int throttle, int seconds)
    {
        // Every discrepant card between two matched ones, so discrepancies are found all through the first pass.
        var rows = new List<(string Id, string Expected, bool Off)>();
        for (int i = 0; i < discrepancies; i++)
        {
            rows.Add((await fx.PlantAsync("5.00"), "5.00", false));
            rows.Add((await fx.PlantAsync("5.00"), "6.00", true));
        }
        rows.Add((await fx.PlantAsync("5.00"), "5.00", false));
        var ids = rows.Select(x => x.Id).ToArray();
        var expected = rows.Select(x => x.Expected).ToArray();

        var r = Run($$"""
            $ids = $cards; $exp = $expected
            0..($ids.Count - 1) | ForEach-Object { [pscustomobject]@{ CardId = $ids[$_]; ExpectedBalance = $exp[$_] } } |
                Compare-AhrvoCardBalance -RecheckAfter (New-TimeSpan -Seconds {{seconds}}) -ThrottleLimit {{throttle}}
            """, ("cards", ids), ("expected", expected));

        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(seconds == 0 ? Array.Empty<TimeSpan>() : new[] { TimeSpan.FromSeconds(seconds) }, _clock.Waits);
        var stats = await fx.Emulator.GetStatsAsync(limit: 0);
        foreach (var row in rows)
            Assert.Equal(row.Off ? 2 : 1, stats.RequestsPerCard.GetValueOrDefault(row.Id));
        // Every card once: the matched in input order, then the rechecked ones in input order.
        Assert.Equal(rows.Where(x => !x.Off).Concat(rows.Where(x => x.Off)).Select(x => x.Id), r.Output.Select(o => Prop<string>(o, "CardId")));
        Assert.All(r.Output.Skip(discrepancies + 1), o => Assert.Equal(ReconciliationStatus.Discrepancy, Prop<ReconciliationStatus>(o, "Status")));
    }

    [Fact]
    public async Task The_delay_counts_from_the_last_discrepancy_so_a_long_first_pass_leaves_less_to_wait()
    {
        var a = await fx.PlantAsync("1.00");
        var b = await fx.PlantAsync("2.00");
        // Each reading of the clock is 20 s later: the last discrepancy is found at one reading,
        // the wait is worked out at the next, 20 s on, so 40 s of the minute are left.
        _clock.StepPerRead = TimeSpan.FromSeconds(20);
        var r = Run("""
            [pscustomobject]@{ CardId = $a; ExpectedBalance = 9 }, [pscustomobject]@{ CardId = $b; ExpectedBalance = 9 } |
                Compare-AhrvoCardBalance -RecheckAfter 00:01:00
            """, ("a", a), ("b", b));
        NoTerminating(r);
        Assert.Equal(new[] { TimeSpan.FromSeconds(40) }, _clock.Waits);

        // A first pass longer than the delay: no wait at all.
        _clock.Waits.Clear();
        _clock.StepPerRead = TimeSpan.FromMinutes(2);
        r = Run("Compare-AhrvoCardBalance -CardId $a -ExpectedBalance 9 -RecheckAfter 00:01:00", ("a", a));
        NoTerminating(r);
        Assert.Empty(_clock.Waits);
        Assert.Equal(2 + 2 + 2, (await fx.Emulator.GetStatsAsync(limit: 0)).BalanceRequests);
    }

    [Fact]
    public async Task A_card_that_fails_on_the_recheck_keeps_its_first_reading_with_a_warning_not_an_error()
    {
        var gone = await fx.PlantAsync("40.00");
        var settling = await fx.PlantAsync("41.00");
        _clock.DuringWait = () => Sync(async () =>
        {
            await fx.Emulator.DeleteCardAsync(gone);
            await fx.Emulator.PutCardAsync(settling, "50.00");
        });

        var r = Run("""
            [pscustomobject]@{ CardId = $gone; ExpectedBalance = '50.00' }, [pscustomobject]@{ CardId = $settling; ExpectedBalance = '50.00' } |
                Compare-AhrvoCardBalance -RecheckAfter 00:00:05
            """, ("gone", gone), ("settling", settling));

        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(new[]
        {
            (gone, ReconciliationStatus.Discrepancy, (decimal?)40.00m, (decimal?)40.00m, (decimal?)-10.00m),
            (settling, ReconciliationStatus.Settled, 41.00m, 50.00m, 0m),
        }, r.Output.Select(Row));
        var warning = Assert.Single(r.Warning);
        Assert.Contains(gone, warning);
        Assert.Contains("first reading stands", warning);
        Assert.Contains("-10.00", warning);
        Assert.Equal(2, await fx.RequestsForAsync(gone));
    }

    [Fact]
    public async Task An_account_wide_error_on_the_recheck_still_lets_every_first_reading_out_before_it_ends_the_command()
    {
        var a = await fx.PlantAsync("1.00");
        var matched = await fx.PlantAsync("7.00");
        var b = await fx.PlantAsync("2.00");
        // The token is revoked while the command waits: the recheck's first answer is a 401.
        _clock.DuringWait = () => Sync(() => fx.Emulator.SetConfigAsync(new { accessToken = "revoked-" + Guid.NewGuid().ToString("N") }));

        var r = Run("""
            $got = [System.Collections.Generic.List[object]]::new()
            try {
                [pscustomobject]@{ CardId = $a; ExpectedBalance = 9 }, [pscustomobject]@{ CardId = $matched; ExpectedBalance = 7 }, [pscustomobject]@{ CardId = $b; ExpectedBalance = 9 } |
                    Compare-AhrvoCardBalance -RecheckAfter 00:00:30 -ThrottleLimit 1 | ForEach-Object { $got.Add($_) }
            } catch { $fatal = $_ }
            [pscustomobject]@{ Got = $got.ToArray(); Fatal = $fatal }
            """, ("a", a), ("matched", matched), ("b", b));

        NoTerminating(r);
        var got = ((object[])Prop<object>(r.Output[0], "Got")).Select(PSObject.AsPSObject).ToList();
        var fatal = Assert.IsType<ErrorRecord>(PSObject.AsPSObject(Prop<object>(r.Output[0], "Fatal")).BaseObject);
        Assert.StartsWith("Ahrvo.Unauthorized", fatal.FullyQualifiedErrorId);
        Assert.Equal(new[]
        {
            (matched, ReconciliationStatus.Matched, (decimal?)7m, (decimal?)7.00m, (decimal?)0m),
            (a, ReconciliationStatus.Discrepancy, 1.00m, 1.00m, -8.00m),
            (b, ReconciliationStatus.Discrepancy, 2.00m, 2.00m, -7.00m),
        }.Select(x => (x.Item1, x.Item2, x.Item4, x.Item5)), got.Select(Row).Select(x => (x.Id, x.Status, x.Actual, x.Difference)));
        Assert.Equal(2, r.Warning.Count);
        Assert.All(r.Warning, w => Assert.Contains("first reading stands", w));
    }
    [Fact]
    public async Task The_HTML_report_shows_settled_cards_apart_from_discrepancies()
    {
        var c = await PlantLedgerAsync();
        _clock.DuringWait = () => Sync(() => fx.Emulator.PutCardAsync(c.Settling, "100.00"));
        var dir = NewTempDir("ahrvo-report-");
        try
        {
            var r = Run(Ledger + "\nSet-Location -LiteralPath $dir\n$rows | Compare-AhrvoCardBalance -RecheckAfter 00:01:00 2>&1 | Export-AhrvoBalanceReport -Path report.html",
                Vars(c).Append(("dir", (object?)dir)).ToArray());
            NoTerminating(r);
            Assert.Empty(r.Errors); // the unknown card's error went into the report (2>&1), not to the error stream
            var html = File.ReadAllText(Path.Combine(dir, "report.html"));
            string Section(string id)
            {
                var start = html.IndexOf($"<h3 id=\"{id}\">", StringComparison.Ordinal);
                Assert.True(start >= 0, id + " is missing");
                var end = html.IndexOf("</table>", start, StringComparison.Ordinal);
                return html[start..end];
            }
            var settled = Section("settled");
            var discrepancies = Section("discrepancies");
            Assert.Contains("Settled on recheck (1)", settled);
            Assert.Contains($"<tr data-card-id=\"{c.Settling}\" class=\"settled\">", settled);
            Assert.Contains("<td class=\"num first\">90.00</td><td class=\"num last\">100.00</td><td class=\"num difference\">0.00</td>", settled);
            Assert.DoesNotContain(c.Stays, settled);
            Assert.Contains("Discrepancies (1)", discrepancies);
            Assert.Contains($"<tr data-card-id=\"{c.Stays}\" class=\"discrepancy\">", discrepancies);
            Assert.Contains("<td class=\"num first\">50.00</td><td class=\"num last\">50.00</td><td class=\"num difference\">-10.00</td>", discrepancies);
            Assert.DoesNotContain(c.Settling, discrepancies);
            Assert.DoesNotContain(c.MatchedA, discrepancies);
            Assert.Contains("id=\"matched-cards\">2<", html);
            Assert.Contains("id=\"settled-cards\">1<", html);
            Assert.Contains("id=\"discrepancy-cards\">1<", html);
            Assert.Contains("id=\"total-discrepancy\">10.00<", html);
            // The balances are counted as any card's, the last reading of a rechecked one; the failed card once.
            Assert.Contains("id=\"total-cards\">4<", html);
            Assert.Contains("id=\"total-balance\">180.00<", html);
            Assert.Contains("id=\"failed-cards\">1<", html);
            Assert.Contains($"<li><code>{c.Unknown}</code>: Card &#39;{c.Unknown}&#39; was not found", html);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Export_Csv_and_the_table_view_show_both_readings()
    {
        var c = await PlantLedgerAsync();
        _clock.DuringWait = () => Sync(() => fx.Emulator.PutCardAsync(c.Settling, "100.00"));
        var dir = NewTempDir("ahrvo-csv-");
        try
        {
            var path = Path.Combine(dir, "out.csv");
            var r = Run(Ledger + """

                Update-FormatData -AppendPath $format
                $result = $rows | Compare-AhrvoCardBalance -RecheckAfter 00:01:00 -ErrorAction SilentlyContinue
                $result | Export-Csv -LiteralPath $path -NoTypeInformation
                ($result | Out-String -Width 120)
                ($rows | Compare-AhrvoCardBalance -ErrorAction SilentlyContinue | Out-String -Width 120)
                """, Vars(c).Append(("path", (object?)path)).Append(("format", FormatFile)).ToArray());
            NoTerminating(r);
            var lines = File.ReadAllLines(path);
            // FirstBalance last, so the columns written before it existed keep their places.
            Assert.Equal("\"CardId\",\"CardNumber\",\"ExpectedBalance\",\"ActualBalance\",\"Difference\",\"Status\",\"FirstBalance\"", lines[0]);
            Assert.Contains(lines, l => l.StartsWith($"\"{c.Settling}\",") && l.EndsWith(",\"100.00\",\"100.00\",\"0.00\",\"Settled\",\"90.00\""));
            Assert.Contains(lines, l => l.StartsWith($"\"{c.Unknown}\",") && l.EndsWith(",\"Failed\","));
            var rechecked = (string)r.Output[0].BaseObject;
            var plain = (string)r.Output[1].BaseObject;
            Assert.Matches(@"CardId\s+ExpectedBalance\s+FirstBalance\s+ActualBalance\s+Difference\s+Status", rechecked);
            Assert.Matches(c.Settling + @"\s+100\.00\s+90\.00\s+100\.00\s+0\.00\s+Settled", rechecked);
            // Without -RecheckAfter the table is as it was.
            Assert.Matches(@"CardId\s+ExpectedBalance\s+ActualBalance\s+Difference\s+Status", plain);
            Assert.DoesNotContain("FirstBalance", plain);
        }
        finally { Directory.Delete(dir, true); }
    }
    [Fact]
    public async Task Matched_cards_are_written_before_the_wait_and_Ctrl_C_ends_the_wait()
    {
        var c = await PlantLedgerAsync();
        _clock.BlockUntilCancelled = true;
        using var run = PowerShellHost.Start(PowerShellHost.ConnectLine + Ledger + "\n$rows | Compare-AhrvoCardBalance -RecheckAfter 00:10:00 -ErrorAction SilentlyContinue",
            fx.Variables(Vars(c)));

        // Not run.WaitUntil: it wakes on the run's streams, and nothing is written once the command waits.
        Assert.True(_clock.WaitingSignal.Wait(Liveness.Timeout) || !run.IsRunning, "the command waiting to recheck");
        Assert.True(_clock.Waiting, "the command ended before it waited to recheck");
        // While it waits, the matched and failed cards are out already; the discrepancies are held.
        Assert.Equal(new[] { c.MatchedA, c.Unknown, c.MatchedB }, run.OutputSoFar.Select(o => Prop<string>(o, "CardId")));

        run.Stop();
        var r = run.Finish();
        Assert.IsAssignableFrom<PipelineStoppedException>(r.Terminating);
        Assert.Equal(new[] { TimeSpan.FromMinutes(10) }, _clock.Waits);
        var stats = await fx.SettleAfterStopAsync();
        Assert.Equal(5, stats.BalanceRequests); // stopped before the recheck: every card read once
    }
}
