using System.Runtime.CompilerServices;
using Ahrvo.TestSupport;

namespace Ahrvo.Emulator.Tests;

internal static class TestHostSetup
{
    // As in the client tests: the test host pins two pool threads, which on 2 cores stalls the end-to-end test.
    [ModuleInitializer]
    internal static void Init() => ThreadPoolFloor.Raise();
}
