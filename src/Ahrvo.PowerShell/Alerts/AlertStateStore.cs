using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Ahrvo.Client.IO;
using Ahrvo.Client.State;
using Ahrvo.PowerShell.Files;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>
    /// The file behind Watch-AhrvoCardBalance -StatePath. One pass is read-decide-deliver-write under
    /// <see cref="Lock"/>, so overlapping runs (a slow one and the next scheduled one) take turns and
    /// each sees what the other saved; the file is replaced whole (temporary file and rename) and is
    /// readable by its owner only, as it holds balances. Every failure is an
    /// <see cref="AlertStateException"/> that says what happened and what to do.
    /// </summary>
    internal sealed class AlertStateStore
    {
        public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(30);
        private static readonly TimeSpan LockRetry = TimeSpan.FromMilliseconds(50);

        public AlertStateStore(string fullPath)
        {
            Path = fullPath;
            LockPath = fullPath + ".lock";
        }

        /// <summary>
        /// The store for <paramref name="fullPath"/>, once it is known to be usable: not a folder, in a
        /// folder that exists and that this user can write (checked by creating a file there, the way a
        /// save does). So a read-only folder fails at once, before any card is read, and never looks
        /// like a lock held by another run.
        /// </summary>
        public static AlertStateStore Open(string fullPath)
        {
            if (Directory.Exists(fullPath))
                throw new AlertStateException(AlertStateFailure.PathInvalid, fullPath,
                    "-StatePath '" + fullPath + "' is a directory. Give a file name, e.g. " + System.IO.Path.Combine(fullPath, "alert-state.json") + ".");
            var directory = System.IO.Path.GetDirectoryName(fullPath);
            if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
                throw new AlertStateException(AlertStateFailure.PathInvalid, directory ?? fullPath,
                    "The directory '" + directory + "' of -StatePath does not exist. Create it first.");
            var store = new AlertStateStore(fullPath);
            store.CheckWritable(directory!);
            return store;
        }

        public string Path { get; }

        /// <summary>
        /// A lock file beside the state, opened exclusively (FileShare.None: a share-mode lock on
        /// Windows, flock on Unix). Not the state file itself, which each save replaces. Not a named
        /// mutex either: the system releases it when a process dies, so a crashed run never blocks
        /// the next. Where it holds: between processes on one machine on every local file system
        /// (checked at each <see cref="Lock"/>); between machines only where the file server enforces
        /// it (Windows SMB shares; NFS and SMB mounts that pass locks to the server), which
        /// <see cref="LockReach"/> reports where it can tell it does not.
        /// </summary>
        public string LockPath { get; }

        /// <summary>Where the lock does not reach other machines (see <see cref="LockReach"/>); null when nothing says so.</summary>
        public string? LockCaveat => LockReach.Caveat(Path);

        /// <summary>Waits up to <paramref name="timeout"/> for the lock; dispose the result to release it.</summary>
        /// <exception cref="AlertStateException">Held by another run all that time (<see cref="AlertStateFailure.Locked"/>), the lock file
        /// cannot be written, or the lock does not exclude anyone here.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was cancelled (Ctrl+C).</exception>
        public IDisposable Lock(TimeSpan timeout, CancellationToken cancel)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                FileStream? held = null;
                try
                {
                    held = new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                }
                catch (IOException ex) when (IsSharingViolation(ex))
                {
                    // Held by another run: try again until the deadline. Only this error waits.
                    if (waited.Elapsed >= timeout)
                        throw new AlertStateException(AlertStateFailure.Locked, Path, string.Format(CultureInfo.InvariantCulture,
                            "Could not lock the alert state file '{0}' within {1:0} s: another run holds '{2}' ({3}). This pass saved nothing and alerted nothing.",
                            Path, timeout.TotalSeconds, LockPath, ex.Message),
                            "Let the other Watch-AhrvoCardBalance run on this file finish, or schedule runs further apart.", ex);
                }
                catch (Exception ex) when (IsNotWritable(ex))
                {
                    throw NotWritable(LockPath, "its lock file '" + LockPath + "' cannot be opened for writing", ex);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    throw new AlertStateException(AlertStateFailure.Unreadable, LockPath,
                        "Could not open the lock file '" + LockPath + "' of the alert state: " + ex.Message, null, ex);
                }
                if (held != null)
                {
                    CheckExclusive(held);
                    return held;
                }
                if (cancel.WaitHandle.WaitOne(LockRetry)) throw new OperationCanceledException(cancel);
            }
        }

        /// <summary>
        /// Takes the lock once and lets it go, so that a lock that cannot work (or a lock file that
        /// cannot be written) stops the command before any card is read. Held by another run is fine:
        /// that is a lock that works, and the pass waits for it at its end.
        /// </summary>
        public void CheckLock()
        {
            try
            {
                Lock(TimeSpan.Zero, CancellationToken.None).Dispose();
            }
            catch (AlertStateException ex) when (ex.Failure == AlertStateFailure.Locked)
            {
            }
        }

        /// <summary>
        /// .NET takes flock on Unix but ignores its errors other than "held" (ENOLCK on NFS without a
        /// lock manager, EOPNOTSUPP on some FUSE and CIFS mounts), and takes none at all when
        /// DOTNET_SYSTEM_IO_DISABLEFILELOCKING is set. So a granted lock proves nothing: a second open
        /// must be refused, as another run's would be. If it is not, overlapping runs would not take
        /// turns, and that is said rather than hidden.
        /// </summary>
        private void CheckExclusive(FileStream held)
        {
            FileStream probe;
            try
            {
                probe = new FileStream(LockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException ex) when (IsSharingViolation(ex))
            {
                return; // excluded, as another run would be
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return; // not a proof either way; the lock itself was granted
            }
            probe.Dispose();
            held.Dispose();
            var disabled = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
            var why = !string.IsNullOrEmpty(disabled) && disabled != "0" && !string.Equals(disabled, "false", StringComparison.OrdinalIgnoreCase)
                ? "file locking is turned off in this process (DOTNET_SYSTEM_IO_DISABLEFILELOCKING=" + disabled + ")"
                : "the file system of '" + System.IO.Path.GetDirectoryName(Path) + "' grants the lock without holding it (flock is not supported there)";
            throw new AlertStateException(AlertStateFailure.LockUnsupported, LockPath,
                "The alert state file '" + Path + "' cannot be locked: " + why + ". Overlapping runs would not take turns and could alert a change twice or not at all, so this pass saved nothing and alerted nothing.",
                "Keep the state file on a local disk (or a network mount that supports locks), or unset DOTNET_SYSTEM_IO_DISABLEFILELOCKING.");
        }

        public bool Exists => File.Exists(Path);

        /// <summary>The saved state (with its generation); empty at generation 0 when there is no file yet.</summary>
        /// <exception cref="AlertStateException"><see cref="AlertStateFailure.Invalid"/> or <see cref="AlertStateFailure.Unreadable"/>.</exception>
        public AlertState Load()
        {
            byte[] bytes;
            try
            {
                // Shared for reading and deleting, so a reader never stands in the way of a save's rename.
                using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                using (var copy = new MemoryStream())
                {
                    stream.CopyTo(copy);
                    bytes = copy.ToArray();
                }
            }
            catch (FileNotFoundException)
            {
                return new AlertState();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new AlertStateException(AlertStateFailure.Unreadable, Path, "Could not read the alert state file '" + Path + "': " + ex.Message, null, ex);
            }
            try
            {
                var entries = AlertStateJson.Read(bytes, out var generation);
                var state = new AlertState(generation);
                foreach (var e in entries)
                    state.Set(new CardAlertState(e.CardId, ParseLevel(e.CardId, e.Level), e.Balance, e.Currency, e.ObservedAt, e.LevelSince, e.LastAlertedAt, e.Generation));
                return state;
            }
            catch (InvalidDataException ex)
            {
                // Never a silent fresh start: that would alert every low card again, or hide a mistake.
                throw new AlertStateException(AlertStateFailure.Invalid, Path, "The alert state file '" + Path + "' cannot be used: " + ex.Message + ".",
                    "Fix the file, or delete it: without it the next run starts afresh and alerts again every card below Normal.", ex);
            }
        }

        /// <summary>Writes <paramref name="state"/> as the next generation (one more than it was loaded at).</summary>
        /// <exception cref="AlertStateException"><see cref="AlertStateFailure.NotSaved"/>.</exception>
        public void Save(AlertState state, DateTimeOffset now)
        {
            // Sorted, so that two saves of the same state are the same bytes and a diff shows only changes.
            var entries = state.Cards.OrderBy(c => c.CardId, StringComparer.Ordinal)
                .Select(c => new AlertStateEntry(c.CardId, c.Level.ToString(), c.Balance, c.Currency, c.ObservedAt, c.LevelSince, c.LastAlertedAt, c.Generation));
            try
            {
                AtomicFile.WriteAllBytes(Path, AlertStateJson.Write(entries, now, state.Generation + 1), overwrite: true);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new AlertStateException(AlertStateFailure.NotSaved, Path,
                    "Could not save the alert state to '" + Path + "': " + ex.Message + " The file keeps the levels it had before this pass, so the next run alerts this pass's changes again.",
                    "Make the folder writable (and check free space) for the user that runs the watch.", ex);
            }
        }

        private void CheckWritable(string directory)
        {
            // A file born 0600 and removed at once: what a save does, without touching the state.
            var probe = System.IO.Path.Combine(directory, "." + System.IO.Path.GetFileName(Path) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".probe");
            try
            {
                OwnerOnlyFile.CreateNew(probe).Dispose();
            }
            catch (Exception ex) when (IsNotWritable(ex))
            {
                throw NotWritable(directory, "the folder '" + directory + "' cannot be written", ex);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new AlertStateException(AlertStateFailure.Unreadable, directory,
                    "Could not create a file in '" + directory + "', the folder of the alert state: " + ex.Message, null, ex);
            }
            try { File.Delete(probe); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        private AlertStateException NotWritable(string what, string why, Exception ex) =>
            new AlertStateException(AlertStateFailure.NotWritable, what,
                "The alert state '" + Path + "' cannot be kept: " + why + " (" + ex.Message + "). Each run replaces the file and locks a file beside it, so its folder must be writable by this user.",
                "Give a -StatePath in a folder this user can write (for example under the job's home or /var/lib), or make this folder writable for it.", ex);

        // errno values; .NET puts the raw errno of a Unix I/O error in HResult.
        private static readonly bool IsWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        private static readonly int EWOULDBLOCK = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? 11 : 35;
        private const int EROFS = 30;

        /// <summary>Another process holds the file: a sharing or lock violation on Windows, EWOULDBLOCK from flock on Unix.</summary>
        internal static bool IsSharingViolation(IOException ex) =>
            !(ex is FileNotFoundException || ex is DirectoryNotFoundException || ex is PathTooLongException)
            && (IsWindows ? (ex.HResult & 0xFFFF) == 32 || (ex.HResult & 0xFFFF) == 33 : ex.HResult == EWOULDBLOCK);

        /// <summary>No permission (EACCES, EPERM, an ACL), or a read-only file system or medium.</summary>
        internal static bool IsNotWritable(Exception ex) =>
            ex is UnauthorizedAccessException
            || (ex is IOException io && !(io is FileNotFoundException || io is DirectoryNotFoundException)
                && (IsWindows ? (io.HResult & 0xFFFF) == 19 : io.HResult == EROFS));

        private static readonly Dictionary<string, BalanceLevel> Levels =
            Enum.GetValues(typeof(BalanceLevel)).Cast<BalanceLevel>().ToDictionary(l => l.ToString(), l => l, StringComparer.Ordinal);

        // Exact names only: Enum.Parse would also take "2" or "low".
        private static BalanceLevel ParseLevel(string cardId, string text) =>
            Levels.TryGetValue(text, out var level) ? level
            : throw new InvalidDataException("card '" + cardId + "': \"level\" '" + text + "' is not one of " + string.Join(", ", Levels.Keys));
    }
}
