using System;
using System.Threading;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Counts of a few kinds of event (sent, answered, throttled; good, bad) over a sliding window
    /// of fixed buckets, cheap enough to update on every request: lock-free but for the moment a
    /// bucket is reused. Approximate under races, which only blur a count by one. The one counter
    /// behind the outage detector's window and the pacer's rates.
    /// </summary>
    internal sealed class SlidingCounter
    {
        private readonly int _buckets;
        private readonly int _kinds;
        private readonly long _bucketTicks;
        private readonly long[] _slot;
        private readonly int[] _count; // [bucket * kinds + kind]

        public SlidingCounter(TimeProvider time, TimeSpan span, int buckets, int kinds)
        {
            if (buckets < 1 || kinds < 1) throw new ArgumentOutOfRangeException(nameof(buckets));
            _buckets = buckets;
            _kinds = kinds;
            _bucketTicks = Math.Max(1, (long)(time.TimestampFrequency * span.TotalSeconds / buckets));
            _slot = new long[buckets];
            _count = new int[buckets * kinds];
            Clear();
        }

        /// <summary>Width of one bucket, in timestamp ticks.</summary>
        public long BucketTicks => _bucketTicks;

        /// <summary>The whole window, in timestamp ticks.</summary>
        public long SpanTicks => _bucketTicks * _buckets;

        public void Add(long now, int kind)
        {
            long slot = now / _bucketTicks;
            int i = (int)(slot % _buckets);
            if (Volatile.Read(ref _slot[i]) != slot)
            {
                lock (_slot)
                {
                    if (_slot[i] != slot)
                    {
                        for (int k = 0; k < _kinds; k++) _count[i * _kinds + k] = 0;
                        Volatile.Write(ref _slot[i], slot);
                    }
                }
            }
            Interlocked.Increment(ref _count[i * _kinds + kind]);
        }

        /// <summary>Events of <paramref name="kind"/> in the last <paramref name="lastBuckets"/> buckets (the current one included); all of them by default.</summary>
        public int Sum(long now, int kind, int lastBuckets = int.MaxValue)
        {
            long slot = now / _bucketTicks;
            int n = Math.Min(lastBuckets, _buckets), sum = 0;
            for (int i = 0; i < _buckets; i++)
            {
                long s = Volatile.Read(ref _slot[i]);
                if (s > slot - n && s <= slot) sum += Volatile.Read(ref _count[i * _kinds + kind]);
            }
            return sum;
        }

        /// <summary>
        /// Events of <paramref name="kind"/> in the complete buckets before the current one, going back
        /// until <paramref name="enough"/> of <paramref name="countKind"/> are seen or
        /// <paramref name="maxBuckets"/> are summed; <paramref name="buckets"/> says how many were.
        /// </summary>
        public int SumBack(long now, int kind, int countKind, int enough, int maxBuckets, out int buckets)
        {
            long slot = now / _bucketTicks;
            int sum = 0, seen = 0;
            buckets = 0;
            for (int back = 1; back <= Math.Min(maxBuckets, _buckets - 1); back++)
            {
                long want = slot - back;
                int i = (int)(((want % _buckets) + _buckets) % _buckets);
                buckets = back;
                if (Volatile.Read(ref _slot[i]) != want) continue;
                sum += Volatile.Read(ref _count[i * _kinds + kind]);
                seen += Volatile.Read(ref _count[i * _kinds + countKind]);
                if (seen >= enough) break;
            }
            return sum;
        }

        public void Clear()
        {
            lock (_slot)
            {
                for (int i = 0; i < _buckets; i++) Volatile.Write(ref _slot[i], long.MinValue);
                Array.Clear(_count, 0, _count.Length);
            }
        }
    }

    /// <summary>
    /// Timestamp arithmetic of a TimeProvider in one place, saturating: a budget of
    /// TimeSpan.MaxValue (no limit) must not overflow into a deadline in the past.
    /// </summary>
    internal static class Clock
    {
        /// <summary>A duration in the provider's timestamp ticks; TimeSpan.MaxValue (or anything beyond a century) is "never".</summary>
        public static long Ticks(TimeProvider time, TimeSpan span)
        {
            if (span <= TimeSpan.Zero) return 0;
            double ticks = span.TotalSeconds * time.TimestampFrequency;
            return ticks >= Never ? Never : (long)ticks;
        }

        /// <summary>A timestamp plus a duration in ticks, saturating at "never".</summary>
        public static long Add(long timestamp, long ticks) =>
            ticks >= Never || timestamp >= Never - ticks ? Never : timestamp + ticks;

        /// <summary>How long from now until <paramref name="timestamp"/>; zero when past.</summary>
        public static TimeSpan Until(TimeProvider time, long timestamp)
        {
            long now = time.GetTimestamp();
            return timestamp <= now ? TimeSpan.Zero : Cap(Elapsed(time, now, timestamp));
        }

        /// <summary>Time since <paramref name="timestamp"/>; zero when it is in the future.</summary>
        public static TimeSpan Since(TimeProvider time, long timestamp)
        {
            long now = time.GetTimestamp();
            return timestamp >= now ? TimeSpan.Zero : Cap(Elapsed(time, timestamp, now));
        }

        public static double Seconds(TimeProvider time, long ticks) => (double)ticks / time.TimestampFrequency;

        // "Never" is far enough to be never and near enough that adding to it cannot overflow.
        public const long Never = long.MaxValue / 4;

        private static TimeSpan Cap(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;

        // GetElapsedTime multiplies ticks by a double: past a few years (a "never" deadline) that
        // could overflow a TimeSpan, so such spans read as this instead.
        internal static readonly TimeSpan Forever = TimeSpan.FromDays(3650);

        private static TimeSpan Elapsed(TimeProvider time, long from, long to) =>
            (to - from) / (double)time.TimestampFrequency >= Forever.TotalSeconds ? Forever : time.GetElapsedTime(from, to);
    }
}
