using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Ahrvo.Client.State;
using Ahrvo.PowerShell.Files;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>
    /// The file behind Watch-AhrvoCardBalance -StatePath. One pass is read-decide-write under
    /// <see cref="Lock"/>, so overlapping runs (a slow one and the next scheduled one) take turns and
    /// each sees what the other saved; the file is replaced whole (temporary file and rename) and is
    /// readable by its owner only, as it holds balances.
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

        public string Path { get; }

        /// <summary>
        /// A lock file beside the state, opened exclusively (FileShare.None: a share-mode lock on
        /// Windows, flock on Unix). Not the state file itself, which each save replaces. Not a named
        /// mutex either: this also holds across machines sharing a folder, and the system releases it
        /// when a process dies, so a crashed run never blocks the next.
        /// </summary>
        public string LockPath { get; }

        /// <summary>Waits up to <paramref name="timeout"/> for the lock; dispose the result to release it.</summary>
        /// <exception cref="TimeoutException">Another run held it all that time.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was cancelled (Ctrl+C).</exception>
        public IDisposable Lock(TimeSpan timeout, CancellationToken cancel)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                }
                catch (IOException ex) when (!(ex is DirectoryNotFoundException || ex is FileNotFoundException || ex is PathTooLongException))
                {
                    // Held by another run (a sharing violation; EWOULDBLOCK on Unix): try again until the deadline.
                    if (waited.Elapsed >= timeout) throw new TimeoutException(ex.Message, ex);
                }
                if (cancel.WaitHandle.WaitOne(LockRetry)) throw new OperationCanceledException(cancel);
            }
        }

        public bool Exists => File.Exists(Path);

        /// <summary>
        /// The saved state; empty when there is no file yet.
        /// <see cref="InvalidDataException"/> when the file is not a state file we can trust.
        /// </summary>
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
            var state = new AlertState();
            foreach (var e in AlertStateJson.Read(bytes))
            {
                state.Set(new CardAlertState(e.CardId, ParseLevel(e.CardId, e.Level), e.Balance, e.Currency, e.ObservedAt, e.LevelSince, e.LastAlertedAt));
            }
            return state;
        }

        public void Save(AlertState state, DateTimeOffset now)
        {
            // Sorted, so that two saves of the same state are the same bytes and a diff shows only changes.
            var entries = state.Cards.OrderBy(c => c.CardId, StringComparer.Ordinal)
                .Select(c => new AlertStateEntry(c.CardId, c.Level.ToString(), c.Balance, c.Currency, c.ObservedAt, c.LevelSince, c.LastAlertedAt));
            AtomicFile.WriteAllBytes(Path, AlertStateJson.Write(entries, now), overwrite: true);
        }

        private static readonly Dictionary<string, BalanceLevel> Levels =
            Enum.GetValues(typeof(BalanceLevel)).Cast<BalanceLevel>().ToDictionary(l => l.ToString(), l => l, StringComparer.Ordinal);

        // Exact names only: Enum.Parse would also take "2" or "low".
        private static BalanceLevel ParseLevel(string cardId, string text) =>
            Levels.TryGetValue(text, out var level) ? level
            : throw new InvalidDataException("card '" + cardId + "': \"level\" '" + text + "' is not one of " + string.Join(", ", Levels.Keys));
    }
}
