using System;

namespace Ahrvo.Client.Resilience
{
    /// <summary>One HTTP attempt, read completely: the body is read inside the attempt so that a
    /// connection dropped mid-body is retried like any other network failure.</summary>
    internal sealed class AttemptResponse
    {
        public int StatusCode { get; set; }
        public TimeSpan? RetryAfter { get; set; }
        public byte[] Body { get; set; } = Array.Empty<byte>();
        public int BodyLength { get; set; }
        public bool BodyTooLarge { get; set; }
        public string? ContentType { get; set; }
        public Uri? Location { get; set; }
    }

    /// <summary>What a call carries through the pipeline: for messages and the attempt count.</summary>
    internal sealed class CallState
    {
        public CallState(string cardId, Diagnostics.RequestDiagnostics? diagnostics)
        {
            CardId = cardId;
            Diagnostics = diagnostics;
        }

        public string CardId { get; }
        public Diagnostics.RequestDiagnostics? Diagnostics { get; }
        public int Attempts;

        /// <summary>Why the last failed attempt failed, for the final error when the circuit then opens.</summary>
        public string? LastFailure { get; set; }
    }
}
