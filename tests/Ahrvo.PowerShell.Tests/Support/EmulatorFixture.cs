using Ahrvo.TestSupport;
using Xunit;

namespace Ahrvo.PowerShell.Tests;

/// <summary>One emulator (the shipped sample cards) per test class that asks for it.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public EmulatorProcess Emulator { get; private set; } = null!;

    public async Task InitializeAsync() => Emulator = await EmulatorProcess.StartAsync();

    public async Task DisposeAsync() => await Emulator.DisposeAsync();

    /// <summary>The $emuUri/$emuKey/$emuToken variables that <see cref="PowerShellHost.ConnectLine"/> uses.</summary>
    public Dictionary<string, object?> Variables(params (string Name, object? Value)[] more)
    {
        var vars = new Dictionary<string, object?>
        {
            ["emuUri"] = Emulator.BaseUri,
            ["emuKey"] = Emulator.ApiKey,
            ["emuToken"] = Emulator.AccessToken,
        };
        foreach (var (name, value) in more) vars[name] = value;
        return vars;
    }
}
