using System;
using System.Collections.Concurrent;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace Ahrvo.PowerShell.Isolation
{
    // PowerShell 7 (.NET) only. This assembly targets netstandard2.0, which has no AssemblyLoadContext;
    // we compile against the System.Runtime.Loader 4.3.0 reference assembly (PrivateAssets and
    // ExcludeAssets=runtime: nothing of it is shipped) instead of calling it through reflection as
    // PSResourceGet does, so the compiler checks every call. At run time the type is the runtime's own.
    // Nothing here may be touched on .NET Framework: see DependencyIsolation.

    /// <summary>
    /// Hooks AssemblyLoadContext.Default.Resolving so that the reference from this (default-context)
    /// assembly to Ahrvo.Client is answered with Ahrvo.Client loaded in <see cref="AhrvoLoadContext"/>.
    /// From there on every dependency of Ahrvo.Client resolves inside that context.
    /// </summary>
    internal static class CoreIsolation
    {
        internal const string ClientAssemblyName = "Ahrvo.Client";

        // One context per process, kept across Remove-Module/Import-Module: the runtime remembers
        // which Ahrvo.Client this assembly bound to, and a second copy would split the types.
        private static AhrvoLoadContext? _context;
        private static bool _hooked;


        public static void Enable(string folder)
        {
            _context ??= new AhrvoLoadContext(folder);
            if (_hooked) return;
            AssemblyLoadContext.Default.Resolving += OnDefaultResolving;
            _hooked = true;
        }

        public static void Disable()
        {
            if (!_hooked) return;
            AssemblyLoadContext.Default.Resolving -= OnDefaultResolving;
            _hooked = false;
        }

        // Answers only for Ahrvo.Client: every other name is left to PowerShell and other modules.
        private static Assembly? OnDefaultResolving(AssemblyLoadContext context, AssemblyName name)
        {
            if (!string.Equals(name.Name, ClientAssemblyName, StringComparison.OrdinalIgnoreCase)) return null;
            var alc = _context;
            if (alc == null || !File.Exists(alc.PathFor(name.Name!))) return null;
            return alc.LoadFromAssemblyName(name);
        }
    }

}
