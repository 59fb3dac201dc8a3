using Xunit;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// Every test class that talks to an emulator is in this collection, so the two emulators start
/// once for the whole run instead of once per class. The assembly runs tests one at a time anyway
/// (AssemblyInfo.cs), so sharing costs no parallelism.
/// </summary>
[CollectionDefinition(Name)]
public sealed class EmulatorCollection : ICollectionFixture<EmulatorFixture>, ICollectionFixture<CardsEmulatorFixture>
{
    public const string Name = "Emulators";
}
