using System.Security;
using Ahrvo.TestSupport;
using Xunit;

namespace Ahrvo.Client.Tests;

public sealed class ClientEmulatorFixture : IAsyncLifetime
{
    public EmulatorProcess Emulator { get; private set; } = null!;
    public async Task InitializeAsync() => Emulator = await EmulatorProcess.StartAsync("--generate", "200");
    public async Task DisposeAsync() => await Emulator.DisposeAsync();

    public static SecureString Secure(string s)
    {
        var ss = new SecureString();
        foreach (var c in s) ss.AppendChar(c);
        ss.MakeReadOnly();
        return ss;
    }
}
