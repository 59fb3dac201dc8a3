using System;
using Ahrvo.PowerShell.Alerts;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Metrics
{
    /// <summary>A connection's counters at the time the file is written.</summary>
    internal readonly struct ConnectionCounters
    {
        public ConnectionCounters(long requestsSent, long retries, long throttledResponses)
        {
            RequestsSent = requestsSent;
            Retries = retries;
            ThrottledResponses = throttledResponses;
        }

        public long RequestsSent { get; }
        public long Retries { get; }
        public long ThrottledResponses { get; }
    }
}
