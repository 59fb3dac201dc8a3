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
        public RetryDecision(NextStep step, AhrvoLimit limit, long at, TimeSpan wait, long extension = 0)
        {
            Step = step;
            Limit = limit;
            At = at;
            Wait = wait;
            Extension = extension;
        }

        public NextStep Step { get; }
        public AhrvoLimit Limit { get; }
        /// <summary>When the card may try again (timestamp); for Finish, when it was decided.</summary>
        public long At { get; }
        public TimeSpan Wait { get; }
        /// <summary>Timestamp ticks the card's deadline moves later: a 429's wait, within the card's allowance for them.</summary>
        public long Extension { get; }

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
        /// <param name="throttleAllowance">Timestamp ticks of this 429's wait that may go without the card's budget running.</param>
        public static RetryDecision Decide(bool throttled, TimeSpan? retryAfter, int throttles, int failures, bool outageFailure,
            long now, long deadline, long minLeft, long frequency, int maxRetries, TimeSpan baseDelay, TimeSpan maxDelay, double random,
            long throttleAllowance = 0)
        {
            long extension = 0;
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
            long waitTicks = (long)(wait.TotalSeconds * frequency);
            long at = Clock.Add(now, waitTicks);
            // A 429's wait is the pace the server asks for, not a failure: like the wait for a send
            // slot, it does not use the card's budget (a card throttled at a run's start would
            // otherwise meet a gateway's window shorter than -TimeoutSec with too little time left).
            // Within the allowance, so a server that throttles everything still ends the card.
            if (throttled && throttleAllowance > 0)
            {
                extension = waitTicks < throttleAllowance ? waitTicks : throttleAllowance;
                deadline = Clock.Add(deadline, extension);
            }
            // A backoff that would run past the card's time is cut short so the retry still goes
            // with time to be answered: a card alone at a run's end met a gateway's 2 s window with
            // 5 s budget, and a third backoff of 2.5 s (with 2.3 s left) ended it with time to spare.
            // Not a 429's wait: sending before the server's Retry-After only asks for another 429.
            if (!throttled && deadline - at < minLeft)
            {
                // With twice the answer time left when it can: with only the usual time, half of
                // such retries came back too late.
                long latest = deadline - 2 * minLeft > now ? deadline - 2 * minLeft : deadline - minLeft;
                if (latest > now)
                {
                    wait = TimeSpan.FromSeconds((latest - now) / (double)frequency);
                    at = latest;
                }
            }
            // No request goes out that cannot be answered in time: when the card's time would be
            // (nearly) up before it could try again, its last answer is its result.
            if (at >= deadline || deadline - at < minLeft) return new RetryDecision(NextStep.Finish, AhrvoLimit.TotalTimeout, now, wait);
            return new RetryDecision(NextStep.RetryAt, AhrvoLimit.None, at, wait, extension);
        }
    }
}
