using Ahrvo.Emulator;
using Ahrvo.TestSupport;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// One emulator per test class (starting one costs about a second), with 2,000 generated cards.
/// Tests call <see cref="FreshAsync"/> first: counters, request log and faults are reset.
/// </summary>
public sealed class CardsEmulatorFixture : IAsyncLifetime
{
    public const int GeneratedCards = 2000;

    public EmulatorProcess Emulator { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Emulator = await EmulatorProcess.StartAsync("--generate", GeneratedCards.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task DisposeAsync()
    {
        if (Emulator != null) await Emulator.DisposeAsync();
    }

    public async Task<EmulatorProcess> FreshAsync()
    {
        await Emulator.ResetAsync(includeConfig: true);
        return Emulator;
    }

    /// <summary>The variables <see cref="PowerShellHost.ConnectLine"/> and <see cref="Connect"/> expect.</summary>
    public Dictionary<string, object?> Variables(params (string name, object? value)[] more)
    {
        var vars = new Dictionary<string, object?>
        {
            ["emuUri"] = Emulator.BaseUri,
            ["emuKey"] = Emulator.ApiKey,
            ["emuToken"] = Emulator.AccessToken,
            // SecureStrings made here: the hosted runspace has no ConvertTo-SecureString.
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

    public static IReadOnlyList<EmulatorCard> Cards { get; } = CardGenerator.Generate(GeneratedCards);

    public static string[] Ids(int count) => Cards.Take(count).Select(c => c.Id).ToArray();

    public static bool IsShared(string id) => Cards.Any(c => c.Id == id && c.Type == EmulatorCard.Shared);

    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
