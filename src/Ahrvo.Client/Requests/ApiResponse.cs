using System;
using System.Collections.Generic;

namespace Ahrvo.Client.Requests
{
    /// <summary>
    /// What came of an <see cref="ApiRequest"/>: the answer (status, headers, body) whenever there
    /// was one, even when it is an error, so that a caller can always see the status and headers;
    /// <see cref="Error"/> says what went wrong, null for a 2xx.
    /// </summary>
    public sealed class ApiResponse
    {
        internal ApiResponse(string method, string path, int? statusCode, IReadOnlyDictionary<string, string[]> headers, string? contentType,
            string? body, bool bodyIsJson, AhrvoError? error, int attempts, TimeSpan elapsed)
        {
            Method = method;
            Path = path;
            StatusCode = statusCode;
            Headers = headers;
            ContentType = contentType;
            Body = body;
            BodyIsJson = bodyIsJson;
            Error = error;
            Attempts = attempts;
            Elapsed = elapsed;
        }

        public string Method { get; }

        /// <summary>The path sent (no query).</summary>
        public string Path { get; }

        /// <summary>The last answer's status; null when no answer came (a network failure, a timeout, a request refused before sending).</summary>
        public int? StatusCode { get; }

        /// <summary>The last answer's headers (content headers included), names case-insensitive; empty when no answer came. Secrets redacted.</summary>
        public IReadOnlyDictionary<string, string[]> Headers { get; }

        public string? ContentType { get; }

        /// <summary>
        /// The body as text (decoded by its charset, UTF-8 when none is named): secrets redacted, card
        /// numbers masked in the fields that hold them, everything else as the server sent it.
        /// Null when no answer came; empty for an empty body.
        /// </summary>
        public string? Body { get; }

        /// <summary>The body is JSON (<see cref="JsonValues.Parse"/> reads it).</summary>
        public bool BodyIsJson { get; }

        public AhrvoError? Error { get; }

        public bool Success => Error == null;

        /// <summary>Requests sent (0 when refused before sending).</summary>
        public int Attempts { get; }

        public TimeSpan Elapsed { get; }

        internal static readonly IReadOnlyDictionary<string, string[]> NoHeaders = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
    }
}
