using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Ahrvo.Client.IO
{
    /// <summary>
    /// Files that hold balances or card ids (the audit log, reports, the alert state, metrics) are
    /// created readable by their owner only: mode 0600 on Unix, set before any byte is written.
    /// netstandard2.0 has no File.SetUnixFileMode, so libc's chmod is called. On Windows a new file
    /// takes the folder's ACL (a user's profile is private by default); nothing is changed there.
    /// </summary>
    public static class OwnerOnlyFile
    {
        private const uint OwnerReadWrite = 0x180; // 0600

        [DllImport("libc", EntryPoint = "chmod", SetLastError = true, CharSet = CharSet.Ansi)]
        private static extern int Chmod(string path, uint mode);

        /// <summary>Opens (creating when missing) a file for writing; a file it creates is owner-only before it is returned.</summary>
        public static FileStream Open(string path, FileMode mode, FileShare share)
        {
            bool existed = File.Exists(path);
            var stream = new FileStream(path, mode, FileAccess.Write, share, 1, FileOptions.None);
            if (!existed || mode == FileMode.CreateNew)
            {
                try { Restrict(path); }
                catch { stream.Dispose(); throw; }
            }
            return stream;
        }

        /// <summary>Makes an existing file owner-only (Unix). Throws IOException when that fails.</summary>
        public static void Restrict(string path)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return;
            if (Chmod(path, OwnerReadWrite) != 0)
                throw new IOException($"Could not make '{path}' readable by its owner only (chmod failed, errno {Marshal.GetLastWin32Error()}).");
        }
    }
}
