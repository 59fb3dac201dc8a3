using System.Globalization;
using System.Text.RegularExpressions;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Errors;
using Ahrvo.PowerShell.Metrics;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Metrics;

/// <summary>
/// The exposition text Export-AhrvoBalanceMetric writes (BalanceMetrics), built directly. The cmdlet is
/// Cmdlets/ExportAhrvoBalanceMetricCommandTests.cs; that real tools accept the file is tests/pester/Metrics.Tests.ps1.
/// </summary>
public sealed class BalanceMetricsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 1, 30, 0, 250, TimeSpan.Zero); // 1796175000.25

    private static CardBalance Card(string id, decimal balance, string currency = "USD") => new(id, "5157********0000", balance, currency, At);

    private static string[] Lines(string text) => text.Split('\n');

    [Fact]
    public void A_failed_card_has_read_ok_0_and_no_balance_sample()
    {
        var text = BalanceMetrics.Render(new[] { Card("cardB", 7.05m) }, new[] { new FailedCard("cardA", "not found") }, null, null);
        Assert.Contains("ahrvo_card_available_balance{card_id=\"cardB\",currency=\"USD\"} 7.05\n", text);
        Assert.DoesNotContain(Lines(text), l => l.StartsWith("ahrvo_card_available_balance{card_id=\"cardA\"", StringComparison.Ordinal));
        Assert.Contains("ahrvo_card_read_ok{card_id=\"cardA\"} 0\n", text);
        Assert.Contains("ahrvo_card_read_ok{card_id=\"cardB\"} 1\n", text);
        Assert.Contains("ahrvo_card_last_success_timestamp_seconds{card_id=\"cardB\"} 1796175000.25\n", text);
        Assert.DoesNotContain("ahrvo_card_last_success_timestamp_seconds{card_id=\"cardA\"}", text); // never read: no time
        Assert.Contains("ahrvo_cards_read 1\n", text);
        Assert.Contains("ahrvo_cards_failed 1\n", text);
        Assert.DoesNotContain("ahrvo_requests_total", text); // no connection, no counters
        Assert.DoesNotContain("ahrvo_card_balance_level", text); // no thresholds, no levels
    }

    [Fact]
    public void Every_family_has_help_and_type_once_before_its_samples_and_the_text_ends_with_a_newline()
    {
        var text = BalanceMetrics.Render(new[] { Card("c1", 1m), Card("c2", 2m) }, new[] { new FailedCard("c3", "x") },
            new AlertThresholds(50m, 100m, null), new ConnectionCounters(12, 3, 2));
        Assert.EndsWith("\n", text);
        Assert.DoesNotContain("\r", text);
        Assert.DoesNotContain("\n\n", text);
        var seen = new List<string>();
        string? current = null;
        foreach (var line in Lines(text.TrimEnd('\n')))
        {
            var help = Regex.Match(line, @"^# HELP (\w+) \S");
            if (help.Success)
            {
                current = help.Groups[1].Value;
                Assert.DoesNotContain(current, seen);
                seen.Add(current);
                continue;
            }
            var type = Regex.Match(line, @"^# TYPE (\w+) (gauge|counter)$");
            if (type.Success) { Assert.Equal(current, type.Groups[1].Value); continue; }
            Assert.Matches(@"^(\w+)(\{.*\})? \S+$", line);
            Assert.Equal(current, Regex.Match(line, @"^\w+").Value);
        }
        Assert.Equal(new[]
        {
            "ahrvo_card_available_balance", "ahrvo_card_read_ok", "ahrvo_card_last_success_timestamp_seconds", "ahrvo_card_balance_level",
            "ahrvo_balance_alert_threshold", "ahrvo_cards_read", "ahrvo_cards_failed", "ahrvo_inputs_refused", "ahrvo_requests_total", "ahrvo_request_retries_total",
            "ahrvo_throttled_responses_total",
        }, seen);
        Assert.Contains("# TYPE ahrvo_requests_total counter\nahrvo_requests_total 12\n", text);
        Assert.Contains("# TYPE ahrvo_request_retries_total counter\nahrvo_request_retries_total 3\n", text);
        Assert.Contains("# TYPE ahrvo_throttled_responses_total counter\nahrvo_throttled_responses_total 2\n", text);
        Assert.Contains("# TYPE ahrvo_card_available_balance gauge\n", text);
        Assert.Contains("ahrvo_balance_alert_threshold{level=\"critical\"} 50\n", text);
        Assert.Contains("ahrvo_balance_alert_threshold{level=\"warning\"} 100\n", text);
        Assert.DoesNotContain("level=\"low\"", text);
    }

    [Fact]
    public void Label_values_escape_backslash_double_quote_and_newline_and_read_back()
    {
        var odd = "we\"ird\\id\nnext";
        var text = BalanceMetrics.Render(new[] { Card(odd, 1m, "U\"S\\D") }, Array.Empty<FailedCard>(), null, null);
        Assert.Contains("ahrvo_card_available_balance{card_id=\"we\\\"ird\\\\id\\nnext\",currency=\"U\\\"S\\\\D\"} 1\n", text);
        Assert.Equal(1, Lines(text).Count(l => l.StartsWith("ahrvo_card_read_ok", StringComparison.Ordinal))); // the newline stayed escaped
        Assert.Equal("1796175000.25", BalanceMetrics.ReadLastSuccess(text)[odd]);
    }

    [Fact]
    public void Balances_are_exact_and_culture_invariant_under_de_DE()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            // 28 significant digits: a double would round this one.
            var text = BalanceMetrics.Render(new[] { Card("c1", 1468.87m), Card("c2", 1234567890123456.789012345678m), Card("c3", -0.50m), Card("c4", 0.00m) },
                Array.Empty<FailedCard>(), new AlertThresholds(50.5m, null, null), null);
            Assert.Contains("{card_id=\"c1\",currency=\"USD\"} 1468.87\n", text);
            Assert.Contains("{card_id=\"c2\",currency=\"USD\"} 1234567890123456.789012345678\n", text);
            Assert.Contains("{card_id=\"c3\",currency=\"USD\"} -0.50\n", text);
            Assert.Contains("{card_id=\"c4\",currency=\"USD\"} 0.00\n", text);
            Assert.Contains("ahrvo_balance_alert_threshold{level=\"critical\"} 50.5\n", text);
            Assert.Contains("1796175000.25\n", text);
            Assert.DoesNotContain(",25", text);
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    [Fact]
    public void Levels_follow_the_watch_thresholds()
    {
        var text = BalanceMetrics.Render(
            new[] { Card("a", 42.17m), Card("b", 100m), Card("c", 199.99m), Card("d", 1468.87m), Card("e", 50m) },
            Array.Empty<FailedCard>(), new AlertThresholds(50m, 100m, 250m), null);
        Assert.Contains("ahrvo_card_balance_level{card_id=\"a\"} 3\n", text);
        Assert.Contains("ahrvo_card_balance_level{card_id=\"b\"} 2\n", text);
        Assert.Contains("ahrvo_card_balance_level{card_id=\"c\"} 1\n", text);
        Assert.Contains("ahrvo_card_balance_level{card_id=\"d\"} 0\n", text);
        Assert.Contains("ahrvo_card_balance_level{card_id=\"e\"} 3\n", text); // at the threshold is at the level
    }

    [Fact]
    public void A_card_given_twice_is_one_series_and_a_read_beats_a_failure()
    {
        var text = BalanceMetrics.Render(new[] { Card("c1", 1m), Card("c1", 2m) }, new[] { new FailedCard("c1", "x"), new FailedCard("c2", "x"), new FailedCard("c2", "y") }, null, null);
        Assert.Single(Lines(text), l => l.StartsWith("ahrvo_card_available_balance{card_id=\"c1\"", StringComparison.Ordinal));
        Assert.Contains("ahrvo_card_available_balance{card_id=\"c1\",currency=\"USD\"} 2\n", text);
        Assert.Contains("ahrvo_card_read_ok{card_id=\"c1\"} 1\n", text);
        Assert.Single(Lines(text), l => l.StartsWith("ahrvo_card_read_ok{card_id=\"c2\"}", StringComparison.Ordinal));
        Assert.Contains("ahrvo_cards_read 1\n", text);
        Assert.Contains("ahrvo_cards_failed 1\n", text);
    }

    [Fact]
    public void A_failed_card_keeps_its_last_success_time_from_the_previous_file()
    {
        var first = BalanceMetrics.Render(new[] { Card("c1", 1m), Card("c2", 2m) }, Array.Empty<FailedCard>(), null, null);
        var second = BalanceMetrics.Render(new[] { Card("c2", 3m) }, new[] { new FailedCard("c1", "down"), new FailedCard("c9", "never read") }, null, null,
            BalanceMetrics.ReadLastSuccess(first));
        Assert.Contains("ahrvo_card_last_success_timestamp_seconds{card_id=\"c1\"} 1796175000.25\n", second);
        Assert.Contains("ahrvo_card_read_ok{card_id=\"c1\"} 0\n", second);
        Assert.DoesNotContain("ahrvo_card_available_balance{card_id=\"c1\"", second);
        Assert.DoesNotContain("last_success_timestamp_seconds{card_id=\"c9\"}", second);
        // Junk in the old file is not carried over.
        var junk = BalanceMetrics.ReadLastSuccess("ahrvo_card_last_success_timestamp_seconds{card_id=\"c1\"} 1e9 # x\nahrvo_card_last_success_timestamp_seconds{card_id=\"c2\"} 12.5\n");
        Assert.Equal(new[] { "c2" }, junk.Keys);
    }

    private static readonly Guid ConnA = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
    private static readonly Guid ConnB = Guid.Parse("7c9e6679-7425-40de-944b-e07fc1f90ae7");

    private static string Run(string? previous, ConnectionCounters? now) =>
        BalanceMetrics.Render(new[] { Card("c1", 1m) }, Array.Empty<FailedCard>(), null, now,
            previous == null ? null : BalanceMetrics.ReadLastSuccess(previous), previous == null ? null : CounterTotals.Read(previous));

    // 0 for a file without the counter (no run with a connection wrote it yet).
    private static long Sample(string text, string name)
    {
        var m = Regex.Match(text, "^" + name + " ([0-9]+)$", RegexOptions.Multiline);
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [Fact]
    public void Request_counters_keep_growing_when_each_run_is_a_new_connection()
    {
        // A scheduled export: a new process, so a new connection, every run, each sending 10 requests.
        // Were the counters the connection's own, Prometheus would see 10, 10: no requests at all.
        var first = Run(null, new ConnectionCounters(ConnA, 10, 1, 1));
        var second = Run(first, new ConnectionCounters(ConnB, 10, 1, 0));
        Assert.Equal(20, Sample(second, "ahrvo_requests_total"));
        Assert.Equal(2, Sample(second, "ahrvo_request_retries_total"));
        Assert.Equal(1, Sample(second, "ahrvo_throttled_responses_total"));
        Assert.Contains("\n# Counted: connection 7c9e6679742540de944be07fc1f90ae7 requests 10 retries 1 throttled 0\n", second);
    }

    [Fact]
    public void One_connection_exporting_twice_is_counted_once_and_a_run_without_one_keeps_the_totals()
    {
        var first = Run(null, new ConnectionCounters(ConnA, 10, 2, 0));
        var second = Run(first, new ConnectionCounters(ConnA, 15, 3, 1)); // the same session, 5 more requests
        Assert.Equal(15, Sample(second, "ahrvo_requests_total"));
        Assert.Equal(3, Sample(second, "ahrvo_request_retries_total"));
        var third = Run(second, null); // piped balances, no open connection: the totals stay
        Assert.Equal(15, Sample(third, "ahrvo_requests_total"));
        Assert.Equal(1, Sample(third, "ahrvo_throttled_responses_total"));
        var fourth = Run(third, new ConnectionCounters(ConnA, 16, 3, 1)); // and the connection is still known
        Assert.Equal(16, Sample(fourth, "ahrvo_requests_total"));
        // A file without counters, or with junk in them, starts again from the run's own counts.
        Assert.Null(CounterTotals.Read("ahrvo_requests_total 1e3\nahrvo_request_retries_total 1\nahrvo_throttled_responses_total 0\n"));
        Assert.Equal(4, Sample(Run("garbage", new ConnectionCounters(ConnB, 4, 0, 0)), "ahrvo_requests_total"));
    }

    [Fact]
    public void Request_counters_equal_every_request_of_every_run_and_never_fall_sweep()
    {
        // Runs of a schedule: sometimes a new connection (a new process), sometimes the same one again,
        // sometimes none; each file is read back from its text as the cmdlet does.
        for (var seed = 1; seed <= 300; seed++)
        {
            var random = new Random(seed);
            string? file = null;
            Guid connection = Guid.NewGuid();
            long requests = 0, retries = 0, throttled = 0, sentBefore = 0, retriedBefore = 0, throttledBefore = 0, lastTotal = 0;
            for (var run = 0; run < 25; run++)
            {
                ConnectionCounters? now = null;
                switch (random.Next(4))
                {
                    case 0: // a new process: a new connection from 0
                        sentBefore += requests; retriedBefore += retries; throttledBefore += throttled;
                        connection = Guid.NewGuid(); requests = retries = throttled = 0;
                        goto case 1;
                    case 1:
                    case 2: // the connection sends more
                        var more = random.Next(0, 50);
                        requests += more;
                        var r = random.Next(0, more + 1);
                        retries += r;
                        throttled += random.Next(0, r + 1);
                        now = new ConnectionCounters(connection, requests, retries, throttled);
                        break;
                    default: break; // no open connection
                }
                file = Run(file, now);
                var total = Sample(file, "ahrvo_requests_total");
                Assert.True(total == sentBefore + requests, $"seed {seed}, run {run}: requests_total {total}, sent {sentBefore + requests}");
                Assert.True(Sample(file, "ahrvo_request_retries_total") == retriedBefore + retries, $"seed {seed}, run {run}: retries");
                Assert.True(Sample(file, "ahrvo_throttled_responses_total") == throttledBefore + throttled, $"seed {seed}, run {run}: throttled");
                Assert.True(total >= lastTotal, $"seed {seed}, run {run}: the counter fell from {lastTotal} to {total}");
                lastTotal = total;
            }
        }
    }
}
