using Ahrvo.PowerShell.Parameters;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Parameters;

/// <summary>-Interval and -RepeatAfter: a bare number means seconds.</summary>
public sealed class SecondsTransformationAttributeTests
{
    [Fact]
    public void A_bare_number_for_an_interval_means_seconds()
    {
        var t = new SecondsTransformationAttribute();
        Assert.Equal(TimeSpan.FromSeconds(30), t.Transform(null!, 30));
        Assert.Equal(TimeSpan.FromSeconds(0.5), t.Transform(null!, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(90), t.Transform(null!, "90"));
        Assert.Equal("00:05:00", t.Transform(null!, "00:05:00"));
        Assert.Equal(TimeSpan.FromMinutes(1), t.Transform(null!, TimeSpan.FromMinutes(1)));
    }
}
