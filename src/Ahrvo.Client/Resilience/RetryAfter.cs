using System;
using System.Globalization;
using System.Net.Http.Headers;

namespace Ahrvo.Client.Resilience
{
    /// <summary>Reads Retry-After as delta seconds or an HTTP date.</summary>
    public static class RetryAfter
    {
        // A wait beyond this is the same as this: every wait is capped far lower (MaxRetryDelay), and
        // TimeSpan overflows on a server's 1e20.
        private const decimal MaxSeconds = int.MaxValue;

        // The server's Date has whole seconds: within this of this machine's clock, the local clock
        // (finer) is used for a Retry-After date.
        private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(2);

        public static TimeSpan? Parse(RetryConditionHeaderValue? header, DateTimeOffset now)
        {
            if (header == null) return null;
            if (header.Delta is TimeSpan d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
            if (header.Date is DateTimeOffset date)
            {
                var wait = date - now;
                return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
            }
            return null;
        }

        /// <summary>
        /// A response's Retry-After: the typed value (whole seconds or an HTTP date), else the raw
        /// value as a decimal number of seconds ("1.5"), which .NET's parser drops although servers
        /// send it. <paramref name="unread"/> is the raw value when neither reads it (it is then not
        /// followed, as before, but -Verbose can say so).
        /// </summary>
        public static TimeSpan? Parse(HttpResponseHeaders headers, DateTimeOffset now, out string? unread)
        {
            unread = null;
            // A date is the server's clock: read against its Date header when this machine's clock
            // is off by more than a second or two, else a clock 5 min ahead waited nothing (and met
            // the next 429 at once) and one 5 min behind waited the cap for a 3 s Retry-After.
            if (headers.RetryAfter?.Date != null && headers.Date is DateTimeOffset served && (served - now).Duration() > ClockSkew)
                now = served;
            var typed = Parse(headers.RetryAfter, now);
            if (typed != null || !headers.TryGetValues("Retry-After", out var values)) return typed;
            var raw = string.Join(",", values);
            if (TryParseSeconds(raw, out var seconds)) return seconds;
            unread = raw;
            return null;
        }

        /// <summary>
        /// A non-negative decimal number of seconds, digits and one point only (invariant culture:
        /// "1,5" is refused, not read as 15 or 1.5); no sign, exponent, NaN or infinity.
        /// </summary>
        public static bool TryParseSeconds(string? raw, out TimeSpan wait)
        {
            wait = TimeSpan.Zero;
            var s = raw?.Trim();
            if (string.IsNullOrEmpty(s) || !decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
                return false;
            if (seconds > MaxSeconds) seconds = MaxSeconds;
            wait = TimeSpan.FromTicks((long)(seconds * TimeSpan.TicksPerSecond));
            return true;
        }
    }
}
