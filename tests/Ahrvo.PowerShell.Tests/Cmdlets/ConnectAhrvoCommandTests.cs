using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>
/// Connect-Ahrvo as PowerShell runs it, and Get-AhrvoConnection showing what it made: credentials,
/// environments, settings, refused addresses, proxies and the audit log.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class ConnectAhrvoCommandTests(EmulatorFixture sample, CardsEmulatorFixture cards, ITestOutputHelper log) : IAsyncLifetime
{
    private const string Good = EmulatorFixture.Sample; // 1468.87

    public async Task InitializeAsync()
    {
        await sample.FreshAsync();
        await cards.FreshAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Connect(string parameters = "") => EmulatorFixtureBase.Connect(parameters);

    private ScriptResult Run(string script, params (string, object?)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, sample.Variables(vars));

    [Fact]
    public void Connect_reads_environment_variables_and_says_what_is_missing()
    {
        var r = PowerShellHost.Run($$"""
            $env:AHRVO_API_KEY = $null; $env:AHRVO_ACCESS_TOKEN = $null
            try { Connect-Ahrvo -BaseUri $emuUri } catch { "missing: " + $_.Exception.Message }
            $env:AHRVO_API_KEY = $emuKey; $env:AHRVO_ACCESS_TOKEN = $emuToken
            try {
                Connect-Ahrvo -BaseUri $emuUri
                (Get-AhrvoConnection).CredentialSource
                (Get-AhrvoCardBalance {{Good}}).AvailableBalance
            } finally { $env:AHRVO_API_KEY = $null; $env:AHRVO_ACCESS_TOKEN = $null }
            """, sample.Variables());
        Assert.Contains("AHRVO_API_KEY", r.Output[0].ToString());
        Assert.Contains("AHRVO_ACCESS_TOKEN", r.Output[0].ToString());
        Assert.Equal("environment", r.Output[1].ToString());
        Assert.Equal(1468.87m, (decimal)r.Output[2].BaseObject);
    }

    [Fact]
    public void Production_is_the_default_and_staging_is_selectable()
    {
        var r = PowerShellHost.Run("""
            Connect-Ahrvo -ApiKey (ConvertTo-SecureString k -AsPlainText -Force) -AccessToken (ConvertTo-SecureString t -AsPlainText -Force)
            "$((Get-AhrvoConnection).Environment) $((Get-AhrvoConnection).BaseUri)"
            Connect-Ahrvo -Environment Staging -ApiKey (ConvertTo-SecureString k -AsPlainText -Force) -AccessToken (ConvertTo-SecureString t -AsPlainText -Force)
            "$((Get-AhrvoConnection).Environment) $((Get-AhrvoConnection).BaseUri)"
            Disconnect-Ahrvo
            Get-AhrvoConnection
            """);
        Assert.Equal("Production https://api.ahrvo.network/", r.Output[0].ToString());
        Assert.Equal("Staging https://gateway.ahrvo.network/", r.Output[1].ToString());
        Assert.Equal(2, r.Output.Count);
        Assert.Empty(r.Errors); // not connected: nothing, as Get-MgContext and Get-AzContext, and no error
    }

    [Fact]
    public void ConnectedAt_is_UTC_and_the_view_says_so()
    {
        var before = DateTimeOffset.UtcNow;
        var r = PowerShellHost.Run("""
            Connect-Ahrvo -ApiKey (ConvertTo-SecureString k -AsPlainText -Force) -AccessToken (ConvertTo-SecureString t -AsPlainText -Force)
            (Get-AhrvoConnection).ConnectedAt
            Update-FormatData -PrependPath $format
            Get-AhrvoConnection | Out-String -Width 200
            """, new Dictionary<string, object?> { ["format"] = FormatFile });
        Assert.Empty(r.Errors);
        var at = (DateTimeOffset)r.Output[0].BaseObject;
        Assert.Equal(TimeSpan.Zero, at.Offset);
        Assert.InRange(at, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Matches(@"ConnectedAt\s+: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", r.Output[1].ToString());
    }

    [Fact]
    public void Connection_shows_no_secret_and_two_connections_work_side_by_side()
    {
        var r = Run($$"""
            $a = Get-AhrvoConnection
            $b = Connect-Ahrvo -BaseUri $emuUri -ApiKey (ConvertTo-SecureString 'wrong-key' -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emuToken -AsPlainText -Force) -PassThru
            $a | ConvertTo-Json -Depth 5
            "$a $b"
            (Get-AhrvoCardBalance {{Good}} -Connection $a).AvailableBalance
            try { Get-AhrvoCardBalance {{Good}} -Connection $b -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }
            """);
        var all = r.AllText();
        Assert.DoesNotContain(sample.Emulator.ApiKey, all);
        Assert.DoesNotContain(sample.Emulator.AccessToken, all);
        Assert.DoesNotContain("wrong-key", all);
        Assert.Contains(r.Output, o => o.BaseObject is decimal d && d == 1468.87m);
        Assert.Contains(r.Output, o => o.ToString().StartsWith("Ahrvo.Unauthorized"));
    }

    [Fact]
    public void Settings_are_shown_by_Get_AhrvoConnection_with_good_defaults()
    {
        var r = PowerShellHost.Run(Connect() + "Get-AhrvoConnection\n"
            + Connect("-MaxRetries 5 -TimeoutSec 60 -AttemptTimeoutSec 10 -MaxRetryDelaySec 7 -RetryBaseDelayMs 250 -MaxRequestsPerSecond 12.5 -Proxy http://127.0.0.1:3128/") + "Get-AhrvoConnection",
            sample.Variables());
        Assert.Empty(r.Errors);
        var d = (AhrvoConnection)r.Output[0].BaseObject;
        Assert.Equal(3, d.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(30), d.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(120), d.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(30), d.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(500), d.RetryBaseDelay);
        Assert.Null(d.MaxRequestsPerSecond);
        Assert.Null(d.Proxy);
        var c = (AhrvoConnection)r.Output[1].BaseObject;
        Assert.Equal(5, c.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(10), c.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), c.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(7), c.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(250), c.RetryBaseDelay);
        Assert.Equal(12.5, c.MaxRequestsPerSecond);
        Assert.Equal(new Uri("http://127.0.0.1:3128/"), c.Proxy);
    }

    [Theory]
    [InlineData("-BaseUri http://api.example.test/", "Plain http is refused")]
    [InlineData("-BaseUri http://10.1.2.3:8080/", "Plain http is refused")]
    [InlineData("-BaseUri https://user:hunter2-secret@api.example.test/", "user name or password")]
    [InlineData("-BaseUri https://api.example.test/ -Proxy http://user:hunter2-secret@proxy.example.test:3128/", "-ProxyCredential")]
    [InlineData("-BaseUri $emuUri -Proxy http://proxy.example.test:3128/", "the proxy would see the API key")]
    [InlineData("-BaseUri ftp://api.example.test/", "not supported")]
    public void Unsafe_connections_are_refused_with_a_clear_error(string parameters, string expected)
    {
        var r = PowerShellHost.Run("Connect-Ahrvo -ApiKey $emuKeySecure -AccessToken $emuTokenSecure " + parameters, sample.Variables());
        var error = r.Errors.SingleOrDefault() ?? (r.Terminating as IContainsErrorRecord)?.ErrorRecord;
        Assert.NotNull(error);
        Assert.Equal("Ahrvo.InvalidConnection", ErrorId(error));
        Assert.Contains(expected, error.Exception.Message);
        Assert.DoesNotContain("hunter2", r.AllText());
    }

    [Fact]
    public async Task An_explicit_proxy_with_credentials_carries_every_request()
    {
        var emu = cards.Emulator;
        using var proxy = new TestProxy("proxyuser", "proxy-pass-1");
        var ids = CardsEmulatorFixture.Ids(5);
        var cred = new PSCredential("proxyuser", CardsEmulatorFixture.Secure("proxy-pass-1"));
        var r = PowerShellHost.Run(Connect("-Proxy $proxyUri -ProxyCredential $proxyCred -MaxRetries 0") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 1\nGet-AhrvoConnection",
            cards.Variables(("ids", ids), ("proxyUri", proxy.Uri), ("proxyCred", cred)));

        Assert.Empty(r.Errors);
        Assert.Equal(ids, r.Output.Take(5).Select(o => ((CardBalance)o.BaseObject).CardId));
        Assert.Equal(proxy.Uri, ((AhrvoConnection)r.Output[5].BaseObject).Proxy);
        var lines = proxy.RequestLines.ToArray();
        foreach (var l in lines) log.WriteLine(l);
        foreach (var id in ids)
            Assert.Contains($"GET {emu.BaseUri}card/issuance/api/issuing/card/v2/normal/balance?card_id={id} HTTP/1.1", lines);
        Assert.True(proxy.Challenges >= 1, "the proxy never asked for credentials");
        Assert.Equal(5, (await emu.GetStatsAsync(limit: 0)).BalanceRequests);
        Assert.DoesNotContain("proxy-pass-1", r.AllText());
    }

    [Fact]
    public async Task System_proxy_settings_are_honoured_for_https_but_never_get_plain_http()
    {
        var emu = cards.Emulator;
        using var proxy = new TestProxy();
        // A port with nothing behind it, reached through an IPv4-mapped address: .NET does not see it
        // as loopback, so it goes to the proxy; were it sent directly it would still stay on this machine.
        var free = new TcpListener(IPAddress.Loopback, 0);
        free.Start();
        int port = ((IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();
        string host = $"[::ffff:127.0.0.1]:{port}";
        const string script = """
            Import-Module $env:AHRVO_TEST_MODULE
            Connect-Ahrvo -BaseUri $env:T_HTTPS -MaxRetries 0
            Get-AhrvoCardBalance -CardId card201907021723076245 2>&1 | ForEach-Object { "HTTPS " + $_.FullyQualifiedErrorId + " " + $_.Exception.Message }
            Connect-Ahrvo -BaseUri $env:T_HTTP -MaxRetries 0
            "HTTP " + (Get-AhrvoCardBalance -CardId card201900000000000000).AvailableBalance
            """;
        var env = new Dictionary<string, string?>
        {
            ["AHRVO_API_KEY"] = emu.ApiKey, ["AHRVO_ACCESS_TOKEN"] = emu.AccessToken,
            ["T_HTTPS"] = $"https://{host}/", ["T_HTTP"] = emu.BaseUri.ToString(),
            ["HTTPS_PROXY"] = proxy.Uri.ToString(), ["HTTP_PROXY"] = proxy.Uri.ToString(),
        };
        var via = await PwshProcess.RunAsync(script, env);
        log.WriteLine(via.All);
        // https: the system proxy got the CONNECT.
        Assert.Contains($"CONNECT {host} HTTP/1.1", proxy.RequestLines);
        Assert.Contains("HTTPS Ahrvo.ServiceUnavailable", via.StdOut);
        Assert.Contains("proxy", via.StdOut);
        // Plain http to the loopback emulator went direct, although HTTP_PROXY was set: a proxy
        // would have seen the API key in clear.
        Assert.Contains("HTTP " + CardsEmulatorFixture.Cards[0].AvailableBalance, via.StdOut);
        Assert.DoesNotContain(proxy.RequestLines, l => l.StartsWith("GET", StringComparison.Ordinal));

        // NO_PROXY exempts the host: the proxy hears nothing, the connection is refused directly.
        env["NO_PROXY"] = "[::ffff:127.0.0.1]";
        int before = proxy.RequestLines.Count;
        var direct = await PwshProcess.RunAsync(script, env);
        log.WriteLine(direct.All);
        Assert.Equal(before, proxy.RequestLines.Count);
        Assert.Contains("HTTPS Ahrvo.ServiceUnavailable", direct.StdOut);
        Assert.Contains("refused", direct.StdOut);
    }

    [Fact]
    public async Task Audit_lines_stay_whole_under_parallel_queries_and_several_processes()
    {
        var emu = cards.Emulator;
        var dir = Directory.CreateTempSubdirectory("ahrvo-audit-");
        string audit = Path.Combine(dir.FullName, "audit.jsonl");
        const int perProcess = 700, processes = 2;
        const string script = """
            $ErrorActionPreference = 'Stop'
            Import-Module $env:AHRVO_TEST_MODULE
            Connect-Ahrvo -BaseUri $env:T_URI -AuditLogPath $env:T_AUDIT
            $ids = 0..($env:T_COUNT - 1) | ForEach-Object { 'card2019' + ([int]$_ + [int]$env:T_OFFSET).ToString('D14') }
            $n = (Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 32 -ErrorAction SilentlyContinue | Measure-Object).Count
            "OK $n"
            """;
        var runs = Enumerable.Range(0, processes).Select(i => PwshProcess.RunAsync(script, new Dictionary<string, string?>
        {
            ["AHRVO_API_KEY"] = emu.ApiKey, ["AHRVO_ACCESS_TOKEN"] = emu.AccessToken, ["T_URI"] = emu.BaseUri.ToString(),
            ["T_AUDIT"] = audit, ["T_COUNT"] = perProcess.ToString(), ["T_OFFSET"] = (i * perProcess).ToString(),
        })).ToArray();
        // And this process appends to the same file at the same time, from 32 workers.
        var ids = CardsEmulatorFixture.Ids(CardsEmulatorFixture.GeneratedCards).Skip(processes * perProcess).ToArray();
        var local = PowerShellHost.Run(Connect($"-AuditLogPath '{audit}'") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 32 -ErrorAction SilentlyContinue | Measure-Object | % Count", cards.Variables(("ids", ids)));
        var results = await Task.WhenAll(runs);
        foreach (var run in results) Assert.True(run.ExitCode == 0, run.All);
        Assert.Null(local.Terminating);

        var lines = File.ReadAllLines(audit);
        dir.Delete(recursive: true);
        log.WriteLine($"{lines.Length} audit lines from {processes} pwsh processes and this one; longest {lines.Max(l => l.Length)} chars");
        Assert.Equal(CardsEmulatorFixture.GeneratedCards, lines.Length);
        var seen = new HashSet<string>();
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line); // throws on a torn or interleaved line
            var o = doc.RootElement;
            Assert.Equal(new[] { "time", "cardId", "outcome", "httpStatus", "durationMs", "attempts" }, o.EnumerateObject().Select(p => p.Name));
            Assert.True(seen.Add(o.GetProperty("cardId").GetString()!));
            Assert.DoesNotContain("balance", line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(emu.ApiKey, line);
        }
        Assert.Equal(CardsEmulatorFixture.Ids(CardsEmulatorFixture.GeneratedCards).ToHashSet(), seen);
    }
}
