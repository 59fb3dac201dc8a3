using System;
using System.IO;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Ahrvo.PowerShell.Internal
{
    /// <summary>
    /// Makes a file readable and writable by its owner only (0600) on Unix. On Windows the file
    /// keeps the permissions it inherits from its folder.
    /// </summary>
    internal static class OwnerOnly
    {
        private const int UserReadWrite = 0x180; // octal 600

        // File.SetUnixFileMode (.NET 7+, so PowerShell 7.3+) is not in netstandard2.0: found at run time.
        private static readonly Type? UnixFileMode = typeof(File).Assembly.GetType("System.IO.UnixFileMode") ?? Type.GetType("System.IO.UnixFileMode");
        private static readonly MethodInfo? SetUnixFileMode =
            UnixFileMode == null ? null : typeof(File).GetMethod("SetUnixFileMode", new[] { typeof(string), UnixFileMode! });

        public static void Apply(string path)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return;
            if (SetUnixFileMode != null)
            {
                try
                {
                    SetUnixFileMode.Invoke(null, new object[] { path, Enum.ToObject(UnixFileMode!, UserReadWrite) });
                }
                catch (TargetInvocationException ex) when (ex.InnerException != null)
                {
                    ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                }
                return;
            }
            // Older .NET on Unix (PowerShell 7.2): libc's chmod.
            if (chmod(path, UserReadWrite) != 0)
                throw new IOException("Could not make '" + path + "' readable by its owner only (chmod failed with errno " + Marshal.GetLastWin32Error() + ").");
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int chmod(string path, int mode);
    }
}
