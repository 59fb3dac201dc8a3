using Ahrvo.Client.Diagnostics;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// One card's query across its attempts and waits: what it has cost so far, its time budget,
    /// and when it may try again. Owned by one worker at a time.
    /// </summary>
    internal sealed class CardCall
    {
        public CardCall(string cardId, RequestDiagnostics? diagnostics, long runStart)
        {
            CardId = cardId;
            Diagnostics = diagnostics;
            RunStart = runStart;
        }

        public string CardId { get; }
        public RequestDiagnostics? Diagnostics { get; }

        /// <summary>When the command this card belongs to started (TimeProvider timestamp).</summary>
        public long RunStart { get; }

        /// <summary>When the card's first step began; 0 before. Its budget (-TimeoutSec) counts from here.</summary>
        public long Started { get; set; }
        /// <summary>When its time is up; moved later by the time it waited for a send slot or a 429's Retry-After (the pace is not the card's fault).</summary>
        public long Deadline { get; set; }
        /// <summary>Moves the deadline later by a 429's wait (see <see cref="RetryDecision.Extension"/>).</summary>
        public void Extend(long ticks)
        {
            if (ticks > 0) Deadline = Clock.Add(Deadline, ticks);
        }

        /// <summary>The card's position in its bulk run's input (-1: not in one), for the pace's start window.</summary>
        public long Order { get; set; } = -1;

        /// <summary>Requests sent for this card.</summary>
        public int Attempts { get; set; }

        /// <summary>Failures that count against -MaxRetries: not 429s, not failures during an outage.</summary>
        public int Failures { get; set; }

        /// <summary>When the first of those was sent (0: none yet).</summary>
        public long FailingSince { get; set; }
        public int Throttles { get; set; }

        /// <summary>A 401 made the connection renew its token and this card try once more.</summary>
        public bool RenewedToken { get; set; }

        /// <summary>A check of the credentials (<see cref="AhrvoClient.CheckAccessAsync"/>): its first answer is final, never retried.</summary>
        public bool SingleAttempt { get; set; }

        /// <summary>Why the last attempt failed, for the final error.</summary>
        public string? LastFailure { get; set; }

        /// <summary>The last attempt's answer or failure, for a result decided before the next send.</summary>
        public AttemptResponse? LastAnswer { get; set; }
        public System.Exception? LastException { get; set; }
    }
}
