using System.Runtime.CompilerServices;
using Ahrvo.TestSupport;

namespace Ahrvo.PowerShell.Tests;

internal static class TestHostSetup
{
    [ModuleInitializer]
    internal static void Init() => ThreadPoolFloor.Raise();
}
