using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;

namespace Ahrvo.Client
{
    /// <summary>
    /// JSON-lines audit of balance queries (the spec's security notes ask for one): time, card id,
    /// outcome, HTTP status, duration, attempts. Never a balance, never a secret. Lines stay whole
    /// across threads (a lock) and across processes (a machine-wide named mutex per file). The file
    /// says which cards were queried and when, so it is created readable by its owner only. A line
    /// that cannot be written is an <see cref="AuditLogException"/>: the caller stops rather than
    /// query on unaudited.
    /// </summary>
    internal sealed class AuditLog : IDisposable
    {
        private readonly TimeSpan _crossProcessWait;
        private readonly string _path;
        private int _mutexTimeouts;

        private readonly FileStream _stream;
        private readonly Mutex? _mutex;
        private readonly object _gate = new object();
        private bool _disposed;

        public AuditLog(string path) : this(path, TimeSpan.FromSeconds(5)) { }

        internal AuditLog(string path, TimeSpan crossProcessWait)
        {
            _crossProcessWait = crossProcessWait;
            var full = Path.GetFullPath(path);
            _path = full;
            _stream = OpenStream(full);
            _mutex = TryCreateMutex(full);
        }

        /// <summary>
        /// Opens the file, or creates it 0600, as the log does; a folder that cannot be made or a
        /// file that cannot be opened for writing is an <see cref="AuditLogException"/>, never a raw
        /// IOException. Connect-Ahrvo calls it so that a bad path fails there, not at the first query.
        /// </summary>
        public static void Check(string path)
        {
            var full = Path.GetFullPath(path);
            OpenStream(full).Dispose();
        }

        private static FileStream OpenStream(string full)
        {
            try
            {
                var dir = Path.GetDirectoryName(full);
                if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
                // Not FileMode.Append: .NET does not open with O_APPEND / FILE_APPEND_DATA but writes at
                // the position it remembers, so two processes overwrite each other's lines (docs/reliability.md).
                // Each write seeks to the end under the mutex instead; OpenOrCreate also survives the file
                // being truncated by a log rotation.
                return IO.OwnerOnlyFile.Open(full, FileMode.OpenOrCreate, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                throw new AuditLogException(full, ex);
            }
        }

        /// <summary>
        /// One mutex per file for every process of the machine ("Global\" spans sessions and, on
        /// Unix, terminals). Without it (named mutexes unavailable) only this process is serialized.
        /// </summary>
        internal static string MutexName(string fullPath)
        {
            var key = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? fullPath.ToUpperInvariant() : fullPath;
            string hash;
            using (var sha = SHA256.Create())
                hash = BitConverter.ToString(sha.ComputeHash(Encoding.UTF8.GetBytes(key)), 0, 16).Replace("-", string.Empty);
            return @"Global\Ahrvo.AuditLog." + hash;
        }

        private static Mutex? TryCreateMutex(string fullPath)
        {
            try
            {
                return new Mutex(false, MutexName(fullPath));
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException || ex is IOException || ex is WaitHandleCannotBeOpenedException || ex is PlatformNotSupportedException)
            {
                return null;
            }
        }

        /// <summary>Times another process held the file's mutex past the wait (tests: the damage is bounded).</summary>
        internal int MutexTimeouts => Volatile.Read(ref _mutexTimeouts);

        public string FilePath => _path;

        public void Write(BalanceResult result) =>
            Write(result.CardId, result.Success ? "Success" : result.Error!.Kind.ToString(), result.HttpStatus, result.Elapsed, result.Attempts);

        /// <summary>A query stopped (Ctrl+C) after its request went out: the API saw it, so it is audited too.</summary>
        public void WriteCancelled(string cardId, TimeSpan elapsed, int attempts) => Write(cardId, "Cancelled", null, elapsed, attempts);

        private void Write(string cardId, string outcome, int? httpStatus, TimeSpan elapsed, int attempts)
        {
            var buffer = new MemoryStream(256);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("time", DateTimeOffset.UtcNow);
                json.WriteString("cardId", cardId);
                json.WriteString("outcome", outcome);
                if (httpStatus is int s) json.WriteNumber("httpStatus", s); else json.WriteNull("httpStatus");
                json.WriteNumber("durationMs", Math.Round(elapsed.TotalMilliseconds, 1));
                json.WriteNumber("attempts", attempts);
                json.WriteEndObject();
            }
            Append(buffer);
        }

        /// <summary>
        /// A request of Invoke-AhrvoRequest: its method, its path (never the query or a body: a body
        /// may hold amounts and card data) and its outcome.
        /// </summary>
        public void WriteRequest(string method, string path, string outcome, int? httpStatus, TimeSpan elapsed, int attempts)
        {
            var buffer = new MemoryStream(256);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("time", DateTimeOffset.UtcNow);
                json.WriteString("method", method);
                json.WriteString("path", path);
                json.WriteString("outcome", outcome);
                if (httpStatus is int s) json.WriteNumber("httpStatus", s); else json.WriteNull("httpStatus");
                json.WriteNumber("durationMs", Math.Round(elapsed.TotalMilliseconds, 1));
                json.WriteNumber("attempts", attempts);
                json.WriteEndObject();
            }
            Append(buffer);
        }

        private void Append(MemoryStream buffer)
        {
            buffer.WriteByte((byte)'\n');
            lock (_gate)
            {
                if (_disposed) return;
                bool owned = false;
                try
                {
                    try
                    {
                        // A writer that hangs elsewhere must not hang this query: after the wait, write
                        // anyway; and after one such wait, stop waiting for it (each write would
                        // otherwise cost the whole wait, a card per 5 s for every other run).
                        if (_mutex != null && Volatile.Read(ref _mutexTimeouts) == 0)
                        {
                            owned = _mutex.WaitOne(_crossProcessWait);
                            if (!owned) Interlocked.Increment(ref _mutexTimeouts);
                        }
                    }
                    catch (AbandonedMutexException)
                    {
                        owned = true; // its owner died mid-write; the mutex is ours now
                    }
                    if (_stream.CanSeek) _stream.Seek(0, SeekOrigin.End); // a device or pipe has no end to seek
                    _stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                    _stream.Flush();
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
                {
                    throw new AuditLogException(_path, ex);
                }
                finally
                {
                    if (owned) _mutex!.ReleaseMutex();
                }
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                _stream.Dispose();
                _mutex?.Dispose();
            }
        }
    }

}
