using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Shared by every worker of a connection: when the server says "slow down" (429 or 503 with
    /// Retry-After), no worker sends anything until that moment has passed, not only the one that
    /// was told.
    /// </summary>
    internal sealed class ServerBackoffGate
    {
        private long _notBeforeTicks; // Stopwatch ticks; 0 = open

        public void PushBack(TimeSpan delay)
        {
            if (delay <= TimeSpan.Zero) return;
            long target = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
            long current;
            do
            {
                current = Interlocked.Read(ref _notBeforeTicks);
                if (current >= target) return;
            }
            while (Interlocked.CompareExchange(ref _notBeforeTicks, target, current) != current);
        }

        public TimeSpan Remaining
        {
            get
            {
                long left = Interlocked.Read(ref _notBeforeTicks) - Stopwatch.GetTimestamp();
                return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)left / Stopwatch.Frequency);
            }
        }

        public async Task WaitAsync(CancellationToken cancellationToken)
        {
            // Loop: another 429 may push the moment further while we wait.
            for (var left = Remaining; left > TimeSpan.Zero; left = Remaining)
                await Task.Delay(left + TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
        }
    }
}
