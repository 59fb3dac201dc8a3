using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Issue 22, 5: Test-AhrvoConnection checks the credentials with one audited request and says which case it is.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class TestAhrvoConnectionCommandTests(EmulatorFixture fx) : EmulatorTestWithTempDir(fx)
{
    private const string Probe = "card000000000000000000";

    private string Audit => Path.Combine(Dir, "audit.jsonl");

    private ScriptResult Run(string script, string key = "$emuKeySecure", string uri = "$emuUri") =>
        PowerShellHost.Run($"Connect-Ahrvo -BaseUri {uri} -ApiKey {key} -AccessToken $emuTokenSecure -AuditLogPath $audit -MaxRetries 3 -RetryBaseDelayMs 10 | Out-Null\n" + script,
            fx.Variables(("audit", Audit), ("wrongKey", EmulatorFixtureBase.Secure("not-the-key"))));

    private ConnectionTest Single(ScriptResult r)
    {
        NoTerminating(r);
        Assert.Empty(r.Errors);
        return Assert.IsType<ConnectionTest>(Assert.Single(r.Output).BaseObject);
    }

    private string[] AuditLines() => File.ReadAllLines(Audit);

    [Fact]
    public async Task Working_credentials_succeed_with_one_audited_request_and_Verbose_says_what_was_sent()
    {
        var r = Run("Test-AhrvoConnection -Verbose");
        var t = Single(r);
        Assert.True(t.Succeeded);
        Assert.Equal(ConnectionTestOutcome.CredentialsAccepted, t.Outcome);
        Assert.True(t.CredentialsValid);
        Assert.Equal(404, t.StatusCode);
        Assert.Equal(TimeSpan.Zero, t.TestedAt.Offset);
        var stats = await fx.Emulator.GetStatsAsync();
        Assert.Equal(1, stats.TotalRequests);
        Assert.Equal(1, stats.RequestsPerCard[Probe]);
        var line = Assert.Single(AuditLines());
        Assert.Contains("\"cardId\":\"" + Probe + "\"", line);
        var sent = Assert.Single(r.Verbose, v => v.StartsWith("Checking the credentials"));
        Assert.Contains("GET " + fx.Emulator.BaseUri.AbsoluteUri.TrimEnd('/') + "/card/issuance/api/issuing/card/v2/normal/balance?card_id=" + Probe, sent);
        Assert.Contains("x-api-key: ***REDACTED***", sent);
        Assert.DoesNotContain(fx.Emulator.ApiKey, r.AllText());
        Assert.DoesNotContain(fx.Emulator.AccessToken, r.AllText());
    }

    [Fact]
    public void Quiet_returns_true_or_false()
    {
        var r = Run("Test-AhrvoConnection -Quiet; Connect-Ahrvo -BaseUri $emuUri -ApiKey $wrongKey -AccessToken $emuTokenSecure; Test-AhrvoConnection -Quiet");
        NoTerminating(r);
        Assert.Equal(new object[] { true, false }, r.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public async Task A_wrong_key_is_CredentialsRefused_with_401_and_is_not_retried()
    {
        var t = Single(Run("Test-AhrvoConnection", key: "$wrongKey"));
        Assert.False(t.Succeeded);
        Assert.Equal(ConnectionTestOutcome.CredentialsRefused, t.Outcome);
        Assert.False(t.CredentialsValid);
        Assert.Equal(401, t.StatusCode);
        Assert.Contains("refused", t.Message);
        Assert.Contains("Connect-Ahrvo", t.RecommendedAction);
        Assert.Equal(1, (await fx.Emulator.GetStatsAsync()).TotalRequests);
        Assert.Single(AuditLines());
    }

    [Fact]
    public async Task Issuance_not_enabled_is_403_NotEnabled()
    {
        await fx.Emulator.SetConfigAsync(new { issuanceDisabled = true });
        var t = Single(Run("Test-AhrvoConnection"));
        Assert.False(t.Succeeded);
        Assert.Equal(ConnectionTestOutcome.NotEnabled, t.Outcome);
        Assert.Equal(403, t.StatusCode);
        Assert.Contains("account manager", t.RecommendedAction);
    }

    [Fact]
    public async Task A_web_page_404_does_not_say_the_credentials_work()
    {
        // A wrong address or a CDN's page never looked at the credentials: only the API's own 404 says they passed.
        await fx.Emulator.SetConfigAsync(new { faults = new[] { new { kind = "body", rate = 1.0, status = 404, contentType = "text/html", body = "<html><body><h1>404 Not Found</h1></body></html>" } } });
        var t = Single(Run("Test-AhrvoConnection"));
        Assert.False(t.Succeeded);
        Assert.Equal(ConnectionTestOutcome.Inconclusive, t.Outcome);
        Assert.Null(t.CredentialsValid);
        Assert.Equal(404, t.StatusCode);
        Assert.DoesNotContain("The credentials work", t.Message);
        Assert.Contains("web page", t.Message);
    }

    [Theory]
    [InlineData("500")]
    [InlineData("503")]
    [InlineData("429")]
    public async Task A_failing_service_is_ServiceUnreachable_never_bad_credentials_after_one_request(string kind)
    {
        await fx.Emulator.SetConfigAsync(new { failAll = kind });
        var t = Single(Run("Test-AhrvoConnection"));
        Assert.False(t.Succeeded);
        Assert.Equal(ConnectionTestOutcome.ServiceUnreachable, t.Outcome);
        Assert.Null(t.CredentialsValid);
        Assert.Contains("could not be reached", t.Message);
        Assert.DoesNotContain("credentials are refused", t.Message);
        Assert.Equal(1, (await fx.Emulator.GetStatsAsync()).TotalRequests); // not retried, despite -MaxRetries 3
        Assert.Single(AuditLines());
    }

    [Fact]
    public void No_listener_is_ServiceUnreachable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // a port nobody listens on: connection refused
        var t = Single(Run("Test-AhrvoConnection", uri: $"'http://127.0.0.1:{port}'"));
        Assert.Equal(ConnectionTestOutcome.ServiceUnreachable, t.Outcome);
        Assert.Null(t.StatusCode);
        Assert.Null(t.CredentialsValid);
    }

    [Fact]
    public void Takes_Connection_and_needs_one()
    {
        var r = PowerShellHost.Run(Try("""
            $c = Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -AccessToken $emuTokenSecure -PassThru
            Connect-Ahrvo -BaseUri $emuUri -ApiKey $wrongKey -AccessToken $emuTokenSecure
            (Test-AhrvoConnection -Connection $c).Succeeded
            (Test-AhrvoConnection).Succeeded
            Disconnect-Ahrvo
            Test-AhrvoConnection
            """), fx.Variables(("wrongKey", EmulatorFixtureBase.Secure("not-the-key"))));
        NoTerminating(r);
        Assert.Equal(true, r.Output[0].BaseObject);
        Assert.Equal(false, r.Output[1].BaseObject);
        Assert.Equal("Ahrvo.NotConnected", ErrorId(Assert.IsType<ErrorRecord>(r.Output[2].BaseObject)));
    }
}
