using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Auth;

/// <summary>
/// Issue 18, 3: Connect-Ahrvo and Disconnect-Ahrvo can always be stopped, even while the
/// -TokenProvider script hangs in a call PowerShell cannot interrupt: here a read from a socket
/// that never answers (a vault behind a dead network), which Ctrl+C does not end. The socket is
/// the test's own, so the test knows when the script is stuck in it and releases it at the end.
/// Each script runs in a runspace its HostedRun owns: a run that does not stop (a regression) is
/// then left to the process and the test fails, where disposing a shared runspace would hang it.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class HungTokenProviderStopTests(EmulatorFixture fx) : IAsyncLifetime
{
    private readonly TcpListener _vault = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _held = new();

    public Task InitializeAsync()
    {
        _vault.Start();
        return fx.FreshAsync();
    }

    public Task DisposeAsync()
    {
        // Closing the held connections ends the scripts' reads, so no thread is left blocked.
        foreach (var c in _held) c.Dispose();
        _vault.Stop();
        return Task.CompletedTask;
    }

    private int VaultPort => ((IPEndPoint)_vault.LocalEndpoint).Port;

    /// <summary>A provider that connects to the test's socket and blocks reading it; it runs in its own runspace, so the port is in its text.</summary>
    private string HangingProvider => $"{{ $c = [Net.Sockets.TcpClient]::new('127.0.0.1', {VaultPort}); [void]$c.GetStream().ReadByte(); 'late-token' }}";

    /// <summary>Waits until the provider script is stuck in its read: the test's socket accepted it.</summary>
    private async Task ProviderIsHangingAsync()
    {
        var accept = _vault.AcceptTcpClientAsync();
        var done = await Task.WhenAny(accept, Task.Delay(Liveness.Timeout));
        if (done != accept) throw new TimeoutException("The -TokenProvider script never called the vault.");
        _held.Add(accept.Result);
    }

    [Fact]
    public async Task Connect_Ahrvo_stops_at_Ctrl_C_while_the_token_provider_hangs()
    {
        using var run = PowerShellHost.Start(
            $"Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -TokenProvider {HangingProvider} -TokenProviderTimeoutSec 3600 -PassThru",
            fx.Variables());
        await ProviderIsHangingAsync();
        Assert.True(run.IsRunning); // an hour of -TokenProviderTimeoutSec left: only Ctrl+C ends it now

        run.Stop(); // fails the test if the pipeline has not stopped within the liveness limit
        var r = run.Finish();
        Assert.IsAssignableFrom<PipelineStoppedException>(r.Terminating);
        Assert.Empty(r.Output); // no connection made
        Assert.DoesNotContain("late-token", r.AllText());
    }

    [Fact]
    public async Task Disconnect_Ahrvo_returns_while_a_renewal_hangs_and_the_command_waiting_on_it_stops_at_Ctrl_C()
    {
        // A stale token and a provider: the first query's 401 asks the provider, which hangs.
        var connect = PowerShellHost.Run(
            $"Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -AccessToken (ConvertTo-SecureString 'stale-token' -AsPlainText -Force) -TokenProvider {HangingProvider} -TokenProviderTimeoutSec 3600 -TimeoutSec 3600 -PassThru",
            fx.Variables());
        Assert.Null(connect.Terminating);
        var connection = Assert.IsType<AhrvoConnection>(Assert.Single(connect.Output).BaseObject);

        using var query = PowerShellHost.Start("Get-AhrvoCardBalance -CardId $id -Connection $c", fx.Variables(("id", EmulatorFixture.Sample), ("c", connection)));
        await ProviderIsHangingAsync();
        Assert.True(query.IsRunning);

        // Disconnect-Ahrvo from another runspace (a second console, a job) ends by itself: it never
        // waits for the script.
        using var disconnect = PowerShellHost.Start("Disconnect-Ahrvo -Connection $c; 'disconnected'", fx.Variables(("c", connection)));
        var d = disconnect.Finish(); // fails the test if it has not ended within the liveness limit
        Assert.Null(d.Terminating);
        Assert.Equal("disconnected", Assert.Single(d.Output).ToString());
        Assert.True(connection.IsClosed);

        // The query still waiting on the renewal stops at Ctrl+C.
        query.Stop();
        var q = query.Finish();
        Assert.IsAssignableFrom<PipelineStoppedException>(q.Terminating);
        Assert.Empty(q.Output);
    }

    [Fact]
    public async Task Disconnect_Ahrvo_returns_while_the_script_of_a_stopped_renewal_is_still_stuck()
    {
        // Ctrl+C first: the command ends, but the script is still stuck in its read (Ctrl+C cannot
        // interrupt it). Disconnect-Ahrvo then disposes the provider with the script still running,
        // and must not wait for it, as the old provider's lock made it do.
        var connect = PowerShellHost.Run(
            $"Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -AccessToken (ConvertTo-SecureString 'stale-token' -AsPlainText -Force) -TokenProvider {HangingProvider} -TokenProviderTimeoutSec 3600 -TimeoutSec 3600 -PassThru",
            fx.Variables());
        var connection = Assert.IsType<AhrvoConnection>(Assert.Single(connect.Output).BaseObject);
        using var query = PowerShellHost.Start("Get-AhrvoCardBalance -CardId $id -Connection $c", fx.Variables(("id", EmulatorFixture.Sample), ("c", connection)));
        await ProviderIsHangingAsync();
        query.Stop();
        Assert.IsAssignableFrom<PipelineStoppedException>(query.Finish().Terminating);

        using var disconnect = PowerShellHost.Start("Disconnect-Ahrvo -Connection $c; 'disconnected'", fx.Variables(("c", connection)));
        var d = disconnect.Finish(); // fails the test if it has not ended within the liveness limit
        Assert.Null(d.Terminating);
        Assert.Equal("disconnected", Assert.Single(d.Output).ToString());
        Assert.True(connection.IsClosed);
    }
}
