using System;
using System.IO;

namespace Ahrvo.Client
{
    /// <summary>The audit log could not be written: a local problem (disk, permissions), never the API's.</summary>
    public sealed class AuditLogException : IOException
    {
        public AuditLogException(string path, Exception inner)
            : base($"The audit log '{path}' could not be written: {inner.Message}", inner) => AuditPath = path;

        public string AuditPath { get; }
    }
}
