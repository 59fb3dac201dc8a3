using System;

namespace Ahrvo.Client.Resilience
{
    /// <summary>What a card does after an attempt that did not settle it.</summary>
    internal enum NextStep
    {
        /// <summary>The last answer (or failure) is the card's result; <see cref="RetryDecision.Limit"/> says which limit made it the last.</summary>
        Finish,
        /// <summary>Try again at <see cref="RetryDecision.At"/>.</summary>
        RetryAt,
        /// <summary>The failure was the outage's: wait for the service (no retry used up).</summary>
        WaitForService,
    }

    /// <summary>The retry/wait decision after an attempt that failed or was throttled.</summary>
    internal readonly struct RetryDecision
    {
        public RetryDecision(NextStep step, AhrvoLimit limit, long at, TimeSpan wait)
        {
            Step = step;
            Limit = limit;
            At = at;
            Wait = wait;
        }

        public NextStep Step { get; }
        public AhrvoLimit Limit { get; }
        /// <summary>When the card may try again (timestamp); for Finish, when it was decided.</summary>
        public long At { get; }
        public TimeSpan Wait { get; }

        /// <summary>
        /// The decision, as a pure function of what happened and the card's state: no clock, no I/O.
        /// </summary>
        /// <param name="throttled">The attempt was answered 429 (pacing, not a failure: no -MaxRetries).</param>
        /// <param name="retryAfter">The server's Retry-After, if any.</param>
        /// <param name="throttles">The card's 429s so far, this one included.</param>
        /// <param name="failures">The card's counted failures so far, before this one.</param>
        /// <param name="outageFailure">The failure happened while the service was down or was a probe's: the outage's, not the card's.</param>
        /// <param name="now">Timestamp of the decision.</param>
        /// <param name="deadline">The card's deadline (timestamp).</param>
        /// <param name="minLeft">The time (in timestamp ticks) a request needs left to be worth sending: the usual answer time.</param>
        /// <param name="frequency">Timestamp ticks per second.</param>
        /// <param name="random">A uniform draw in [0, 1) for the jitter.</param>
        public static RetryDecision Decide(bool throttled, TimeSpan? retryAfter, int throttles, int failures, bool outageFailure,
            long now, long deadline, long minLeft, long frequency, int maxRetries, TimeSpan baseDelay, TimeSpan maxDelay, double random)
        {
            TimeSpan wait;
            if (throttled)
            {
                wait = Jitter.AfterThrottle(retryAfter, throttles, baseDelay, maxDelay, random);
            }
            else if (outageFailure)
            {
                // The card queues behind the probe; the outage, not a backoff, paces it.
                return new RetryDecision(NextStep.WaitForService, AhrvoLimit.None, now, TimeSpan.Zero);
            }
            else
            {
                if (failures + 1 > maxRetries) return new RetryDecision(NextStep.Finish, AhrvoLimit.MaxRetries, now, TimeSpan.Zero);
                wait = Jitter.Backoff(failures + 1, baseDelay, maxDelay, random);
                if (retryAfter is TimeSpan ra && ra > wait) wait = ra > maxDelay ? maxDelay : ra;
            }
            long at = Clock.Add(now, (long)(wait.TotalSeconds * frequency));
            // No request goes out that cannot be answered in time: when the card's time would be
            // (nearly) up before it could try again, its last answer is its result.
            if (at >= deadline || deadline - at < minLeft) return new RetryDecision(NextStep.Finish, AhrvoLimit.TotalTimeout, now, wait);
            return new RetryDecision(NextStep.RetryAt, AhrvoLimit.None, at, wait);
        }
    }
}
