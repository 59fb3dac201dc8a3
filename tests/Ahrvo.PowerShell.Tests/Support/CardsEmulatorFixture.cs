using Ahrvo.Emulator;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>The emulator with 2,000 generated cards (every 50th is Shared), for bulk runs.</summary>
public sealed class CardsEmulatorFixture : EmulatorFixtureBase
{
    public const int GeneratedCards = 2000;

    public CardsEmulatorFixture()
        : base("--generate", GeneratedCards.ToString(System.Globalization.CultureInfo.InvariantCulture))
    {
    }

    public static IReadOnlyList<EmulatorCard> Cards { get; } = CardGenerator.Generate(GeneratedCards);

    /// <summary>The first <paramref name="count"/> generated ids, Shared cards included unless excluded.</summary>
    public static string[] Ids(int count, bool dedicatedOnly = false) =>
        Cards.Take(count).Where(c => !dedicatedOnly || c.Type == EmulatorCard.Dedicated).Select(c => c.Id).ToArray();

    public static bool IsShared(string id) => Cards.Any(c => c.Id == id && c.Type == EmulatorCard.Shared);
}
