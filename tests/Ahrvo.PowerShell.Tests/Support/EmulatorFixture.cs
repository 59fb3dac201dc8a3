namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>The emulator with its shipped sample cards (card201907021723076245 has the spec's 1468.87).</summary>
public sealed class EmulatorFixture : EmulatorFixtureBase
{
    public const string Sample = "card201907021723076245";
}
