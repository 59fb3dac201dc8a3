using System;

namespace Ahrvo.Client.Resilience
{
    /// <summary>One HTTP attempt, read completely: the body is read inside the attempt so that a
    /// connection dropped mid-body is retried like any other network failure.</summary>
    internal sealed class AttemptResponse
    {
        public int StatusCode { get; set; }
        public TimeSpan? RetryAfter { get; set; }
        /// <summary>A Retry-After that is neither seconds nor an HTTP date (raw, not cleaned): not followed.</summary>
        public string? RetryAfterUnread { get; set; }
        public byte[] Body { get; set; } = Array.Empty<byte>();
        public int BodyLength { get; set; }
        public bool BodyTooLarge { get; set; }
        /// <summary>The body could not be decoded (a Content-Encoding it does not follow): the server's fault, like a bad body.</summary>
        public bool BodyUndecodable { get; set; }
        public string? ContentType { get; set; }
        public Uri? Location { get; set; }
    }
}
