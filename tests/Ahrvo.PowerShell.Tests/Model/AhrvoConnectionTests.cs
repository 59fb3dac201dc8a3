using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Model;

/// <summary>Connections own what they create: replaced ones release their client, Disconnect -Connection closes one.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class AhrvoConnectionTests(CardsEmulatorFixture fx)
{
    private const string Connect = "Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -AccessToken $emuTokenSecure -PassThru";

    [Fact]
    public async Task A_replaced_session_connection_releases_its_client_and_stays_usable()
    {
        await fx.FreshAsync();
        var id = CardsEmulatorFixture.Ids(1)[0];
        using var rs = PowerShellHost.CreateRunspace();
        var first = (AhrvoConnection)PowerShellHost.Run($"$first = {Connect}; $null = Get-AhrvoCardBalance $id; $first", fx.Variables(("id", id)), rs).Output.Single().BaseObject;
        Assert.True(first.HasClient);

        var second = (AhrvoConnection)PowerShellHost.Run(Connect, fx.Variables(), rs).Output.Single().BaseObject;
        Assert.False(first.HasClient); // sockets and the hang-check timer are gone
        Assert.False(first.IsClosed);

        // Still usable with -Connection: a new client is made for it.
        var again = PowerShellHost.Run("Get-AhrvoCardBalance $id -Connection $first", fx.Variables(("id", id)), rs);
        Assert.Empty(again.Errors);
        Assert.Single(again.Output);
        Assert.True(second != first);
    }

    [Fact]
    public async Task Disconnect_Connection_closes_that_connection_and_leaves_the_sessions()
    {
        await fx.FreshAsync();
        using var rs = PowerShellHost.CreateRunspace();
        var r = PowerShellHost.Run($"$other = {Connect}; $session = {Connect}; Disconnect-Ahrvo -Connection $other; $other; Get-AhrvoConnection", fx.Variables(), rs);
        Assert.Empty(r.Errors);
        var other = (AhrvoConnection)r.Output[0].BaseObject;
        var session = (AhrvoConnection)r.Output[1].BaseObject;
        Assert.True(other.IsClosed);
        Assert.False(session.IsClosed);
        Assert.NotEqual(other.Id, session.Id);

        var closedUse = PowerShellHost.Run("Get-AhrvoCardBalance card201907021723076245 -Connection $other", null, rs);
        var refused = closedUse.Errors.Select(e => e.FullyQualifiedErrorId)
            .Append((closedUse.Terminating as System.Management.Automation.IContainsErrorRecord)?.ErrorRecord.FullyQualifiedErrorId ?? "");
        Assert.Contains(refused, id => id.StartsWith("Ahrvo.NotConnected"));
    }
}
