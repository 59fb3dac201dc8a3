using Ahrvo.Client.Resilience;
using Xunit;

namespace Ahrvo.Client.Tests.Resilience;

/// <summary>The backoff between a card's failed attempts.</summary>
public sealed class JitterTests
{
    [Fact]
    public void Backoff_grows_with_jitter_and_MaxRetryDelay_caps_it()
    {
        var waits = Enumerable.Range(0, 2000).Select(_ => Jitter.Backoff(3, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), Jitter.NextDouble()).TotalSeconds).ToArray();
        Assert.InRange(waits.Min(), 0.2, 0.25);
        Assert.InRange(waits.Max(), 0.55, 0.6);
        Assert.True(waits.Distinct().Count() > 1000);
        var first = Jitter.Backoff(1, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), 0.5);
        Assert.Equal(TimeSpan.FromMilliseconds(100), first);
        Assert.Equal(TimeSpan.FromSeconds(2), Jitter.Backoff(10, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), 0.5));
    }
}
