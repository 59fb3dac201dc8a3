using System.Management.Automation;
using System.Text;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Auth;

/// <summary>Connect-Ahrvo -TokenProvider: tokens that expire are renewed, once per wave of 401s, and stay secret.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class ScriptTokenProviderTests(CardsEmulatorFixture fx) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ahrvo-token-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ErrorId(ErrorRecord e) => e.FullyQualifiedErrorId.Split(',')[0];

    /// <summary>
    /// A provider script that reads the token from a file and counts its calls in another: it runs
    /// in a runspace of its own, so it is given paths, not variables.
    /// </summary>
    private (string Script, string TokenFile, string CallsFile) Provider()
    {
        string tokenFile = Path.Combine(_dir, "token.txt"), calls = Path.Combine(_dir, "calls.txt");
        return ($"{{ [IO.File]::AppendAllText('{calls}', \"call`n\"); [IO.File]::ReadAllText('{tokenFile}').Trim() }}", tokenFile, calls);
    }

    private static int Calls(string file) => File.Exists(file) ? File.ReadAllLines(file).Length : 0;

    private static string Connect(string script) =>
        "Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -TokenProvider " + script + " -RetryBaseDelayMs 10 | Out-Null\n";

    [Fact]
    public async Task A_token_that_expires_mid_session_is_renewed_once_for_the_whole_wave_of_401s()
    {
        var emu = await fx.FreshAsync();
        var (script, tokenFile, calls) = Provider();
        File.WriteAllText(tokenFile, "token-one");
        await emu.SetConfigAsync(new { accessToken = "token-one" });
        var ids = CardsEmulatorFixture.Ids(200).Where(id => !CardsEmulatorFixture.IsShared(id)).ToArray();
        using var rs = PowerShellHost.CreateRunspace();

        var first = PowerShellHost.Run(Connect(script) + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 16", fx.Variables(("ids", ids)), rs);
        Assert.Null(first.Terminating);
        Assert.Equal(ids.Length, first.Output.Count);
        Assert.Equal(1, Calls(calls)); // at connect

        // The token expires: the API refuses it, and the provider has a new one.
        File.WriteAllText(tokenFile, "token-two");
        await emu.SetConfigAsync(new { accessToken = "token-two" });
        var second = PowerShellHost.Run("Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 16 -Verbose", fx.Variables(("ids", ids)), rs);
        Assert.Null(second.Terminating);
        Assert.Empty(second.Errors);
        Assert.Equal(ids, second.Output.Select(o => ((CardBalance)o.BaseObject).CardId));
        Assert.Equal(2, Calls(calls)); // one renewal for every card refused with token-one
        Assert.Contains(second.Verbose, v => v.Contains("HTTP 401") && v.Contains("token provider"));
        Assert.DoesNotContain("token-two", second.AllText());

        var conn = PowerShellHost.Run("Get-AhrvoConnection", null, rs);
        var c = (AhrvoConnection)conn.Output.Single().BaseObject;
        Assert.True(c.RenewsToken);
        Assert.Equal(1, c.TokenRenewals);
    }

    [Fact]
    public async Task A_token_refused_right_after_a_renewal_is_the_one_terminating_Unauthorized()
    {
        var emu = await fx.FreshAsync();
        var (script, tokenFile, calls) = Provider();
        File.WriteAllText(tokenFile, "never-accepted");
        var r = PowerShellHost.Run(Connect(script) + "try { Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 4 } catch { $caught = $_ }; $caught", fx.Variables(("ids", CardsEmulatorFixture.Ids(20))));
        // One terminating error, caught by try/catch (a non-terminating one would not be).
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.Equal("Ahrvo.Unauthorized", ErrorId(record));
        Assert.Equal(2, Calls(calls)); // at connect, and once after the first 401s
        Assert.True((await emu.GetStatsAsync(limit: 0)).BalanceRequests <= 20 + 4);
    }

    [Fact]
    public void A_failing_provider_stops_Connect_without_showing_what_it_said()
    {
        var r = PowerShellHost.Run("try { Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -TokenProvider { throw 'secret-in-the-message-42' } } catch { $_ }", fx.Variables());
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.Equal("Ahrvo.TokenProviderFailed", ErrorId(record));
        Assert.Contains("run the script by hand", record.Exception.Message);
        Assert.DoesNotContain("secret-in-the-message-42", r.AllText() + record.Exception);

        var none = PowerShellHost.Run("try { Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -TokenProvider { 42 } } catch { $_ }", fx.Variables());
        Assert.Contains("string or a SecureString", ((ErrorRecord)Assert.Single(none.Output).BaseObject).Exception.Message);
    }

    [Fact]
    public async Task The_expiry_of_a_JWT_is_shown_and_the_provider_is_used_from_ForEach_Object_Parallel()
    {
        var emu = await fx.FreshAsync();
        var exp = DateTimeOffset.UtcNow.AddHours(1);
        string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string jwt = B64("""{"alg":"HS256","typ":"JWT"}""") + "." + B64($$"""{"sub":"ops","exp":{{exp.ToUnixTimeSeconds()}}}""") + ".c2lnbmF0dXJl";
        var (script, tokenFile, calls) = Provider();
        File.WriteAllText(tokenFile, jwt);
        await emu.SetConfigAsync(new { accessToken = jwt });
        using var rs = PowerShellHost.CreateRunspace();
        var r = PowerShellHost.Run(Connect(script) + "Get-AhrvoConnection", fx.Variables(), rs);
        var c = (AhrvoConnection)r.Output.Single().BaseObject;
        Assert.Equal(exp.ToUnixTimeSeconds(), c.AccessTokenExpiresAt!.Value.ToUnixTimeSeconds());
        Assert.DoesNotContain(jwt, r.AllText());

        // A renewal asked for from another runspace's threads runs the script in its own runspace.
        File.WriteAllText(tokenFile, "after-rotation");
        await emu.SetConfigAsync(new { accessToken = "after-rotation" });
        var ids = CardsEmulatorFixture.Ids(10).Where(id => !CardsEmulatorFixture.IsShared(id)).ToArray();
        var p = PowerShellHost.Run("$ids | ForEach-Object -ThrottleLimit 4 -Parallel { Import-Module $using:mod; Get-AhrvoCardBalance -CardId $_ }", fx.Variables(("ids", ids), ("mod", PowerShellHost.ModuleAssemblyPath)), rs);
        Assert.Empty(p.Errors);
        Assert.Equal(ids.Length, p.Output.Count);
        Assert.Equal(2, Calls(calls));
    }
}
