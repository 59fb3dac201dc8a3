using System.Management.Automation;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>
/// Issue 22, 2: an audit log that cannot be written fails at Connect-Ahrvo with Ahrvo.AuditLogFailed,
/// and any later failure is the same error, never a raw IOException. The tests run as root in CI,
/// where permissions stop nothing, so the unwritable paths are ones that fail for root too: a folder
/// that is a regular file (ENOTDIR), and /dev/full, which opens and then refuses every write (ENOSPC).
/// They prove the error handling of "cannot create" and "cannot write"; a read-only mount or a denied
/// permission reaches the same code through the same IOException / UnauthorizedAccessException.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class AuditLogFailureTests(EmulatorFixture fx) : EmulatorTestWithTempDir(fx)
{

    private ScriptResult Run(string script, string audit) =>
        PowerShellHost.Run(Try(script), fx.Variables(("audit", audit)));

    private static void IsAuditLogFailed(ErrorRecord e, string path)
    {
        Assert.Equal("Ahrvo.AuditLogFailed", ErrorId(e));
        Assert.Equal(ErrorCategory.WriteError, e.CategoryInfo.Category);
        Assert.True(e.Exception is Ahrvo.Client.AuditLogException || e.Exception.InnerException is Ahrvo.Client.AuditLogException, e.Exception.GetType().FullName);
        Assert.Contains(path, e.Exception.Message);
        Assert.Contains("-AuditLogPath", e.ErrorDetails.RecommendedAction);
    }

    [Fact]
    public async Task Connect_fails_at_once_when_the_audit_file_cannot_be_created()
    {
        var file = Path.Combine(Dir, "not-a-folder");
        File.WriteAllText(file, "");
        var audit = Path.Combine(file, "audit.jsonl"); // a path under a regular file: ENOTDIR, for root too
        var r = Run(EmulatorFixtureBase.Connect("-AuditLogPath $audit") + "'connected'", audit);
        IsAuditLogFailed(TerminatingRecord(r), audit);
        Assert.Equal(0, (await fx.Emulator.GetStatsAsync()).TotalRequests);
    }

    [Fact]
    public void Connect_creates_the_audit_file_owner_only_before_any_query()
    {
        var audit = Path.Combine(Dir, "logs", "audit.jsonl");
        var r = PowerShellHost.Run(EmulatorFixtureBase.Connect("-AuditLogPath $audit"), fx.Variables(("audit", audit)));
        NoTerminating(r);
        Assert.True(File.Exists(audit));
        Assert.Equal(0, new FileInfo(audit).Length);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(audit));
    }

    [Fact]
    public async Task A_folder_that_became_unwritable_after_Connect_is_AuditLogFailed_at_the_first_query()
    {
        var folder = Path.Combine(Dir, "logs");
        var audit = Path.Combine(folder, "audit.jsonl");
        // Connect (the file is created), then the folder is replaced by a file before the first query opens the log.
        var r = Run(EmulatorFixtureBase.Connect("-AuditLogPath $audit") + $$"""
            Remove-Item -Recurse -Force '{{folder}}'
            Set-Content -Path '{{folder}}' -Value x
            Get-AhrvoCardBalance {{EmulatorFixture.Sample}}
            """, audit);
        IsAuditLogFailed(TerminatingRecord(r), audit);
        Assert.Equal(0, (await fx.Emulator.GetStatsAsync()).TotalRequests);
    }

    [LinuxFact("/dev/full, a device every write to fails with ENOSPC")]
    public void A_write_that_fails_is_AuditLogFailed_never_a_raw_exception()
    {
        var r = Run(EmulatorFixtureBase.Connect("-AuditLogPath $audit") + $"Get-AhrvoCardBalance {EmulatorFixture.Sample}, card201907021723076248", "/dev/full");
        var e = TerminatingRecord(r);
        IsAuditLogFailed(e, "/dev/full");
        // The card whose line could not be written: either, since both are in flight at once.
        Assert.Contains((string)e.TargetObject, new[] { EmulatorFixture.Sample, "card201907021723076248" });
    }
}
