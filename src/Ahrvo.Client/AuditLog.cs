using System;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Ahrvo.Client
{
    /// <summary>
    /// JSON-lines audit of balance queries (the spec's security notes ask for one): time, card id,
    /// outcome, HTTP status, duration, attempts. Never a balance, never a secret. Each line goes out
    /// in one write on a file opened for append, so lines stay whole across threads and processes.
    /// </summary>
    internal sealed class AuditLog : IDisposable
    {
        private readonly FileStream _stream;
        private readonly object _gate = new object();

        public AuditLog(string path)
        {
            var full = Path.GetFullPath(path);
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            // FileMode.Append opens with O_APPEND on Unix and FILE_APPEND_DATA on Windows: every
            // write lands at the current end, whoever else appends.
            _stream = new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
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
                _stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                _stream.Flush();
            }
        }

        public void Dispose()
        {
            lock (_gate) _stream.Dispose();
        }
    }
}
