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

    /// <summary>
    /// The module's own load context: Ahrvo.Client and its dependencies from the dependencies/
    /// folder, the shared framework's assemblies from the runtime.
    /// </summary>
    internal sealed class AhrvoLoadContext : AssemblyLoadContext
    {
        private readonly string _folder;
        private readonly string _frameworkFolder;
        // Assembly name -> the shared framework's version of it, or null when the framework lacks it.
        private readonly ConcurrentDictionary<string, Version?> _frameworkVersions =
            new ConcurrentDictionary<string, Version?>(StringComparer.OrdinalIgnoreCase);

        public AhrvoLoadContext(string folder)
        {
            _folder = folder;
            _frameworkFolder = Path.GetDirectoryName(typeof(object).Assembly.Location) ?? string.Empty;
        }

        internal string PathFor(string assemblyName) => Path.Combine(_folder, assemblyName + ".dll");

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var name = assemblyName.Name;
            if (string.IsNullOrEmpty(name)) return null;

            // null = "ask the default context": the runtime's own copy. BCL types (Span<T>, Task,
            // IAsyncEnumerable, JsonSerializer...) must be the runtime's, never the netstandard
            // polyfills in dependencies/ (System.Memory, System.Buffers...), which are there only for
            // Windows PowerShell. Only when the framework's copy is older than what is asked for
            // (System.Text.Json 8 on a .NET 6 PowerShell) does ours load here, isolated.
            if (FrameworkSatisfies(name!, assemblyName.Version)) return null;

            var path = PathFor(name!);
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }

        private bool FrameworkSatisfies(string name, Version? wanted)
        {
            var available = _frameworkVersions.GetOrAdd(name, n =>
            {
                var path = Path.Combine(_frameworkFolder, n + ".dll");
                if (_frameworkFolder.Length == 0 || !File.Exists(path)) return null;
                try { return AssemblyName.GetAssemblyName(path).Version ?? new Version(0, 0); }
                catch (BadImageFormatException) { return null; } // a native file that happens to end in .dll
            });
            return available != null && (wanted == null || available >= wanted);
        }
    }
}
