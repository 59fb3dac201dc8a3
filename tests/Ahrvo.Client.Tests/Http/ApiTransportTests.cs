using System.Net;
using System.Net.Sockets;
using System.Text;
using Ahrvo.Client.Http;
using Ahrvo.Client.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Client.Tests.Http;

/// <summary>
/// The HTTP side of a connection: how its HttpClient and handler are set up, and what one request
/// carries. In memory; the real socket path is exercised against the emulator by the module's tests
/// (tests/Ahrvo.PowerShell.Tests: URL encoding, redirects, resets, headers the emulator checks).
/// </summary>
public sealed class ApiTransportTests
{
    private static AhrvoClientOptions Options(Uri baseUri) =>
        new(baseUri, TestSecrets.Secure(InMemoryClient.ApiKey), TestSecrets.Secure(InMemoryClient.Token));

    [Fact]
    public void HttpClient_never_times_out_on_its_own_and_the_handler_never_follows_redirects_or_skips_certificate_checks()
    {
        var loopback = new Uri("http://127.0.0.1:5000/");
        using var client = new AhrvoClient(Options(loopback));
        Assert.Equal(Timeout.InfiniteTimeSpan, client.CreateHttpClient().Timeout);

        var http = (HttpClientHandler)ApiTransport.CreateHandler(Options(loopback));
        Assert.False(http.AllowAutoRedirect);
        Assert.Null(http.ServerCertificateCustomValidationCallback);
        Assert.False(http.UseProxy); // plain http (loopback): never to a system proxy

        var https = (HttpClientHandler)ApiTransport.CreateHandler(Options(new Uri("https://api.example.test/")));
        Assert.True(https.UseProxy);
        Assert.Null(https.Proxy); // system settings
        Assert.Null(https.ServerCertificateCustomValidationCallback);

        var o = Options(new Uri("https://api.example.test/"));
        o.Proxy = new Uri("http://127.0.0.1:3128/");
        var explicitProxy = (HttpClientHandler)ApiTransport.CreateHandler(o);
        Assert.Equal(new Uri("http://127.0.0.1:3128/"), explicitProxy.Proxy!.GetProxy(new Uri("https://api.example.test/x")));
    }

    /// <summary>Keeps what the handler was given: the request is disposed once answered.</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        public readonly List<(HttpMethod Method, Uri Uri, Dictionary<string, string> Headers)> Seen = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Seen.Add((request.Method, request.RequestUri!, request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase)));
            return Task.FromResult(ScriptedHandler.Balance("any"));
        }
    }

    [Fact]
    public async Task A_request_is_one_GET_under_the_base_path_with_the_card_id_as_one_encoded_value_and_the_credentials_in_headers()
    {
        var handler = new RecordingHandler();
        using var client = InMemoryClient.Create(handler, new FakeTimeProvider(), o => o.UserAgent = "Ahrvo.Test/1.0");
        const string id = "card1&card_id=card2 #é";
        Assert.True((await client.GetBalanceAsync(id)).Success);

        var (method, uri, headers) = Assert.Single(handler.Seen);
        Assert.Equal(HttpMethod.Get, method);
        Assert.Equal("https://api.example.test/card/issuance/api/issuing/card/v2/normal/balance?card_id=card1%26card_id%3Dcard2%20%23%C3%A9", uri.AbsoluteUri);
        Assert.Equal("Bearer " + InMemoryClient.Token, headers["Authorization"]);
        Assert.Equal(InMemoryClient.ApiKey, headers["x-api-key"]);
        Assert.Equal("application/json", headers["Accept"]);
        Assert.Equal("Ahrvo.Test/1.0", headers["User-Agent"]);
    }

    [Fact]
    public async Task A_base_uri_with_a_path_keeps_it()
    {
        var handler = new RecordingHandler();
        using var gateway = new AhrvoClient(new AhrvoClientOptions(new Uri("https://gw.example.test/ahrvo"), TestSecrets.Secure("k"), TestSecrets.Secure("t"))
        {
            HandlerFactory = () => handler,
            Time = new FakeTimeProvider(),
        });
        Assert.True((await gateway.GetBalanceAsync("card1")).Success);
        Assert.Equal("/ahrvo/card/issuance/api/issuing/card/v2/normal/balance", Assert.Single(handler.Seen).Uri.AbsolutePath);
    }

    /// <summary>
    /// A loopback HTTP/1.1 server: every request gets 200 with a balance body and its Content-Length,
    /// but the first <paramref name="cutFirst"/> get only half the body before the connection closes.
    /// </summary>
    private sealed class CuttingServer : IDisposable
    {
        private const string Body = """{"code":"SUCCESS","data":{"card_number":"5157********2686","available_balance":"12.50"}}""";
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly int _cutFirst;
        private int _served;

        public CuttingServer(int cutFirst)
        {
            _cutFirst = cutFirst;
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

        public int Served => Volatile.Read(ref _served);

        private async Task ServeAsync()
        {
            try
            {
                while (true)
                {
                    using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    var head = new byte[8192];
                    int n = 0;
                    while (n < head.Length && !Encoding.ASCII.GetString(head, 0, n).Contains("\r\n\r\n"))
                    {
                        int r = await socket.ReceiveAsync(head.AsMemory(n), SocketFlags.None, _stop.Token);
                        if (r == 0) break;
                        n += r;
                    }
                    var body = Encoding.UTF8.GetBytes(Body);
                    bool cut = Interlocked.Increment(ref _served) <= _cutFirst;
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"), SocketFlags.None, _stop.Token);
                    await socket.SendAsync(cut ? body.AsMemory(0, body.Length / 2) : body, SocketFlags.None, _stop.Token);
                    socket.Shutdown(SocketShutdown.Both);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }

    [Fact]
    public async Task A_200_whose_body_the_real_handler_sees_cut_short_is_retried_and_said_to_be_cut_off_in_transit()
    {
        // SocketsHttpHandler checks the body against its Content-Length and throws an IOException
        // ("the response ended prematurely"): a network failure, retried, never an unreadable answer.
        using var server = new CuttingServer(cutFirst: 1);
        var clock = new FakeTimeProvider(SteppedClock.Start);
        var o = Options(server.BaseUri);
        o.Time = clock;
        // Minutes of fake time per attempt, moved 50 ms at a time below: a live attempt never times out on a slow machine.
        o.AttemptTimeout = TimeSpan.FromMinutes(10);
        o.TotalTimeout = TimeSpan.FromMinutes(30);
        using var client = new AhrvoClient(o);
        var lines = new List<string>();
        var diag = new Ahrvo.Client.Diagnostics.RequestDiagnostics(verbose: true, debug: false, m => { lock (lines) lines.Add(m.Text); });
        var read = client.GetBalanceAsync("card1", diag);
        var real = System.Diagnostics.Stopwatch.StartNew();
        while (!read.IsCompleted)
        {
            if (real.Elapsed > InMemoryClient.Liveness) throw new TimeoutException("the card never ended");
            clock.Advance(TimeSpan.FromMilliseconds(50)); // the backoff before the retry
            await Task.Delay(5);
        }
        var r = await read;
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(12.50m, r.AvailableBalance);
        Assert.Equal(2, r.Attempts);
        Assert.Equal(2, server.Served);
        lock (lines) Assert.Contains(lines, l => l.Contains("the answer (HTTP 200) was cut off in transit after 44 byte(s) of its body"));
    }
}
