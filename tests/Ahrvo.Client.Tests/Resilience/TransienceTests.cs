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
    public void Every_5xx_but_501_and_505_is_transient_and_so_are_408_and_429()
    {
        var transient = Enumerable.Range(100, 500).Where(Transience.IsTransientStatus).ToArray();
        var expected = new[] { 408, 429 }.Concat(Enumerable.Range(500, 100).Where(s => s != 501 && s != 505)).ToArray();
        Assert.Equal(expected, transient);
        Assert.Contains(522, transient);
        Assert.Contains(530, transient);
        Assert.Contains(507, transient);
        Assert.Contains(509, transient);
    }

    [Fact]
    public void Network_failures_and_attempt_timeouts_are_transient_but_TLS_and_cancellation_are_not()
    {
        static bool T(Exception e) => Transience.IsTransient(e, answeredBefore: true);
        Assert.True(T(new HttpRequestException("connection refused", new System.Net.Sockets.SocketException(111))));
        Assert.True(T(new IOException("reset")));
        Assert.True(T(new TimeoutRejectedException()));
        Assert.False(T(new HttpRequestException("ssl", new AuthenticationException("untrusted root"))));
        Assert.False(T(new OperationCanceledException()));
    }

    [Theory]
    [InlineData(System.Net.Sockets.SocketError.HostNotFound, false)]
    [InlineData(System.Net.Sockets.SocketError.NoData, false)]
    [InlineData(System.Net.Sockets.SocketError.TryAgain, true)] // the resolver did not answer: it may next time
    public void A_host_name_that_does_not_resolve_is_final_until_the_connection_has_had_an_answer(System.Net.Sockets.SocketError error, bool transientBeforeAnyAnswer)
    {
        var ex = new HttpRequestException("Name or service not known (api.example.test:443)", new System.Net.Sockets.SocketException((int)error));
        Assert.Equal(transientBeforeAnyAnswer, Transience.IsTransient(ex, answeredBefore: false));
        Assert.True(Transience.IsTransient(ex, answeredBefore: true)); // a hiccup mid-run loses no card
    }
}
