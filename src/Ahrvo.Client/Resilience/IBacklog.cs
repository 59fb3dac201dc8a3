namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// What a bulk run still has to do, for the pace (see
    /// <see cref="AdaptiveRateLimiter.Track"/>): near a run's end a probe above the learned limit can
    /// gain little and its 429 costs the throttled card a Retry-After that the whole run then waits for.
    /// </summary>
    internal interface IBacklog
    {
        /// <summary>No more cards will be added (until one is).</summary>
        bool InputComplete { get; }

        /// <summary>Cards added and not yet answered (or given up).</summary>
        long Unsettled { get; }
    }
}
