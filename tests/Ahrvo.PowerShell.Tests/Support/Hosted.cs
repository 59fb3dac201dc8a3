using System.Management.Automation;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>Small helpers for reading what a hosted script produced (import with <c>using static</c>).</summary>
public static class Hosted
{
    public static T Prop<T>(PSObject o, string name) => (T)o.Properties[name].Value;

    /// <summary>The error id without the command name ("Ahrvo.CardNotFound").</summary>
    public static string ErrorId(ErrorRecord e) => e.FullyQualifiedErrorId.Split(',')[0];

    public static void NoTerminating(ScriptResult r) => Assert.True(r.Terminating == null, r.Terminating?.ToString());

    /// <summary>Wraps a script so its terminating error is caught (a non-terminating one would not be) and emitted.</summary>
    public static string Try(string script) => "try {\n" + script + "\n} catch { $_ }";

    /// <summary>The one error record a <see cref="Try"/>-wrapped script emitted.</summary>
    public static ErrorRecord TerminatingRecord(ScriptResult r)
    {
        NoTerminating(r);
        return Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
    }

    public static string NewTempDir(string prefix = "ahrvo-test-") => Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The module's format file, for tests of how objects print.</summary>
    public static string FormatFile => Path.Combine(PwshProcess.RepoRoot, "module", "Ahrvo.PowerShell.Format.ps1xml");
}
