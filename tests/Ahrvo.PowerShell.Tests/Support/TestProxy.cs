using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// A tiny HTTP proxy on 127.0.0.1 for the proxy tests. It records every request line (absolute-form
/// for http, CONNECT for https). Absolute-form requests are forwarded, one per connection, and only
/// to loopback targets; CONNECT is recorded and refused with 502, which is proof enough that the
/// client used the proxy, and keeps every byte on this machine. A test can also hold requests back
/// (<see cref="Hold"/>) until it lets them go (<see cref="Release"/>): the one way to make a card be
/// answered after others that does not depend on how long anything takes.
/// </summary>
public sealed class TestProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly string? _expectedAuthorization;

    public TestProxy(string? user = null, string? password = null)
    {
        if (user != null)
            _expectedAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    private readonly object _holdGate = new();
    private Func<string, bool>? _hold;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _heldSoFar;

    /// <summary>Requests whose request line matches are not forwarded until <see cref="Release"/>.</summary>
    public void Hold(Func<string, bool> requestLine)
    {
        lock (_holdGate) _hold = requestLine;
    }

    /// <summary>Forwards the requests held so far, and holds no more.</summary>
    public void Release()
    {
        lock (_holdGate)
        {
            _hold = null;
            _released.TrySetResult();
        }
    }

    /// <summary>Requests that have been held (counted when they arrive, so a test knows one is waiting).</summary>
    public int HeldSoFar => Volatile.Read(ref _heldSoFar);

    public Uri Uri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    public ConcurrentQueue<string> RequestLines { get; } = new();

    /// <summary>How many requests were answered 407 because they carried no (or wrong) proxy credentials.</summary>
    public int Challenges;

    /// <summary>Request heads as received (for checking what a proxy gets to see).</summary>
    public ConcurrentQueue<string> Heads { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_cts.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream);
                if (head == null) return;
                Heads.Enqueue(head);
                var lines = head.Split("\r\n");
                RequestLines.Enqueue(lines[0]);
                var parts = lines[0].Split(' ');
                if (parts.Length != 3) { await ReplyAsync(stream, "400 Bad Request"); return; }

                if (_expectedAuthorization != null)
                {
                    var auth = lines.FirstOrDefault(l => l.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase));
                    if (auth == null || auth.Substring(auth.IndexOf(':') + 1).Trim() != _expectedAuthorization)
                    {
                        Interlocked.Increment(ref Challenges);
                        await ReplyAsync(stream, "407 Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"ahrvo-test\"\r\n");
                        return;
                    }
                }

                if (parts[0] == "CONNECT") { await ReplyAsync(stream, "502 Bad Gateway"); return; }

                if (!Uri.TryCreate(parts[1], UriKind.Absolute, out var target) || !target.IsLoopback || target.Scheme != "http")
                {
                    await ReplyAsync(stream, "502 Bad Gateway");
                    return;
                }

                Task? gate = null;
                lock (_holdGate)
                {
                    if (_hold?.Invoke(lines[0]) == true) gate = _released.Task;
                }
                if (gate != null)
                {
                    Interlocked.Increment(ref _heldSoFar);
                    await gate.WaitAsync(_cts.Token);
                }

                using var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, target.Port);
                var up = upstream.GetStream();
                var forwarded = new StringBuilder();
                forwarded.Append(parts[0]).Append(' ').Append(target.PathAndQuery).Append(' ').Append(parts[2]).Append("\r\n");
                foreach (var l in lines.Skip(1))
                {
                    if (l.Length == 0) continue;
                    if (l.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) || l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase)) continue;
                    forwarded.Append(l).Append("\r\n");
                }
                forwarded.Append("Connection: close\r\n\r\n");
                var bytes = Encoding.ASCII.GetBytes(forwarded.ToString());
                await up.WriteAsync(bytes);
                await up.CopyToAsync(stream); // the upstream closes after one response (Connection: close)
            }
            catch (IOException) { }
            catch (SocketException) { }
            catch (OperationCanceledException) { } // disposed while a request was held
        }
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 64 * 1024)
        {
            int n = await stream.ReadAsync(one);
            if (n == 0) return null;
            buffer.Add(one[0]);
            int c = buffer.Count;
            if (c >= 4 && buffer[c - 4] == '\r' && buffer[c - 3] == '\n' && buffer[c - 2] == '\r' && buffer[c - 1] == '\n')
                return Encoding.ASCII.GetString(buffer.ToArray(), 0, c - 4);
        }
        return null;
    }

    private static async Task ReplyAsync(NetworkStream stream, string status, string extraHeaders = "")
    {
        var bytes = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\n{extraHeaders}Content-Length: 0\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
    }
}
