using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ahrvo.PowerShell.Isolation
{
    /// <summary>Picks the mechanism for the runtime PowerShell runs on.</summary>
    internal static class DependencyIsolation
    {
        /// <summary>The subfolder of the module that holds Ahrvo.Client.dll and all its dependencies.</summary>
        internal const string FolderName = "dependencies";

        private static readonly object Gate = new object();
        private static bool _enabled;

        internal static string DependencyFolder =>
            Path.Combine(Path.GetDirectoryName(typeof(DependencyIsolation).Assembly.Location) ?? ".", FolderName);

        // Windows PowerShell 5.1 runs on .NET Framework, which has no AssemblyLoadContext.
        internal static bool IsNetFramework =>
            RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.OrdinalIgnoreCase);

        public static void Enable()
        {
            lock (Gate)
            {
                if (_enabled) return;
                var folder = DependencyFolder;
                if (IsNetFramework) EnableFramework(folder);
                else EnableCore(folder);
                _enabled = true;
            }
        }

        public static void Disable()
        {
            lock (Gate)
            {
                if (!_enabled) return;
                if (IsNetFramework) DisableFramework();
                else DisableCore();
                _enabled = false;
            }
        }

        // Separate, never-inlined methods: JIT-compiling Enable on .NET Framework must not pull in
        // AssemblyLoadContext (System.Runtime.Loader does not exist there), nor the reverse.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void EnableCore(string folder) => CoreIsolation.Enable(folder);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void DisableCore() => CoreIsolation.Disable();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void EnableFramework(string folder) => FrameworkIsolation.Enable(folder);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void DisableFramework() => FrameworkIsolation.Disable();
    }
}
