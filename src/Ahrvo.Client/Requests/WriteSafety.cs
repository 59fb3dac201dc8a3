using System;
using System.Net.Sockets;
using Polly.Timeout;

namespace Ahrvo.Client.Requests
{
    /// <summary>What one attempt's outcome says about whether the request reached the server.</summary>
    internal enum Reach
    {
        /// <summary>Certainly not processed: refused before anything was sent, a 429, a 401 (the credentials were refused).</summary>
        NotProcessed,
        /// <summary>It may have reached the server and been applied: a timeout, a connection lost after sending, any 5xx, a 408.</summary>
        Unknown,
        /// <summary>The server answered with what it did (2xx, or a 4xx that refuses it).</summary>
        Answered,
    }

    /// <summary>
    /// The rule for writes: a POST, PUT, PATCH or DELETE that may have reached the server is never
    /// sent again (unless it carries an Idempotency-Key); it may be retried only when it certainly
    /// was not processed. A pure function of the outcome, so it can be proved over every case.
    /// </summary>
    internal static class WriteSafety
    {
        public static Reach OfStatus(int status) =>
            status == 429 || status == 401 ? Reach.NotProcessed
            : status == 408 || (status >= 500 && status <= 599) ? Reach.Unknown
            : Reach.Answered;

        /// <summary>
        /// A failure without an answer. Only a connection that was never made (refused, or a name
        /// that did not resolve) certainly sent nothing; a TLS handshake that failed sent no request
        /// either. A reset, a timeout, anything else: the request may have gone out.
        /// </summary>
        public static Reach OfFailure(Exception failure)
        {
            if (failure is TimeoutRejectedException) return Reach.Unknown;
            if (Resilience.Transience.IsTlsFailure(failure)) return Reach.NotProcessed;
            for (var e = failure; e != null; e = e.InnerException)
            {
                // An IOException means a stream was open: bytes may have gone out before it broke.
                if (e is System.IO.IOException) return Reach.Unknown;
                if (e is SocketException s)
                    return s.SocketErrorCode == SocketError.ConnectionRefused
                        || s.SocketErrorCode == SocketError.HostNotFound
                        || s.SocketErrorCode == SocketError.TryAgain
                        || s.SocketErrorCode == SocketError.NoData
                        ? Reach.NotProcessed : Reach.Unknown;
            }
            return Reach.Unknown;
        }

        /// <summary>May the request be sent again after this outcome? A read always may (its retry rules decide when); a write only as above.</summary>
        public static bool MayResend(bool isWrite, bool hasIdempotencyKey, Reach reach) =>
            !isWrite || hasIdempotencyKey || reach == Reach.NotProcessed;
    }
}
