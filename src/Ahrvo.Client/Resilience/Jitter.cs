using System;
using System.Threading;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Random numbers for backoff and probe jitter, one generator per thread (netstandard2.0 has no
    /// thread-safe Random.Shared), and the backoff between a card's failed attempts.
    /// </summary>
    internal static class Jitter
    {
        private static int _seed = Environment.TickCount;
        [ThreadStatic] private static Random? _random;

        public static double NextDouble() =>
            (_random ??= new Random(Interlocked.Increment(ref _seed))).NextDouble();

        /// <summary>
        /// The wait before retry <paramref name="failures"/> (1 for the first): exponential from
        /// <paramref name="baseDelay"/>, each drawn from half to one and a half times its mean ("equal
        /// jitter"), so that cards failed by the same blip come back spread out, never in step; capped.
        /// </summary>
        public static TimeSpan Backoff(int failures, TimeSpan baseDelay, TimeSpan cap, double random)
        {
            double mean = baseDelay.TotalSeconds * Math.Pow(2, Math.Min(30, Math.Max(0, failures - 1)));
            double seconds = mean * (0.5 + random);
            return seconds >= cap.TotalSeconds ? cap : TimeSpan.FromSeconds(seconds);
        }

        /// <summary>
        /// The wait after a 429: the server's Retry-After (capped), else the backoff for this card's
        /// throttles, plus up to a tenth of it (at least 50 ms), so the cards throttled together
        /// do not all come back at the same instant.
        /// </summary>
        public static TimeSpan AfterThrottle(TimeSpan? retryAfter, int throttles, TimeSpan baseDelay, TimeSpan cap, double random)
        {
            var wait = retryAfter is TimeSpan ra && ra > TimeSpan.Zero
                ? (ra > cap ? cap : ra)
                : Backoff(throttles, baseDelay, cap, 0.5);
            double spread = Math.Max(0.05, wait.TotalSeconds / 10);
            return wait + TimeSpan.FromSeconds(spread * random);
        }
    }
}
