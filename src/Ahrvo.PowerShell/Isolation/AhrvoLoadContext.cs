using System;
using System.Collections.Concurrent;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace Ahrvo.PowerShell.Isolation
{
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
