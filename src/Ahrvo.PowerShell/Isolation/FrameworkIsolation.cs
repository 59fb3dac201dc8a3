using System;
using System.IO;
using System.Reflection;

namespace Ahrvo.PowerShell.Isolation
{
    /// <summary>
    /// Windows PowerShell 5.1 (.NET Framework) only: there is no AssemblyLoadContext there, so this
    /// only finds Ahrvo.Client and its dependencies in the dependencies/ folder when the normal
    /// probing fails. It does not isolate: .NET Framework has one load context per AppDomain. It also
    /// stands in for the binding redirects netstandard2.0 libraries need on .NET Framework (whatever
    /// version we ship answers). Kept deliberately simple; it cannot be run in this repository's CI.
    /// </summary>
    internal static class FrameworkIsolation
    {
        private static string? _folder;
        private static bool _hooked;

        public static void Enable(string folder)
        {
            _folder = folder;
            if (_hooked) return;
            AppDomain.CurrentDomain.AssemblyResolve += OnAssemblyResolve;
            _hooked = true;
        }

        public static void Disable()
        {
            if (!_hooked) return;
            AppDomain.CurrentDomain.AssemblyResolve -= OnAssemblyResolve;
            _hooked = false;
        }

        private static Assembly? OnAssemblyResolve(object sender, ResolveEventArgs args)
        {
            var folder = _folder;
            if (folder == null) return null;
            string? name;
            try { name = new AssemblyName(args.Name).Name; }
            catch (ArgumentException) { return null; }
            if (string.IsNullOrEmpty(name)) return null;
            var path = Path.Combine(folder, name + ".dll");
            return File.Exists(path) ? Assembly.LoadFrom(path) : null;
        }
    }
}
