using System;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
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

        /// <param name="ex">The attempt's failure.</param>
        /// <param name="answeredBefore">The connection has had an HTTP answer (any status) before: its host name resolved then.</param>
        public static bool IsTransient(Exception ex, bool answeredBefore) =>
            (ex is HttpRequestException && !IsTlsFailure(ex) && (answeredBefore || !IsNameNotResolved(ex)))
            || ex is TimeoutRejectedException
            || ex is System.IO.IOException;

        /// <summary>
        /// The host name has no address: the resolver answered that it does not exist (HostNotFound)
        /// or has no address (NoData). Before any answer that is a typo in the address or a name this
        /// network does not know: every card would be retried for its whole budget for nothing. Not
        /// TryAgain: a resolver that did not answer may answer the next time.
        /// </summary>
        /// <remarks>
        /// The inner SocketException, not HttpRequestException.HttpRequestError (.NET 8+, not in
        /// netstandard2.0): that one is NameResolutionError for TryAgain as well. .NET Framework
        /// reports a WebException without the resolver's answer, which is left transient.
        /// </remarks>
        public static bool IsNameNotResolved(Exception? ex)
        {
            for (var e = ex; e != null; e = e.InnerException)
                if (e is SocketException s)
                    return s.SocketErrorCode == SocketError.HostNotFound || s.SocketErrorCode == SocketError.NoData;
            return false;
        }

        /// <summary>The host name this machine resolves for a request, as messages name it: the proxy's when one is set.</summary>
        internal static string NameResolved(AhrvoClientOptions options) =>
            options.Proxy != null ? $"the proxy's host name '{options.Proxy.Host}'" : $"the host name '{options.BaseUri.Host}'";

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
            Http.AnswerCutOffException cut => cut.Message,
            System.IO.IOException io => "connection dropped: " + io.Message,
            _ => ex.GetType().Name + ": " + ex.Message,
        };
    }
}
