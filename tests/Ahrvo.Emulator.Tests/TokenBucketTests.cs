extern alias emu;
using emu::Ahrvo.Emulator;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Emulator.Tests;

public class TokenBucketTests
{
    private readonly FakeTimeProvider _time = new();

    private int Take(TokenBucket bucket, int rate, int burst, int count)
    {
        int granted = 0;
        for (int i = 0; i < count; i++) if (bucket.TryAcquire(rate, burst, out _)) granted++;
        return granted;
    }

    [Fact]
    public void Burst_is_granted_then_the_empty_bucket_refuses()
    {
        var bucket = new TokenBucket(_time);
        Assert.Equal(5, Take(bucket, rate: 10, burst: 5, count: 5));
        Assert.False(bucket.TryAcquire(10, 5, out var wait));
        Assert.Equal(TimeSpan.FromMilliseconds(100), wait);
    }

    [Fact]
    public void Default_burst_is_one_seconds_worth()
    {
        var bucket = new TokenBucket(_time);
        Assert.Equal(10, Take(bucket, rate: 10, burst: 0, count: 50));
    }

    [Fact]
    public void Refills_continuously_at_the_rate_and_never_beyond_capacity()
    {
        var bucket = new TokenBucket(_time);
        Assert.Equal(5, Take(bucket, 10, 5, 10));

        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Equal(0, Take(bucket, 10, 5, 1));
        _time.Advance(TimeSpan.FromMilliseconds(1)); // 100 ms since emptied: exactly one token
        Assert.Equal(1, Take(bucket, 10, 5, 10));

        _time.Advance(TimeSpan.FromMilliseconds(250)); // 2.5 tokens
        Assert.Equal(2, Take(bucket, 10, 5, 10));
        _time.Advance(TimeSpan.FromMilliseconds(50)); // the half token left over plus half a token
        Assert.Equal(1, Take(bucket, 10, 5, 10));

        _time.Advance(TimeSpan.FromHours(5)); // long idle: capped at the burst
        Assert.Equal(5, Take(bucket, 10, 5, 10));
    }

    [Fact]
    public void Sustained_rate_matches_the_configured_rate()
    {
        var bucket = new TokenBucket(_time);
        int granted = Take(bucket, 20, 1, 1);
        for (int ms = 0; ms < 10_000; ms++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            granted += Take(bucket, 20, 1, 3);
        }
        Assert.Equal(1 + 20 * 10, granted);
    }

    [Fact]
    public void Reset_and_changed_settings_refill_the_bucket()
    {
        var bucket = new TokenBucket(_time);
        Assert.Equal(3, Take(bucket, 3, 0, 10));
        bucket.Reset();
        Assert.Equal(3, Take(bucket, 3, 0, 10));
        Assert.Equal(4, Take(bucket, 3, 4, 10)); // new burst: a fresh, full bucket
        Assert.Equal(7, Take(bucket, 7, 0, 10));
    }

    [Fact]
    public void Auto_retry_after_is_whole_seconds_until_a_token_at_least_one()
    {
        var bucket = new TokenBucket(_time);
        Assert.True(bucket.TryAcquire(1, 1, out _));
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.False(bucket.TryAcquire(1, 1, out var wait));
        Assert.Equal(TimeSpan.FromMilliseconds(700), wait);
        Assert.Equal("1", TokenBucket.AutoRetryAfter(wait));

        Assert.Equal("1", TokenBucket.AutoRetryAfter(TimeSpan.Zero));
        Assert.Equal("1", TokenBucket.AutoRetryAfter(TimeSpan.FromSeconds(1)));
        Assert.Equal("2", TokenBucket.AutoRetryAfter(TimeSpan.FromMilliseconds(1001)));
        Assert.Equal("3", TokenBucket.AutoRetryAfter(TimeSpan.FromMilliseconds(2500)));
    }
}
