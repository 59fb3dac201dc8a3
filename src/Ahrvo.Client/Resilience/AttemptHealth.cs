namespace Ahrvo.Client.Resilience
{
    /// <summary>How an attempt ended, as far as the health of the service goes.</summary>
    internal enum AttemptHealth
    {
        /// <summary>An answer that shows the service is up (2xx, 4xx, any non-transient answer).</summary>
        Up,
        /// <summary>A transient failure that came back: 5xx, 408, reset.</summary>
        Failed,
        /// <summary>429: the service is up and pacing us; says nothing about an outage.</summary>
        Throttled,
        /// <summary>Cancelled by the caller: says nothing.</summary>
        Abandoned,
        /// <summary>No answer in time: a failure, but no answer, so the hang check's silence goes on.</summary>
        TimedOut,
    }
}
