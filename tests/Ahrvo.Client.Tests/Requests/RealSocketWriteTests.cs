using System.Net;
using System.Net.Sockets;
using System.Text;
using Ahrvo.Client.Requests;
using Ahrvo.Client.Tests.Support;
using Xunit;

namespace Ahrvo.Client.Tests.Requests;

/// <summary>
/// The write rule rests on how .NET reports a failed request, so two cases run on real loopback
/// sockets rather than scripted exceptions: a connection reset after the request was read, and a
/// port that refuses the connection. The waits are the client's own (10 ms backoff), never asserted.
/// </summary>
public sealed class RealSocketWriteTests
{
    private static AhrvoClient Client(int port) => new(new AhrvoClientOptions(new Uri($"http://127.0.0.1:{port}/"), TestSecrets.Secure(InMemoryClient.ApiKey), TestSecrets.Secure(InMemoryClient.Token))
    {
        MaxRetries = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        MaxRetryDelay = TimeSpan.FromMilliseconds(50),
        TotalTimeout = TimeSpan.FromSeconds(60),
    });

    [Fact]
    public async Task A_post_whose_connection_resets_after_the_server_read_it_is_not_sent_again()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        int received = 0;
        var server = Task.Run(async () =>
        {
            // Every connection: read the whole request (headers and the declared body), then reset.
            while (true)
            {
                Socket socket;
                try { socket = await listener.AcceptSocketAsync(); }
                catch (Exception) { return; }
                using (socket)
                {
                    var buffer = new byte[64 * 1024];
                    var text = new StringBuilder();
                    while (true)
                    {
                        int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                        if (n == 0) break;
                        text.Append(Encoding.UTF8.GetString(buffer, 0, n));
                        var s = text.ToString();
                        int end = s.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                        if (end < 0) continue;
                        var length = System.Text.RegularExpressions.Regex.Match(s, @"Content-Length: (\d+)", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
                        if (s.Length - end - 4 >= (length.Success ? int.Parse(length.Groups[1].Value) : 0)) break;
                    }
                    Interlocked.Increment(ref received);
                    socket.LingerState = new LingerOption(true, 0); // close with RST
                }
            }
        });
        ApiResponse r;
        using (var client = Client(port))
            r = await client.SendAsync(new ApiRequest("POST", "/card/issuance/api/issuing/card/v2/normal/topup") { Body = """{"amount":"10.00"}""" })
                .WaitAsync(InMemoryClient.Liveness);
        listener.Stop();
        Assert.Equal(AhrvoErrorKind.MayHaveBeenApplied, r.Error?.Kind);
        Assert.Equal(1, r.Attempts);
        Assert.Equal(1, Volatile.Read(ref received));
    }

    [Fact]
    public async Task A_post_to_a_port_that_refuses_the_connection_is_tried_again_since_nothing_was_sent()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop(); // nobody listens there now: connecting is refused
        ApiResponse r;
        using (var client = Client(port))
            r = await client.SendAsync(new ApiRequest("POST", "/card/issuance/api/issuing/card/v2/normal/topup") { Body = "{}" }).WaitAsync(InMemoryClient.Liveness);
        Assert.True(r.Attempts > 1, $"{r.Attempts} attempt(s): {r.Error?.Message}");
        Assert.NotEqual(AhrvoErrorKind.MayHaveBeenApplied, r.Error?.Kind);
        Assert.Equal(AhrvoErrorKind.ServiceUnavailable, r.Error?.Kind);
    }
}
