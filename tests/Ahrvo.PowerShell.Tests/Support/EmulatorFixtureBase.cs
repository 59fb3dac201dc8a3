using Ahrvo.Emulator;
using Ahrvo.TestSupport;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// One emulator process shared by every test class of <see cref="EmulatorCollection"/> (starting one
/// costs about a second). Tests begin with <see cref="FreshAsync"/>: no request in flight, counters,
/// request log and config as at start. Cards a test plants stay; tests plant ids of their own.
/// </summary>
public abstract class EmulatorFixtureBase : IAsyncLifetime
{
    private readonly string[] _args;

    protected EmulatorFixtureBase(params string[] args) => _args = args;

    public EmulatorProcess Emulator { get; private set; } = null!;

    public async Task InitializeAsync() => Emulator = await EmulatorProcess.StartAsync(_args);

    public async Task DisposeAsync()
    {
        if (Emulator != null) await Emulator.DisposeAsync();
    }

    /// <summary>Waits for the requests of an earlier test to end (so they cannot count here), then resets counters and config.</summary>
    public async Task<EmulatorProcess> FreshAsync()
    {
        await Emulator.WaitUntilIdleAsync();
        await Emulator.ResetAsync(includeConfig: true);
        return Emulator;
    }

    /// <summary>
    /// After a command was stopped: waits until the emulator has ended every request it received
    /// (a request the stop did not cancel is held for minutes, so this fails instead), then closes
    /// the session's connection and waits until the stopped command has released it, which disposes
    /// its HTTP client: nothing can be sent through it after that. The stats returned are then final,
    /// by a positive signal that all the run's work ended, not by a guess at how long that takes.
    /// </summary>
    public async Task<EmulatorStats> SettleAfterStopAsync()
    {
        await Emulator.WaitUntilIdleAsync();
        var connection = AhrvoSession.Clear();
        if (connection != null) await Liveness.UntilAsync(() => !connection.HasClient, "the stopped command released its connection's HTTP client");
        await Emulator.WaitUntilIdleAsync();
        return await Emulator.GetStatsAsync();
    }

    /// <summary>The variables <see cref="PowerShellHost.ConnectLine"/> and <see cref="Connect"/> expect.</summary>
    public Dictionary<string, object?> Variables(params (string Name, object? Value)[] more)
    {
        var vars = new Dictionary<string, object?>
        {
            ["emuUri"] = Emulator.BaseUri,
            ["emuKey"] = Emulator.ApiKey,
            ["emuToken"] = Emulator.AccessToken,
            // SecureStrings made here, for scripts that should not depend on ConvertTo-SecureString.
            ["emuKeySecure"] = Secure(Emulator.ApiKey),
            ["emuTokenSecure"] = Secure(Emulator.AccessToken),
        };
        foreach (var (name, value) in more) vars[name] = value;
        return vars;
    }

    /// <summary>A Connect-Ahrvo line for the emulator with extra parameters, e.g. "-MaxRetries 2 -RetryBaseDelayMs 10".</summary>
    public static string Connect(string parameters = "") =>
        "Connect-Ahrvo -BaseUri $emuUri -ApiKey $emuKeySecure -AccessToken $emuTokenSecure "
        + parameters + " | Out-Null\n";

    public static System.Security.SecureString Secure(string text)
    {
        var s = new System.Security.SecureString();
        foreach (var c in text) s.AppendChar(c);
        s.MakeReadOnly();
        return s;
    }

    /// <summary>A card id no other test uses.</summary>
    public static string NewCardId() => "card" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>Plants a new card with this balance and returns its id.</summary>
    public async Task<string> PlantAsync(string? balance, string currency = "USD")
    {
        var id = NewCardId();
        await Emulator.PutCardAsync(id, balance, currency: currency);
        return id;
    }

    /// <summary>Balance requests the emulator received for one card since the last reset.</summary>
    public async Task<int> RequestsForAsync(string cardId)
    {
        var stats = await Emulator.GetStatsAsync(limit: 0);
        return stats.RequestsPerCard.TryGetValue(cardId, out var n) ? n : 0;
    }
}
