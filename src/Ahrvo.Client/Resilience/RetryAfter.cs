using System;
using System.Net.Http.Headers;

namespace Ahrvo.Client.Resilience
{
    /// <summary>Reads Retry-After as delta seconds or an HTTP date.</summary>
    public static class RetryAfter
    {
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
    }
}
