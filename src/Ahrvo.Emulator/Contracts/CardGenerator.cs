// Shared contract: also compiled into tests/TestSupport, so tests can compute every generated card
// (and its expected balance) without asking the emulator.
using System.Globalization;

namespace Ahrvo.Emulator;

/// <summary>Deterministic card sets for --generate N [--seed S].</summary>
public static class CardGenerator
{
    public const int DefaultSeed = 1;

    /// <summary>Every 50th card (index 49, 99, ...) is a Shared Funds card.</summary>
    public const int SharedEvery = 50;

    /// <summary>"card2019" + the 0-based index as 14 digits: "card" followed by 18 digits, like the vendor's ids.</summary>
    public static string IdFor(int index) => "card2019" + index.ToString("D14", CultureInfo.InvariantCulture);

    public static EmulatorCard Create(int index, int seed = DefaultSeed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);

        // Balance in whole cents 0..1,000,000 (0.00..10000.00), a pure function of (seed, index).
        ulong h = Mix(Mix((ulong)(uint)seed) ^ (ulong)(uint)index);
        long cents = (long)(h % 1_000_001UL);
        string balance = (cents / 100m).ToString("0.00", CultureInfo.InvariantCulture);

        string masked = "5157********" + (index % 10_000).ToString("D4", CultureInfo.InvariantCulture);
        string type = (index + 1) % SharedEvery == 0 ? EmulatorCard.Shared : EmulatorCard.Dedicated;
        return new EmulatorCard(IdFor(index), masked, balance, type, "USD");
    }

    public static IReadOnlyList<EmulatorCard> Generate(int count, int seed = DefaultSeed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var cards = new EmulatorCard[count];
        for (int i = 0; i < count; i++)
        {
            cards[i] = Create(i, seed);
        }
        return cards;
    }

    // SplitMix64 finalizer: cheap, well distributed, and identical on every platform and run
    // (unlike string.GetHashCode, which is randomized per process).
    internal static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
