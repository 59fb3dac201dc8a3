using System;
using System.Threading;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Counts of good and bad outcomes over a short sliding window (eight buckets), cheap enough to
    /// update on every answer: lock-free but for the moment a bucket is reused. Approximate under
    /// races, which only blur a count by one.
    /// </summary>
    internal sealed class OutcomeWindow
    {
        private const int Buckets = 8;
        private readonly long _bucketTicks;
        private readonly long[] _slot = new long[Buckets];
        private readonly int[] _good = new int[Buckets];
        private readonly int[] _bad = new int[Buckets];

        public OutcomeWindow(TimeProvider time, TimeSpan span)
        {
            _bucketTicks = Math.Max(1, (long)(time.TimestampFrequency * span.TotalSeconds / Buckets));
            Clear();
        }

        public void Add(long now, bool good)
        {
            long slot = now / _bucketTicks;
            int i = (int)(slot % Buckets);
            if (Volatile.Read(ref _slot[i]) != slot)
            {
                lock (_slot)
                {
                    if (_slot[i] != slot)
                    {
                        _good[i] = 0;
                        _bad[i] = 0;
                        Volatile.Write(ref _slot[i], slot);
                    }
                }
            }
            if (good) Interlocked.Increment(ref _good[i]);
            else Interlocked.Increment(ref _bad[i]);
        }

        public void Totals(long now, out int good, out int bad)
        {
            long slot = now / _bucketTicks;
            good = 0;
            bad = 0;
            for (int i = 0; i < Buckets; i++)
            {
                long s = Volatile.Read(ref _slot[i]);
                if (s > slot - Buckets && s <= slot)
                {
                    good += Volatile.Read(ref _good[i]);
                    bad += Volatile.Read(ref _bad[i]);
                }
            }
        }

        public void Clear()
        {
            lock (_slot)
            {
                for (int i = 0; i < Buckets; i++)
                {
                    Volatile.Write(ref _slot[i], long.MinValue);
                    _good[i] = 0;
                    _bad[i] = 0;
                }
            }
        }
    }
}
