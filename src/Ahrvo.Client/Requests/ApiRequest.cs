using System;
using System.Collections.Generic;

namespace Ahrvo.Client.Requests
{
    /// <summary>
    /// One call of any of the vendor's endpoints (Invoke-AhrvoRequest): sent through the connection's
    /// headers, token renewal, pace, outage state and audit log, as a balance query is.
    /// </summary>
    public sealed class ApiRequest
    {
        /// <summary>The methods a request may use; the others have no place in the vendor's API.</summary>
        public static readonly IReadOnlyList<string> Methods = new[] { "GET", "POST", "PUT", "PATCH", "DELETE" };

        /// <summary>The headers that belong to the connection or to the transport: a request cannot set them.</summary>
        public static readonly IReadOnlyList<string> ReservedHeaders = new[] { "Authorization", "x-api-key", "Idempotency-Key", "Host", "Content-Length", "Transfer-Encoding", "Connection" };

        public ApiRequest(string method, string path)
        {
            if (string.IsNullOrEmpty(method)) throw new ArgumentException("A method is required.", nameof(method));
            Method = method.ToUpperInvariant();
            bool known = false;
            foreach (var m in Methods) known |= m == Method;
            if (!known) throw new ArgumentException("The method '" + method + "' is not one of " + string.Join(", ", Methods) + ".", nameof(method));
            Path = path ?? throw new ArgumentNullException(nameof(path));
        }

        public string Method { get; }

        /// <summary>Relative to the connection's base URI; or absolute, on the base URI's own scheme, host and port only.</summary>
        public string Path { get; }

        /// <summary>Query parameters, each name and value URL-encoded on its own.</summary>
        public IList<KeyValuePair<string, string>> Query { get; } = new List<KeyValuePair<string, string>>();

        /// <summary>Extra request headers (not those of <see cref="ReservedHeaders"/>).</summary>
        public IList<KeyValuePair<string, string>> Headers { get; } = new List<KeyValuePair<string, string>>();

        /// <summary>The body as text, sent as UTF-8; null for none.</summary>
        public string? Body { get; set; }

        /// <summary>The body's media type; "application/json" when null. The charset sent is always stated as utf-8.</summary>
        public string? ContentType { get; set; }

        /// <summary>
        /// The Idempotency-Key header (IETF httpapi draft): the same key on every attempt, so a write
        /// may be retried like a read; null for none, and then a write whose fate is unknown is never re-sent.
        /// </summary>
        public string? IdempotencyKey { get; set; }

        /// <summary>POST, PUT, PATCH and DELETE change something at the server.</summary>
        public bool IsWrite => Method != "GET";
    }
}
