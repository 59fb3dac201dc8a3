using System;
using System.IO;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Ahrvo.PowerShell.Internal
{
    /// <summary>
    /// Writes a file so that readers see the old content or the whole new content, never half of
    /// it: the bytes go to a temporary file in the same directory (same volume, so the final step is
    /// a rename), which then replaces the target. On Linux and macOS the file is created readable
    /// and writable by its owner only (0600): what is written here holds card ids and balances.
    /// </summary>
    internal static class AtomicFile
    {
        private const int OwnerReadWrite = 0x180; // 0600: UnixFileMode.UserRead | UserWrite

        public static void WriteAllText(string path, string content, Encoding encoding, bool overwrite)
        {
            var full = Path.GetFullPath(path);
            var directory = Path.GetDirectoryName(full) ?? throw new ArgumentException("The path has no directory: " + path, nameof(path));
            var temp = Path.Combine(directory, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".tmp");
            try
            {
                using (var stream = CreateOwnerOnly(temp))
                {
                    var bytes = encoding.GetBytes(content);
                    stream.Write(bytes, 0, bytes.Length);
                    // On disk before the rename, so a crash cannot leave a renamed but empty file.
                    stream.Flush(true);
                }
                // A rename on Unix: the target takes the temporary file's 0600 mode.
                if (overwrite && File.Exists(full)) File.Replace(temp, full, null);
                else File.Move(temp, full); // throws if the target appeared meanwhile: no overwrite unless asked
                temp = null;
            }
            finally
            {
                if (temp != null)
                {
                    try { File.Delete(temp); }
                    catch (IOException) { }
                    catch (UnauthorizedAccessException) { }
                }
            }
        }

        /// <summary>
        /// A new file (never an existing one), created with mode 0600 on Unix. Windows is left to the
        /// folder's ACL, which a new file inherits.
        /// </summary>
        internal static FileStream CreateOwnerOnly(string path)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            if (UnixCreate != null) return UnixCreate(path);
            // Runtimes before .NET 7 cannot create with a mode: chmod before any byte is written.
            var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            if (chmod(path, OwnerReadWrite) != 0)
            {
                var errno = Marshal.GetLastWin32Error();
                stream.Dispose();
                File.Delete(path);
                throw new IOException("Could not make '" + path + "' readable by its owner only (chmod failed, errno " + errno + ").");
            }
            return stream;
        }

        // The module is netstandard2.0, so FileStreamOptions.UnixCreateMode (.NET 7+, what
        // PowerShell 7.4+ runs on) is reached by reflection: the file is born 0600, with no moment
        // at which another user could open it.
        private static readonly Func<string, FileStream>? UnixCreate = BuildUnixCreate();

        private static Func<string, FileStream>? BuildUnixCreate()
        {
            var corelib = typeof(FileStream).Assembly;
            if (!(corelib.GetType("System.IO.FileStreamOptions") is Type optionsType)) return null;
            var modeType = corelib.GetType("System.IO.UnixFileMode");
            var createMode = optionsType.GetProperty("UnixCreateMode");
            var ctor = typeof(FileStream).GetConstructor(new[] { typeof(string), optionsType });
            if (modeType == null || createMode == null || ctor == null) return null;
            var mode = Enum.ToObject(modeType, OwnerReadWrite);
            var setMode = optionsType.GetProperty("Mode")!;
            var setAccess = optionsType.GetProperty("Access")!;
            var setShare = optionsType.GetProperty("Share")!;
            return path =>
            {
                var options = Activator.CreateInstance(optionsType)!;
                setMode.SetValue(options, FileMode.CreateNew);
                setAccess.SetValue(options, FileAccess.Write);
                setShare.SetValue(options, FileShare.None);
                createMode.SetValue(options, mode);
                try
                {
                    return (FileStream)ctor.Invoke(new object[] { path, options });
                }
                catch (TargetInvocationException ex) when (ex.InnerException != null)
                {
                    // The callers handle IOException and UnauthorizedAccessException, not the wrapper.
                    ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                    throw;
                }
            };
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int chmod(string path, int mode);
    }
}
