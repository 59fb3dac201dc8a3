namespace Ahrvo.Client
{
    /// <summary>Why one card's balance could not be read. Stable names: the module maps them to ErrorIds.</summary>
    public enum AhrvoErrorKind
    {
        /// <summary>404: the card does not exist.</summary>
        CardNotFound,
        /// <summary>400: the id is malformed, or the card is not a Dedicated Funds card.</summary>
        InvalidCard,
        /// <summary>401: bad or missing token or API key. Concerns every card.</summary>
        Unauthorized,
        /// <summary>403: card issuance is not enabled for the account. Concerns every card.</summary>
        Forbidden,
        /// <summary>HTTP 200 whose code is not SUCCESS.</summary>
        ApiError,
        /// <summary>A body that is not the expected JSON, or a balance that is not a plain decimal.</summary>
        InvalidResponse,
        /// <summary>A transient failure (5xx, 429, network) that outlived the retry budget.</summary>
        ServiceUnavailable,
        /// <summary>The attempt or total timeout elapsed.</summary>
        Timeout,
        /// <summary>The circuit breaker is open after many failures: the service looks down.</summary>
        CircuitOpen,
        /// <summary>The server answered with a redirect, which is refused so that credentials never follow it.</summary>
        Redirect,
        /// <summary>Any other HTTP status.</summary>
        UnexpectedStatus,
        /// <summary>The TLS handshake failed (an untrusted or mismatched certificate): never retried, never bypassed.</summary>
        TlsFailure,
        /// <summary>The audit log could not be written (disk, permissions): the run stops so no query goes unaudited.</summary>
        AuditLogFailed,
        /// <summary>This module failed locally, in a way it does not know: not the API's fault.</summary>
        ClientFailure,
        /// <summary>
        /// A write (POST, PUT, PATCH, DELETE of Invoke-AhrvoRequest) that may have reached the server
        /// and got no answer that says whether it was applied (a timeout, a connection lost after
        /// sending, a 5xx): never re-sent, and never reported as a plain failure.
        /// </summary>
        MayHaveBeenApplied,
    }
}
