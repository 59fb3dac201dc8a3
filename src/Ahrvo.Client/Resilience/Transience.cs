using System;
using System.Globalization;
using System.Net.Http;
using System.Security.Authentication;
using Polly.Timeout;

namespace Ahrvo.Client.Resilience
{
    /// <summary>Which failures are worth another attempt, and how to name them.</summary>
    internal static class Transience
    {
        // Every 5xx is the server's or a gateway's trouble (Cloudflare's 520-530, 507, 509, any code
        // not yet named), which asking again may outlast; only 501 (the method is not implemented)
        // and 505 (the HTTP version is refused) will not get better. 408 is a timeout. 429 is
        // handled apart (it is pacing, not a failure). Each of these is also an outage signal.
        public static bool IsTransientStatus(int status) =>
            status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501 && status != 505);

        /// <summary>
        /// A gateway's answer that says nothing about the card: the service behind it could not be
        /// reached (502, 503, 504, a CDN's 520-530). Not 500 and the rest of the 5xx: those are the
        /// API's own answer, which may be about this card.
        /// </summary>
        public static bool IsGatewayStatus(int status) => (status >= 502 && status <= 504) || (status >= 520 && status <= 530);

        public static bool IsTransient(Exception ex) =>
            (ex is HttpRequestException && !IsTlsFailure(ex))
            || ex is TimeoutRejectedException
            || ex is System.IO.IOException;

        /// <summary>A certificate the platform does not trust will not become trusted by asking again.</summary>
        public static bool IsTlsFailure(Exception ex)
        {
            for (var e = ex; e != null; e = e.InnerException)
                if (e is AuthenticationException) return true;
            return false;
        }

        public static string Describe(Exception ex) => ex switch
        {
            TimeoutRejectedException t => "no answer within " + t.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s",
            HttpRequestException h => "network error: " + (h.InnerException?.Message ?? h.Message),
            System.IO.IOException io => "connection dropped: " + io.Message,
            _ => ex.GetType().Name + ": " + ex.Message,
        };
    }
}
