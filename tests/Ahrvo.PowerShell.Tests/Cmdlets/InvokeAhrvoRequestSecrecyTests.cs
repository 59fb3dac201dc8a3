using System.Security.Cryptography;
using Ahrvo.PowerShell.Tests.Support;
using Ahrvo.TestSupport;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Invoke-AhrvoRequest in a real pwsh with -Debug, -Verbose and a transcript: no secret anywhere, even when the API echoes them.</summary>
public sealed class InvokeAhrvoRequestSecrecyTests
{
    private static string NewSecret(string prefix) => prefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    [Fact]
    public async Task No_secret_shows_in_Debug_Verbose_errors_output_or_the_transcript()
    {
        string key = NewSecret("key-"), token = NewSecret("tok-");
        await using var emu = await EmulatorProcess.StartAsync("--api-key", key, "--access-token", token);
        string echo = "{\"code\":\"ECHO\",\"message\":\"key " + key + " token " + token + "\",\"data\":{\"card_number\":\"5157123456782686\"}}";
        await emu.SetRoutesAsync($$$"""
            [{"method":"GET","path":"/card/echo","body":{{{echo}}},"headers":{"X-Echo":"{{{token}}}"}},
             {"method":"POST","path":"/card/fail","status":400,"body":{{{echo}}}},
             {"method":"POST","path":"/card/down","status":503,"body":{{{echo}}}}]
            """);
        var dir = Directory.CreateTempSubdirectory("ahrvo-reqsec-");
        string transcript = Path.Combine(dir.FullName, "transcript.txt");
        const string script = """
            $ErrorActionPreference = 'Continue'
            $PSStyle.OutputRendering = 'PlainText'
            Import-Module $env:AHRVO_TEST_MODULE
            Start-Transcript -Path $env:T_TRANSCRIPT | Out-Null
            $VerbosePreference = 'Continue'
            $DebugPreference = 'Continue'
            Connect-Ahrvo -BaseUri $env:T_URI -MaxRetries 1 -RetryBaseDelayMs 10 | Out-Null
            Invoke-AhrvoRequest GET /card/echo -ResponseHeadersVariable h -Debug -Verbose | ConvertTo-Json -Depth 5
            $h | ConvertTo-Json
            Invoke-AhrvoRequest GET /card/echo -OutputType Raw | Format-List * | Out-String -Width 400
            Invoke-AhrvoRequest POST /card/fail -Body @{ note = 'x' } -Confirm:$false -Debug -Verbose
            Invoke-AhrvoRequest POST /card/down -Body '{"a":1}' -Confirm:$false -Debug -Verbose
            Invoke-AhrvoRequest POST /card/down -Body '{"a":1}' -Confirm:$false -WhatIf
            foreach ($e in $Error) { $e | Format-List * -Force | Out-String -Width 400; $e.Exception.ToString() }
            'IDS: ' + (($Error | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] } | Sort-Object -Unique) -join ' ')
            Stop-Transcript | Out-Null
            """;
        var r = await PwshProcess.RunAsync(script, new Dictionary<string, string?>
        {
            ["AHRVO_API_KEY"] = key,
            ["AHRVO_ACCESS_TOKEN"] = token,
            ["T_URI"] = emu.BaseUri.ToString(),
            ["T_TRANSCRIPT"] = transcript,
            ["NO_COLOR"] = "1",
        }, TimeSpan.FromMinutes(3));
        var transcriptText = File.ReadAllText(transcript);
        dir.Delete(recursive: true);
        foreach (var (where, text) in new[] { ("stdout", r.StdOut), ("stderr", r.StdErr), ("transcript", transcriptText) })
            foreach (var secret in new[] { key, token, "5157123456782686" })
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} contains a secret or full card number ({secret[..4]}…)");
        // Not vacuous: the debug lines, the echoes and both errors are there.
        Assert.Contains("Authorization: Bearer ***REDACTED***", transcriptText);
        Assert.Contains("x-api-key: ***REDACTED***", transcriptText);
        Assert.Contains("key ***REDACTED*** token ***REDACTED***", transcriptText);
        Assert.Contains("515712******2686", transcriptText);
        Assert.Contains("What if:", transcriptText);
        var ids = r.StdOut.Split('\n').Single(l => l.StartsWith("IDS: ", StringComparison.Ordinal));
        Assert.Contains("Ahrvo.InvalidCard", ids);
        Assert.Contains("Ahrvo.MayHaveBeenApplied", ids);
    }
}
