using System.Text;
using Ahrvo.PowerShell.Files;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Files;

/// <summary>The write every output file goes through: create or replace whole, owner-only, no temporary file left.</summary>
public sealed class AtomicFileTests
{
    [Fact]
    public void Atomic_write_creates_refuses_to_overwrite_and_replaces_when_asked()
    {
        var dir = Directory.CreateTempSubdirectory("ahrvo-atomic-").FullName;
        try
        {
            var path = Path.Combine(dir, "r.html");
            AtomicFile.WriteAllText(path, "one", new UTF8Encoding(false), overwrite: false);
            Assert.Equal("one", File.ReadAllText(path));
            Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(path, "two", new UTF8Encoding(false), overwrite: false));
            Assert.Equal("one", File.ReadAllText(path));
            AtomicFile.WriteAllText(path, "three", new UTF8Encoding(false), overwrite: true);
            Assert.Equal("three", File.ReadAllText(path));
            // No temporary file is left behind, after a success or a refusal.
            Assert.Equal(new[] { "r.html" }, Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, true); }
    }

    [UnixFact("file modes are Unix; on Windows a new file takes its folder's ACL")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void The_html_report_is_owner_only_too()
    {
        // Both go through AtomicFile, which creates the temporary file 0600 before any byte is written.
        var dir = NewTempDir("ahrvo-atomic-");
        try
        {
            var path = Path.Combine(dir, "r.html");
            NoTerminating(PowerShellHost.Run("[Ahrvo.PowerShell.CardBalance]::new('card1', $null, 1.5, 'USD', [DateTimeOffset]::UtcNow) | Export-AhrvoBalanceReport -Path $path", new Dictionary<string, object?> { ["path"] = path }));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally { Directory.Delete(dir, true); }
    }
}
