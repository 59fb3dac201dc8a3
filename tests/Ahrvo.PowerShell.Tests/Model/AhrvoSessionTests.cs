using Ahrvo.PowerShell.Tests.Support;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Model;

/// <summary>The session's default connection is process-wide: runspaces of ForEach-Object -Parallel see it.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class AhrvoSessionTests(EmulatorFixture fx)
{
    private const string Good = EmulatorFixture.Sample;     // 1468.87
    private const string Low = "card201907021723076248";    // 42.17

    private ScriptResult Run(string script, params (string, object?)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    [Fact]
    public void Session_connection_is_seen_by_foreach_parallel_and_thread_jobs()
    {
        var r = Run($$"""
            $c = Get-AhrvoConnection
            '{{Good}}','{{Low}}' | ForEach-Object -Parallel { Import-Module $using:mod; (Get-AhrvoCardBalance $_).AvailableBalance } -ThrottleLimit 2 | Sort-Object
            '{{Good}}' | ForEach-Object -Parallel { Import-Module $using:mod; (Get-AhrvoCardBalance $_ -Connection $using:c).AvailableBalance }
            """, ("mod", PowerShellHost.ModuleAssemblyPath));
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { 42.17m, 1468.87m, 1468.87m }, r.Output.Select(o => (decimal)o.BaseObject));
    }
}
