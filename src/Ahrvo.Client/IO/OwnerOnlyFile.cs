using System;
using System.IO;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Ahrvo.Client.IO
{
    /// <summary>
    /// The one place that creates files holding card ids or balances (the audit log, reports, the
    /// alert state, metrics): readable and writable by their owner only, 0600 on Unix, with no moment
    /// at which another user could open them. On Windows a new file takes its folder's ACL (a user's
    /// profile is private by default); setting ACLs from netstandard2.0 would need another package.
    /// </summary>
    public static class OwnerOnlyFile
    {
        private const int OwnerReadWrite = 0x180; // 0600: UnixFileMode.UserRead | UserWrite

        /// <summary>Opens a file for writing; one it creates is born 0600 (Unix).</summary>
        public static FileStream Open(string path, FileMode mode, FileShare share)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                return new FileStream(path, mode, FileAccess.Write, share, 1, FileOptions.None);
            if (UnixOpen != null) return UnixOpen(path, mode, share);
            // Runtimes before .NET 7 cannot create with a mode: chmod before any byte is written.
            bool existed = File.Exists(path);
            var stream = new FileStream(path, mode, FileAccess.Write, share, 1, FileOptions.None);
            if (!existed && chmod(path, OwnerReadWrite) != 0)
            {
                var errno = Marshal.GetLastWin32Error();
                stream.Dispose();
                throw new IOException($"Could not make '{path}' readable by its owner only (chmod failed, errno {errno}).");
            }
            return stream;
        }

        /// <summary>A new file (never an existing one), born 0600 on Unix.</summary>
        public static FileStream CreateNew(string path) => Open(path, FileMode.CreateNew, FileShare.None);

        // The client is netstandard2.0, so FileStreamOptions.UnixCreateMode (.NET 7+, what
        // PowerShell 7.4+ runs on) is reached by reflection.
        private static readonly Func<string, FileMode, FileShare, FileStream>? UnixOpen = BuildUnixOpen();

        private static Func<string, FileMode, FileShare, FileStream>? BuildUnixOpen()
        {
            var corelib = typeof(FileStream).Assembly;
            if (!(corelib.GetType("System.IO.FileStreamOptions") is Type optionsType)) return null;
            var modeType = corelib.GetType("System.IO.UnixFileMode");
            var createMode = optionsType.GetProperty("UnixCreateMode");
            var ctor = typeof(FileStream).GetConstructor(new[] { typeof(string), optionsType });
            var setMode = optionsType.GetProperty("Mode");
            var setAccess = optionsType.GetProperty("Access");
            var setShare = optionsType.GetProperty("Share");
            var setBuffer = optionsType.GetProperty("BufferSize");
            if (modeType == null || createMode == null || ctor == null || setMode == null || setAccess == null || setShare == null) return null;
            var unixMode = Enum.ToObject(modeType, OwnerReadWrite);
            return (path, mode, share) =>
            {
                var options = Activator.CreateInstance(optionsType)!;
                setMode.SetValue(options, mode);
                setAccess.SetValue(options, FileAccess.Write);
                setShare.SetValue(options, share);
                setBuffer?.SetValue(options, 1); // no buffering: every write goes straight to the file
                createMode.SetValue(options, unixMode);
                try
                {
                    return (FileStream)ctor.Invoke(new object[] { path, options });
                }
                catch (TargetInvocationException ex) when (ex.InnerException != null)
                {
                    // Callers handle IOException and UnauthorizedAccessException, not the wrapper.
                    ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                    throw;
                }
            };
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int chmod(string path, int mode);
    }
}
