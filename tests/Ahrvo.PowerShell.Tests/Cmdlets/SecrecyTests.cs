using System.Management.Automation;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Ahrvo.PowerShell.Tests.Support;
using Ahrvo.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.PowerShell.Tests;

/// <summary>Secrets, card numbers, transport security, proxies and the audit log.</summary>
public sealed class SecurityTests(CardsEmulatorFixture fx, ITestOutputHelper log) : IClassFixture<CardsEmulatorFixture>
{
    private static string Connect(string parameters = "") => CardsEmulatorFixture.Connect(parameters);

    private static string ErrorId(ErrorRecord e) => e.FullyQualifiedErrorId.Split(',')[0];

    private static string NewSecret(string prefix) => prefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    private const string FullPan = "5157123456782686";
    private const string MaskedPan = "515712******2686";

    [Fact]
    public async Task A_full_run_never_shows_a_secret_or_a_full_card_number_in_any_stream_transcript_or_log()
    {
        string key = NewSecret("key-"), token = NewSecret("tok-"), wrongKey = NewSecret("wkey-"), wrongToken = NewSecret("wtok-");
        await using var emu = await EmulatorProcess.StartAsync("--api-key", key, "--access-token", token);
        await emu.PutCardAsync("cardpan001", "12.34", cardNumber: FullPan);
        await emu.PutCardAsync("cardnan001", "NaN");
        string Echo(string what) => $$"""{"code":"REJECTED","message":"{{what}} key {{key}} token {{token}} card {{FullPan}}"}""";
        await emu.SetConfigAsync(new
        {
            faults = new object[]
            {
                new { kind = "500", cardIds = new[] { "cardfault500" } },
                new { kind = "503", retryAfter = "1", firstAttempts = 1, cardIds = new[] { "cardretry503" } },
                new { kind = "slow", delayMs = 5000, cardIds = new[] { "cardslow" } },
                new { kind = "reset", cardIds = new[] { "cardreset" } },
                new { kind = "truncated", cardIds = new[] { "cardtrunc" } },
                new { kind = "nonjson", cardIds = new[] { "cardnonjson" } },
                new { kind = "html", cardIds = new[] { "cardhtml" } },
                new { kind = "emptybody", cardIds = new[] { "cardempty" } },
                (object)new { kind = "body", status = 400, body = Echo("bad request"), cardIds = new[] { "cardecho400" } },
                new { kind = "body", status = 200, body = Echo("denied"), cardIds = new[] { "cardecho200" } },
                new { kind = "body", status = 503, body = Echo("overloaded"), cardIds = new[] { "cardecho503" } },
            },
        });
        var ids = new[]
        {
            "card201907021723076245", "cardpan001", "cardunknown", "card201907021723076255", "bad&id", "cardfault500", "cardretry503",
            "cardslow", "cardreset", "cardtrunc", "cardnonjson", "cardhtml", "cardempty", "cardnan001", "cardecho400", "cardecho200", "cardecho503",
        };
        var dir = Directory.CreateTempSubdirectory("ahrvo-sec-");
        string transcript = Path.Combine(dir.FullName, "transcript.txt"), audit = Path.Combine(dir.FullName, "audit.jsonl");
        var redirectTarget = new TcpListener(IPAddress.Loopback, 0);
        redirectTarget.Start();

        const string script = """
            $ErrorActionPreference = 'Continue'
            $ProgressPreference = 'SilentlyContinue'
            # Plain text: colour escapes could split a secret and hide it from the scan.
            $PSStyle.OutputRendering = 'PlainText'
            Import-Module $env:AHRVO_TEST_MODULE
            Start-Transcript -Path $env:T_TRANSCRIPT | Out-Null
            $VerbosePreference = 'Continue'
            $DebugPreference = 'Continue'
            $ids = $env:T_IDS -split ','
            function Set-Emu($json) { Invoke-RestMethod -Method Post -Uri ($env:T_URI + '_emulator/config') -ContentType 'application/json' -Body $json -Verbose:$false -Debug:$false | Out-Null }
            function Connect-Test { Connect-Ahrvo -BaseUri $env:T_URI -AuditLogPath $env:T_AUDIT -MaxRetries 1 -RetryBaseDelayMs 10 -AttemptTimeoutSec 1 -TimeoutSec 3 -Verbose -Debug }

            Connect-Test
            $c = Get-AhrvoConnection
            $c
            $c | Format-List * -Force | Out-String -Width 300
            $c | ConvertTo-Json -Depth 4
            "$c"
            $b = Get-AhrvoCardBalance -CardId $ids -Verbose -Debug
            $b | Format-Table -AutoSize | Out-String -Width 300
            $b | Format-List * | Out-String -Width 300
            $b | ConvertTo-Json -Depth 4
            $b | ForEach-Object { $_.ToString() }
            Test-AhrvoCardBalance -CardId $ids[0..2] -Amount 5 -Detailed -Verbose -Debug | ConvertTo-Json -Depth 4
            Get-AhrvoCardBalance -CardId ''
            Get-AhrvoCardBalance -CardId ('x' * 200)

            Set-Emu ('{"redirectTo":"' + $env:T_REDIRECT + '"}')
            Get-AhrvoCardBalance -CardId $ids[0] -Verbose -Debug
            Set-Emu '{"redirectTo":null,"issuanceDisabled":true}'
            Get-AhrvoCardBalance -CardId $ids[0] -Verbose -Debug
            # A fresh connection (its own circuit breaker) against a service that is down.
            Set-Emu '{"issuanceDisabled":false,"failAll":"500"}'
            Connect-Test
            Get-AhrvoCardBalance -CardId (1..12 | ForEach-Object { "cardfail$_" }) -Verbose -Debug
            Set-Emu '{"failAll":null}'

            $env:AHRVO_API_KEY = $env:T_WRONG_KEY
            $env:AHRVO_ACCESS_TOKEN = $env:T_WRONG_TOKEN
            Connect-Ahrvo -BaseUri $env:T_URI -AuditLogPath $env:T_AUDIT -Verbose -Debug
            Get-AhrvoConnection | Format-List * -Force | Out-String -Width 300
            Get-AhrvoCardBalance -CardId $ids[0] -Verbose -Debug
            Disconnect-Ahrvo -Verbose

            # One error of each kind, in every form a user might print it.
            foreach ($e in ($Error | Group-Object FullyQualifiedErrorId | ForEach-Object { $_.Group[0] })) {
                $e | Format-List * -Force | Out-String -Width 400
                $e.Exception | Format-List * -Force | Out-String -Width 400
                $e.Exception.ToString()
                $e.ErrorDetails | Format-List * -Force | Out-String -Width 400
                $e | Get-Error | Out-String -Width 400
            }
            'ERRORIDS: ' + (($Error | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] } | Sort-Object -Unique) -join ' ')
            Stop-Transcript | Out-Null
            """;
        var env = new Dictionary<string, string?>
        {
            ["AHRVO_API_KEY"] = key,
            ["AHRVO_ACCESS_TOKEN"] = token,
            ["T_WRONG_KEY"] = wrongKey,
            ["T_WRONG_TOKEN"] = wrongToken,
            ["T_URI"] = emu.BaseUri.ToString(),
            ["T_IDS"] = string.Join(',', ids),
            ["T_TRANSCRIPT"] = transcript,
            ["T_AUDIT"] = audit,
            ["T_REDIRECT"] = $"http://127.0.0.1:{((IPEndPoint)redirectTarget.LocalEndpoint).Port}",
            ["NO_COLOR"] = "1",
        };
        PwshResult r;
        try
        {
            r = await PwshProcess.RunAsync(script, env, TimeSpan.FromMinutes(4));
        }
        finally
        {
            redirectTarget.Stop();
        }

        string transcriptText = File.ReadAllText(transcript), auditText = File.ReadAllText(audit);
        dir.Delete(recursive: true);
        var everything = new Dictionary<string, string> { ["stdout"] = r.StdOut, ["stderr"] = r.StdErr, ["transcript"] = transcriptText, ["audit log"] = auditText };
        log.WriteLine($"pwsh ran {r.Elapsed.TotalSeconds:0.0} s; stdout {r.StdOut.Length} chars, stderr {r.StdErr.Length}, transcript {transcriptText.Length}, audit {auditText.Length}");
        log.WriteLine(r.StdOut.Split('\n').LastOrDefault(l => l.StartsWith("ERRORIDS", StringComparison.Ordinal)) ?? "(no error ids)");

        foreach (var (where, text) in everything)
            foreach (var secret in new[] { key, token, wrongKey, wrongToken, FullPan })
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} contains a secret or full card number ({secret[..4]}…)");

        // Not vacuous: the run did produce every kind of output and error the scan was meant to cover.
        var errorIds = r.StdOut.Split('\n').Single(l => l.StartsWith("ERRORIDS", StringComparison.Ordinal));
        foreach (var id in new[] { "Ahrvo.CardNotFound", "Ahrvo.InvalidCard", "Ahrvo.ServiceUnavailable", "Ahrvo.Timeout", "Ahrvo.InvalidResponse",
                     "Ahrvo.ApiError", "Ahrvo.Redirect", "Ahrvo.Forbidden", "Ahrvo.Unauthorized", "Ahrvo.CircuitOpen" })
            Assert.Contains(id, errorIds);
        Assert.Contains("Authorization: Bearer ***REDACTED***", transcriptText);
        Assert.Contains("x-api-key: ***REDACTED***", transcriptText);
        Assert.Contains(MaskedPan, transcriptText);
        Assert.Contains("The API said: bad request key ***REDACTED*** token ***REDACTED*** card 515712******2686", transcriptText);
        Assert.True(auditText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= ids.Length);
    }

    [Fact]
    public async Task Audit_lines_stay_whole_under_parallel_queries_and_several_processes()
    {
        var emu = await fx.FreshAsync();
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
        var local = PowerShellHost.Run(Connect($"-AuditLogPath '{audit}'") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 32 -ErrorAction SilentlyContinue | Measure-Object | % Count", fx.Variables(("ids", ids)));
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

    [Theory]
    [InlineData("-BaseUri http://api.example.test/", "Plain http is refused")]
    [InlineData("-BaseUri http://10.1.2.3:8080/", "Plain http is refused")]
    [InlineData("-BaseUri https://user:hunter2-secret@api.example.test/", "user name or password")]
    [InlineData("-BaseUri https://api.example.test/ -Proxy http://user:hunter2-secret@proxy.example.test:3128/", "-ProxyCredential")]
    [InlineData("-BaseUri $emuUri -Proxy http://proxy.example.test:3128/", "the proxy would see the API key")]
    [InlineData("-BaseUri ftp://api.example.test/", "not supported")]
    public void Unsafe_connections_are_refused_with_a_clear_error(string parameters, string expected)
    {
        var r = PowerShellHost.Run("Connect-Ahrvo -ApiKey $emuKeySecure -AccessToken $emuTokenSecure " + parameters, fx.Variables());
        var error = r.Errors.SingleOrDefault() ?? (r.Terminating as IContainsErrorRecord)?.ErrorRecord;
        Assert.NotNull(error);
        Assert.Equal("Ahrvo.InvalidConnection", ErrorId(error));
        Assert.Contains(expected, error.Exception.Message);
        Assert.DoesNotContain("hunter2", r.AllText());
    }

    [Fact]
    public async Task Redirects_are_not_followed_and_the_card_gets_a_Redirect_error()
    {
        var emu = await fx.FreshAsync();
        var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        try
        {
            int port = ((IPEndPoint)target.LocalEndpoint).Port;
            await emu.SetConfigAsync(new { redirectTo = $"http://127.0.0.1:{port}" });
            var accepted = target.AcceptTcpClientAsync();
            var r = PowerShellHost.Run(Connect() + "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", CardsEmulatorFixture.Ids(2))));

            Assert.Empty(r.Output);
            Assert.Equal(2, r.Errors.Count);
            Assert.All(r.Errors, e =>
            {
                Assert.Equal("Ahrvo.Redirect", ErrorId(e));
                Assert.Equal(ErrorCategory.SecurityError, e.CategoryInfo.Category);
                Assert.Contains("not followed", e.Exception.Message);
            });
            Assert.False(accepted.Wait(500), "the redirect target received a connection");
            var stats = await emu.GetStatsAsync();
            Assert.Equal(2, stats.BalanceRequests); // one each: a redirect is not retried
            Assert.All(stats.Requests, q => Assert.Equal(302, q.Status));
        }
        finally
        {
            target.Stop();
        }
    }

    [Fact]
    public async Task An_untrusted_certificate_fails_once_with_a_TLS_error_and_nothing_is_sent()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var cert = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int connections = 0, requestsRead = 0;
        var cts = new CancellationTokenSource();
        var server = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                TcpClient c;
                try { c = await listener.AcceptTcpClientAsync(cts.Token); } catch { return; }
                Interlocked.Increment(ref connections);
                _ = Task.Run(async () =>
                {
                    using (c)
                    using (var ssl = new SslStream(c.GetStream()))
                    {
                        try
                        {
                            await ssl.AuthenticateAsServerAsync(cert);
                            if (await ssl.ReadAsync(new byte[1]) > 0) Interlocked.Increment(ref requestsRead);
                        }
                        catch (Exception) { /* the client refused our certificate: expected */ }
                    }
                });
            }
        });
        try
        {
            var uri = new Uri($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
            var r = PowerShellHost.Run(Connect("-MaxRetries 3 -RetryBaseDelayMs 10") + "Get-AhrvoCardBalance -CardId card201907021723076245", fx.Variables(("emuUri", uri)));
            var e = Assert.Single(r.Errors);
            log.WriteLine(e.Exception.Message);
            Assert.Equal("Ahrvo.TlsFailure", ErrorId(e));
            Assert.Equal(ErrorCategory.SecurityError, e.CategoryInfo.Category);
            Assert.Contains("never turned off", e.ErrorDetails.RecommendedAction);
            Assert.Equal(1, connections); // not retried
            Assert.Equal(0, requestsRead); // no request (and so no header) ever crossed
        }
        finally
        {
            cts.Cancel();
            listener.Stop();
        }
    }

    [Fact]
    public async Task An_explicit_proxy_with_credentials_carries_every_request()
    {
        var emu = await fx.FreshAsync();
        using var proxy = new TestProxy("proxyuser", "proxy-pass-1");
        var ids = CardsEmulatorFixture.Ids(5);
        var cred = new PSCredential("proxyuser", CardsEmulatorFixture.Secure("proxy-pass-1"));
        var r = PowerShellHost.Run(Connect("-Proxy $proxyUri -ProxyCredential $proxyCred -MaxRetries 0") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 1\nGet-AhrvoConnection",
            fx.Variables(("ids", ids), ("proxyUri", proxy.Uri), ("proxyCred", cred)));

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
        var emu = await fx.FreshAsync();
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
    public async Task A_full_card_number_from_the_API_is_masked_in_output_and_diagnostics()
    {
        var emu = await fx.FreshAsync();
        await emu.PutCardAsync("cardpanfull", "99.50", cardNumber: FullPan);
        await emu.PutCardAsync("cardpanspaced", "1.00", cardNumber: "5157 1234 5678 2686");
        await emu.PutCardAsync("cardpan19", "2.00", cardNumber: "5157123456789012345");
        var r = PowerShellHost.Run(Connect() + "Get-AhrvoCardBalance -CardId cardpanfull,cardpanspaced,cardpan19 -Verbose -Debug\nTest-AhrvoCardBalance -CardId cardpanfull -Amount 1 -Detailed", fx.Variables());
        Assert.Empty(r.Errors);
        var b = r.Output.Take(3).Select(o => (CardBalance)o.BaseObject).ToList();
        Assert.Equal(MaskedPan, b[0].CardNumber);
        Assert.Equal("5157 12** **** 2686", b[1].CardNumber);
        Assert.Equal("515712*********2345", b[2].CardNumber);
        Assert.Equal(MaskedPan, ((BalanceCheck)r.Output[3].BaseObject).CardNumber);
        var all = r.AllText();
        Assert.DoesNotContain(FullPan, all);
        Assert.DoesNotContain("5157 1234 5678 2686", all);
        Assert.DoesNotContain("5157123456789012345", all);
        Assert.Contains(r.Debug, d => d.Contains(MaskedPan)); // the debug body preview is masked too
    }
}
