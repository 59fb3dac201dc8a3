using System.Runtime.CompilerServices;
using Ahrvo.TestSupport;

namespace Ahrvo.Client.Tests;

internal static class TestHostSetup
{
    [ModuleInitializer]
    internal static void Init() => ThreadPoolFloor.Raise();
}
