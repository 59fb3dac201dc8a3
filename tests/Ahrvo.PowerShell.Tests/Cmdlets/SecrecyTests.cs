using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Ahrvo.PowerShell.Tests.Support;
using Ahrvo.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>
/// Every cmdlet, end to end in a real pwsh with transcript and audit log: no secret and no full card
/// number in any stream, format, error or file, whatever the API sends back.
/// </summary>
public sealed class SecrecyTests(ITestOutputHelper log)
{
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
                new { kind = "slow", delayMs = 600_000, cardIds = new[] { "cardslow" } },
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
            function Connect-Test { Connect-Ahrvo -BaseUri $env:T_URI -AuditLogPath $env:T_AUDIT -MaxRetries 1 -RetryBaseDelayMs 10 -AttemptTimeoutSec 1 -TimeoutSec 2 -Verbose -Debug }

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
            # A card that never answers, alone on a fresh connection: in the mix above the failing
            # cards can make the service look down, and then it ends as CircuitOpen, not Timeout.
            Connect-Test
            Get-AhrvoCardBalance -CardId cardslow -Verbose -Debug

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
        log.WriteLine($"stdout {r.StdOut.Length} chars, stderr {r.StdErr.Length}, transcript {transcriptText.Length}, audit {auditText.Length}");
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
}
