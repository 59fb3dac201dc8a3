extern alias emu;
using System.Text.Json.Nodes;
using emu::Ahrvo.Emulator;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Emulator.Tests;

public class WindowLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    private int Take(WindowLimiter limiter, int rate, bool sliding, int count)
    {
        int granted = 0;
        for (int i = 0; i < count; i++) if (limiter.TryAcquire(rate, sliding, out _)) granted++;
        return granted;
    }

    private void ToNextSecond()
    {
        long f = _time.TimestampFrequency, into = _time.GetTimestamp() % f;
        if (into != 0) _time.Advance(TimeSpan.FromSeconds((double)(f - into) / f));
        Assert.Equal(0, _time.GetTimestamp() % f);
    }

    [Fact]
    public void A_fixed_window_grants_its_count_then_refuses_everything_until_the_second_turns_over()
    {
        var limiter = new WindowLimiter(_time);
        ToNextSecond();
        Assert.Equal(10, Take(limiter, 10, sliding: false, count: 50));
        // However slowly requests come, nothing more in this second.
        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.False(limiter.TryAcquire(10, false, out var wait));
        Assert.Equal(TimeSpan.FromMilliseconds(400), wait);
        _time.Advance(TimeSpan.FromMilliseconds(399));
        Assert.False(limiter.TryAcquire(10, false, out _));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(10, Take(limiter, 10, sliding: false, count: 50));
    }

    [Fact]
    public void A_sliding_window_counts_the_second_before_each_request()
    {
        var limiter = new WindowLimiter(_time);
        Assert.Equal(5, Take(limiter, 5, sliding: true, count: 5));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(0, Take(limiter, 5, sliding: true, count: 3)); // refused ones do not count
        Assert.True(!limiter.TryAcquire(5, true, out var wait) && wait == TimeSpan.FromMilliseconds(500));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(5, Take(limiter, 5, sliding: true, count: 9));
    }

    [Fact]
    public void Reset_starts_the_count_afresh()
    {
        var limiter = new WindowLimiter(_time);
        Assert.Equal(3, Take(limiter, 3, false, 5));
        Assert.Equal(3, Take(limiter, 3, true, 5));
        limiter.Reset();
        Assert.Equal(3, Take(limiter, 3, false, 5));
        Assert.Equal(3, Take(limiter, 3, true, 5));
    }

    [Fact]
    public void The_config_and_the_command_line_choose_the_count_and_refuse_an_unknown_one()
    {
        var c = EmulatorConfig.Merge(new EmulatorConfig(), JsonNode.Parse("""{"rateLimitWindow":"Fixed"}""")!.AsObject());
        Assert.Equal("fixed", c.RateLimitWindow);
        Assert.Equal("bucket", new EmulatorConfig().RateLimitWindow);
        Assert.True(EmulatorConfig.TouchesRateLimit(JsonNode.Parse("""{"rateLimitWindow":"sliding"}""")!.AsObject()));
        Assert.Throws<ConfigException>(() => EmulatorConfig.Merge(c, JsonNode.Parse("""{"rateLimitWindow":"leaky"}""")!.AsObject()));
        Assert.Equal("sliding", EmulatorOptions.Parse(["--rate-limit", "5", "--rate-limit-window", "sliding"]).ToConfig().RateLimitWindow);
        var ex = Assert.Throws<ArgumentException>(() => EmulatorOptions.Parse(["--rate-limit-window", "leaky"]).ToConfig());
        Assert.Contains("--rate-limit-window", ex.Message);
    }
}
