extern alias emu;
using System.Text.Json.Nodes;
using emu::Ahrvo.Emulator;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Emulator.Tests;

public class OutageWindowTests
{
    private readonly FakeTimeProvider _time = new();

    private EmulatorConfig Merge(EmulatorConfig current, string json) =>
        EmulatorConfig.Merge(current, JsonNode.Parse(json)!.AsObject(), _time);

    private OutageWindow? ActiveNow(EmulatorConfig c) => OutageWindow.Select(c.Outages, _time.GetTimestamp());

    private void Advance(int ms) => _time.Advance(TimeSpan.FromMilliseconds(ms));

    [Fact]
    public void Window_is_active_from_start_for_duration_counted_from_the_apply_time()
    {
        Advance(12_345); // the apply time, not the clock's origin, is what startMs counts from
        var c = Merge(new EmulatorConfig(), """{"outages":[{"kind":"503","startMs":1000,"durationMs":500}]}""");

        Assert.Null(ActiveNow(c));
        Advance(999);
        Assert.Null(ActiveNow(c));
        Advance(1);
        Assert.Equal("503", ActiveNow(c)?.Kind);
        Assert.Equal("outage-503", ActiveNow(c)?.FaultName);
        Assert.Equal(503, ActiveNow(c)?.Status);
        Advance(499);
        Assert.NotNull(ActiveNow(c));
        Advance(1);
        Assert.Null(ActiveNow(c));
    }

    [Fact]
    public void First_active_window_wins_and_kinds_are_normalised()
    {
        var c = Merge(new EmulatorConfig(), """
            {"outages":[{"kind":"HANG","startMs":0,"durationMs":100},
                        {"kind":504,"startMs":50,"durationMs":100,"retryAfter":7},
                        {"kind":"reset","startMs":0,"durationMs":1000}]}
            """);
        Assert.Equal("hang", ActiveNow(c)?.Kind);
        Assert.Equal(0, ActiveNow(c)?.Status);
        Advance(100);
        Assert.Equal("504", ActiveNow(c)?.Kind);
        Assert.Equal("7", ActiveNow(c)?.RetryAfter);
        Advance(50);
        Assert.Equal("reset", ActiveNow(c)?.Kind);
        Advance(850);
        Assert.Null(ActiveNow(c));
    }

    [Fact]
    public void Later_posts_keep_windows_where_they_were_and_null_or_empty_clears_them()
    {
        var c = Merge(new EmulatorConfig(), """{"outages":[{"kind":"503","startMs":1000,"durationMs":1000}]}""");
        Advance(600);
        c = Merge(c, """{"latencyMs":5,"rateLimitPerSecond":3}"""); // does not re-anchor the window
        Advance(400);
        Assert.NotNull(ActiveNow(c));
        Advance(1000);
        Assert.Null(ActiveNow(c));

        c = Merge(c, """{"outages":[{"kind":"503","durationMs":1000}]}""");
        Assert.NotNull(ActiveNow(c));
        Assert.Empty(Merge(c, """{"outages":null}""").Outages);
        Assert.Empty(Merge(c, """{"outages":[]}""").Outages);
    }

    [Fact]
    public void Display_counts_startMs_from_now()
    {
        var c = Merge(new EmulatorConfig(), """{"outages":[{"kind":"503","startMs":1000,"durationMs":500}]}""");
        Advance(1500);
        var shown = c.ForDisplay(_time).Outages.Single();
        Assert.Equal((-500L, 500L), (shown.StartMs, shown.DurationMs));

        // Posting the shown config back lands the window at the same place.
        var json = System.Text.Json.JsonSerializer.Serialize(new { outages = new[] { new { kind = "503", startMs = shown.StartMs, durationMs = shown.DurationMs } } });
        var again = Merge(new EmulatorConfig(), json).Outages.Single();
        Assert.Equal((c.Outages[0].StartTimestamp, c.Outages[0].EndTimestamp), (again.StartTimestamp, again.EndTimestamp));
    }

    [Theory]
    [InlineData("""{"outages":[{"kind":"slow","durationMs":1}]}""")]
    [InlineData("""{"outages":[{"durationMs":1}]}""")]
    [InlineData("""{"outages":[{"kind":"503","durationMs":-1}]}""")]
    [InlineData("""{"outages":[{"kind":"503","durationMs":1,"lengthMs":2}]}""")]
    [InlineData("""{"outages":[null]}""")]
    [InlineData("""{"outage":[]}""")]
    public void Invalid_outages_are_rejected(string json) =>
        Assert.Throws<ConfigException>(() => Merge(new EmulatorConfig(), json));
}
