using Xunit;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// A hosted test class against the shared emulator that also needs a folder of its own for each
/// test (an audit log, input files): a fresh emulator and a new temporary folder before each test,
/// the folder deleted after.
/// </summary>
public abstract class EmulatorTestWithTempDir(EmulatorFixture fx) : IAsyncLifetime
{
    /// <summary>This test's own temporary folder.</summary>
    protected string Dir { get; private set; } = "";

    public Task InitializeAsync()
    {
        Dir = Hosted.NewTempDir();
        return fx.FreshAsync();
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Dir, recursive: true);
        return Task.CompletedTask;
    }
}
