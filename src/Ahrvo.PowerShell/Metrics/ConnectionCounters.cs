using System;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Metrics
{
    /// <summary>A connection's counters at the time the file is written.</summary>
    internal readonly struct ConnectionCounters
    {
        public ConnectionCounters(long requestsSent, long retries, long throttledResponses)
            : this(Guid.Empty, requestsSent, retries, throttledResponses)
        {
        }

        public ConnectionCounters(Guid connectionId, long requestsSent, long retries, long throttledResponses)
        {
            ConnectionId = connectionId;
            RequestsSent = requestsSent;
            Retries = retries;
            ThrottledResponses = throttledResponses;
        }

        /// <summary>The connection these counts belong to (<see cref="Guid.Empty"/>: unknown).</summary>
        public Guid ConnectionId { get; }
        public long RequestsSent { get; }
        public long Retries { get; }
        public long ThrottledResponses { get; }
    }
}
