using System.Net.Http;
using System.Security.Authentication;
using Ahrvo.Client.Resilience;
using Polly.Timeout;
using Xunit;

namespace Ahrvo.Client.Tests.Resilience;

/// <summary>Which failures are worth another attempt.</summary>
public sealed class TransienceTests
{
    [Fact]
    public void Exactly_408_429_500_502_503_504_are_transient_statuses()
    {
        var transient = Enumerable.Range(100, 500).Where(Transience.IsTransientStatus).ToArray();
        Assert.Equal(new[] { 408, 429, 500, 502, 503, 504 }, transient);
    }

    [Fact]
    public void Network_failures_and_attempt_timeouts_are_transient_but_TLS_and_cancellation_are_not()
    {
        static bool T(Exception e) => Transience.IsTransient(e);
        Assert.True(T(new HttpRequestException("connection refused", new System.Net.Sockets.SocketException(111))));
        Assert.True(T(new IOException("reset")));
        Assert.True(T(new TimeoutRejectedException()));
        Assert.False(T(new HttpRequestException("ssl", new AuthenticationException("untrusted root"))));
        Assert.False(T(new OperationCanceledException()));
    }
}
