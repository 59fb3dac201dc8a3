using System;
using System.Globalization;
using System.Threading;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Paces every request of one connection at a rate learned from the server's 429s, as the AWS
    /// SDKs' "adaptive" retry mode does: unlimited until the first 429, then CUBIC (a multiplicative
    /// cut on throttling, a cubic climb back while requests pass). An explicit ceiling
    /// (-MaxRequestsPerSecond) always applies. Sends are spaced one interval apart (each caller
    /// reserves its own slot), so workers never resume in step after a pause.
    /// </summary>
    /// <remarks>Design and figures: docs/reliability.md ("Adaptive pacing").</remarks>
    internal sealed class AdaptiveRateLimiter
    {
        internal const double Beta = 0.7;          // rate kept on a throttle (CUBIC's and AWS's β)
        internal const double ScaleC = 0.4;        // CUBIC's C, in requests/s per s³ (AWS's value)
        internal const double MinRate = 0.5;       // never slower than one request per 2 s
        // A learned limit is dropped once the climb is this far past the point where it was throttled
        // and far above it: the server no longer throttles at anything this client sends.
        private static readonly TimeSpan LiftAfterPlateau = TimeSpan.FromSeconds(10);

        private readonly TimeProvider _time;
        private readonly double _ceiling; // +∞ when none
        private readonly object _lock = new object();
        // Requests sent and answers (all, and those to requests sent under the current pace) over the
        // last four seconds, in buckets of 100 ms.
        private readonly SlidingCounter _counts;
        private const int Sent = 0, Answered = 1, Refused = 2, AnsweredNow = 3, RefusedNow = 4;
        private const int Buckets = 40;
        private long _firstSend = -1;
        private long _generationAt;       // when the pace last changed (cut or undone)

        // Telling throttling from a gateway's random 429s (see OnThrottled).
        internal const int MinAnswers = 20;        // answers a judgement needs, when the rate allows
        internal const double Margin = 0.02;       // share of 429s above the floor that is never noise
        internal const double Z = 2.5;             // significance of the excess over the floor, in standard deviations
        private double _floor;                     // share of 429s learned to come whatever the rate
        private bool _checking;                    // a cut is watched: undone if the share of 429s does not fall
        private long _checkFrom, _checkAt;
        private double _shareBefore;
        private (bool Limited, double Rate, double WMax, double K, long LastCutAt) _beforeCut;

        private bool _limited;            // a 429 has been seen and the limit not lifted since
        private double _rate = double.PositiveInfinity;
        private double _wMax;             // the rate at the last throttle
        private double _k;                // seconds from the last cut back to _wMax
        private long _lastCutAt;          // timestamp of the last cut
        private long _nextSlot;           // timestamp before which the next request may not go
        private double _lastReported;     // the rate last announced as regained (for -Verbose)
        private long _throttled;
        private long _generation; // cuts so far: a request's ticket says under which pace it was scheduled

        public AdaptiveRateLimiter(TimeProvider time, double? ceiling)
        {
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _ceiling = ceiling is double c && c > 0 ? c : double.PositiveInfinity;
            _counts = new SlidingCounter(time, TimeSpan.FromSeconds(4), Buckets, 5);
        }

        /// <summary>The rate requests are paced at now (learned or the ceiling); null when not paced.</summary>
        public double? CurrentRate
        {
            get
            {
                lock (_lock)
                {
                    double r = Math.Min(_limited ? RateAt(_time.GetTimestamp()) : double.PositiveInfinity, _ceiling);
                    return double.IsPositiveInfinity(r) ? (double?)null : r;
                }
            }
        }

        /// <summary>The learned rate (without the ceiling); null until the server throttles.</summary>
        public double? LearnedRate
        {
            get { lock (_lock) return _limited ? RateAt(_time.GetTimestamp()) : (double?)null; }
        }

        public long Throttled => Interlocked.Read(ref _throttled);

        /// <summary>
        /// Reserves the next send slot and says how long to wait for it. <paramref name="message"/>
        /// tells when the pace has grown back or was lifted (for -Verbose), else null.
        /// </summary>
        public TimeSpan Reserve(out string? message) => Reserve(out message, out _);

        /// <summary>As above; <paramref name="ticket"/> names the pace the slot was given under, for <see cref="OnThrottled"/>.</summary>
        public TimeSpan Reserve(out string? message, out long ticket) => Reserve(out message, out ticket, out _, out _);

        /// <summary>
        /// As above; <paramref name="schedule"/> is the slot schedule's version and
        /// <paramref name="rescheduled"/> completes when it changes (a cut voids every slot handed
        /// out): a caller waiting for its slot then reserves again.
        /// </summary>
        public TimeSpan Reserve(out string? message, out long ticket, out long schedule, out System.Threading.Tasks.Task rescheduled)
        {
            message = null;
            ticket = Interlocked.Read(ref _generation);
            schedule = Interlocked.Read(ref _schedule);
            rescheduled = System.Threading.Tasks.Task.CompletedTask;
            long now = _time.GetTimestamp();
            if (Interlocked.Read(ref _firstSend) < 0) Interlocked.CompareExchange(ref _firstSend, now, -1);
            _counts.Add(now, Sent);
            if (!Volatile.Read(ref _limited) && double.IsPositiveInfinity(_ceiling)) return TimeSpan.Zero; // the usual case: no lock
            lock (_lock)
            {
                ticket = _generation;
                schedule = _schedule;
                rescheduled = _rescheduled.Task;
                double rate = _ceiling;
                if (_limited)
                {
                    double learned = RateAt(now);
                    double sinceCut = Seconds(now - _lastCutAt);
                    if (sinceCut - _k > LiftAfterPlateau.TotalSeconds && learned > 2 * _wMax)
                    {
                        _limited = false;
                        message = string.Format(CultureInfo.InvariantCulture,
                            "No throttling for {0:0} s: requests of this connection are no longer paced{1}.", sinceCut,
                            double.IsPositiveInfinity(_ceiling) ? string.Empty : string.Format(CultureInfo.InvariantCulture, " beyond the ceiling of {0:0.##} requests/s (MaxRequestsPerSecond)", _ceiling));
                    }
                    else
                    {
                        if (learned >= _wMax && _lastReported < _wMax)
                        {
                            _lastReported = learned;
                            message = string.Format(CultureInfo.InvariantCulture,
                                "No throttling for {0:0.#} s: pace back up to {1:0.#} requests/s, the rate last throttled.", sinceCut, learned);
                        }
                        rate = Math.Min(rate, learned);
                    }
                }
                if (double.IsPositiveInfinity(rate)) return TimeSpan.Zero;
                if (rate > _scheduledRate * 1.25 || double.IsPositiveInfinity(_scheduledRate))
                {
                    Reschedule(now, rate);
                    schedule = _schedule;
                    rescheduled = _rescheduled.Task;
                }
                long interval = (long)(_time.TimestampFrequency / rate);
                long slot = Math.Max(now, _nextSlot);
                _nextSlot = slot + interval;
                return slot <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, slot);
            }
        }

        /// <summary>An answer other than 429 came (for telling a lone 429 from throttling).</summary>
        public void OnAnswer() => OnAnswer(Interlocked.Read(ref _generation));

        /// <summary>As above, for a request whose slot was given under <paramref name="ticket"/>.</summary>
        public void OnAnswer(long ticket)
        {
            long now = _time.GetTimestamp();
            _counts.Add(now, Answered);
            if (ticket == Interlocked.Read(ref _generation)) _counts.Add(now, AnsweredNow);
            if (Volatile.Read(ref _checking) && now >= Volatile.Read(ref _checkAt))
                lock (_lock) Review(now);
        }

        /// <summary>The share of 429s learned to come whatever the rate (0 to 0.5).</summary>
        public double NoiseFloor { get { lock (_lock) return _floor; } }

        /// <summary>The pace's generation: it changes with every cut.</summary>
        public long Generation => Interlocked.Read(ref _generation);

        /// <summary>The slot schedule's version (a slot is valid while it has not changed since it was reserved).</summary>
        public long Schedule => Interlocked.Read(ref _schedule);

        private long _schedule;
        private double _scheduledRate = double.PositiveInfinity; // the pace the slots handed out were spaced at

        /// <summary>Completes when the slots handed out so far are void (the pace was cut).</summary>
        public System.Threading.Tasks.Task Rescheduled { get { lock (_lock) return _rescheduled.Task; } }

        /// <summary>
        /// Voids the slots handed out once the pace has grown by a quarter since they were spaced (a
        /// caller waiting for a slot calls this now and then): a slot taken at a slow pace must not
        /// keep a worker asleep after the pace has recovered.
        /// </summary>
        public void Refresh()
        {
            if (!Volatile.Read(ref _limited)) return;
            lock (_lock)
            {
                if (!_limited) return;
                long now = _time.GetTimestamp();
                double rate = Math.Min(RateAt(now), _ceiling);
                if (rate > _scheduledRate * 1.25) Reschedule(now, rate);
            }
        }

        /// <summary>Voids every slot handed out; the next starts one interval of the new pace from now. Callers hold the lock.</summary>
        private void Reschedule(long now, double rate)
        {
            // Slots still pending were spaced at the old pace: the next one goes one new interval from
            // now (a request may have gone out just before); with none pending, at once.
            if (_nextSlot > now) _nextSlot = double.IsPositiveInfinity(rate) ? now : Math.Min(_nextSlot, now + (long)(_time.TimestampFrequency / rate));
            _scheduledRate = rate;
            Interlocked.Increment(ref _schedule);
            var old = _rescheduled;
            _rescheduled = NewSignal();
            old.TrySetResult(true);
        }

        private System.Threading.Tasks.TaskCompletionSource<bool> _rescheduled = NewSignal();

        private static System.Threading.Tasks.TaskCompletionSource<bool> NewSignal() =>
            new System.Threading.Tasks.TaskCompletionSource<bool>(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>
        /// A request whose slot was given under <paramref name="ticket"/> (from Reserve) was answered
        /// 429. It cuts the pace only when the share of 429s among the answers to requests sent
        /// under the current pace stands significantly above the noise floor: a gateway's random
        /// 429s only make their own card wait. A cut after which that share did not fall is undone
        /// (see <see cref="Review"/>), and the share then seen becomes the floor. Cuts once per
        /// round: 429s of requests scheduled under an earlier pace were caused by that pace. The cut
        /// goes to β times the rate sent, or to the rate the server accepted (its goodput) when that
        /// is lower. Returns a message for -Verbose when the pace changed, else null.
        /// </summary>
        public string? OnThrottled(long ticket)
        {
            Interlocked.Increment(ref _throttled);
            long now = _time.GetTimestamp();
            _counts.Add(now, Refused);
            if (ticket == Interlocked.Read(ref _generation)) _counts.Add(now, RefusedNow);
            lock (_lock)
            {
                string? reviewed = Review(now);
                if (ticket < _generation) return reviewed;
                int window = Math.Min(WindowBuckets(now), BucketsSince(now, Math.Max(_generationAt, Interlocked.Read(ref _firstSend))));
                int refused = _counts.Sum(now, RefusedNow, window), answered = _counts.Sum(now, AnsweredNow, window);
                if (!Significant(refused, answered, _floor)) return reviewed;
                double share = refused / (double)(refused + answered);
                if (_checking)
                {
                    // The last cut is still watched. When the share of 429s fell since, it was throttling;
                    // when it rose well above, the cut was too small: carry on either way. When it
                    // stayed about the same, these 429s may come whatever the rate: the review decides.
                    if (SameShare(share, _shareBefore)) return reviewed;
                    _checking = false;
                }
                double sending = SendingPerSecond(now);
                double before = _limited ? Math.Min(RateAt(now), _ceiling) : Math.Min(_ceiling, sending);
                // The rate that was throttled: what was really sent, when that is below the pace allowed.
                double throttledAt = Math.Max(MinRate, sending > 0 ? Math.Min(before, sending) : before);
                if (double.IsPositiveInfinity(throttledAt)) throttledAt = Math.Max(MinRate, sending);
                // What the server accepted meanwhile: under a burst into an unknown limit (64 requests
                // at once, one accepted) far less than β times what was sent.
                double goodput = Goodput(now);
                if (goodput < throttledAt * Beta) throttledAt = Math.Max(MinRate, goodput / Beta);
                if (!_checking)
                {
                    _beforeCut = (_limited, _rate, _wMax, _k, _lastCutAt);
                    _shareBefore = share;
                    _checking = true;
                }
                _wMax = throttledAt;
                _rate = Math.Max(MinRate, throttledAt * Beta);
                _k = Cbrt(_wMax * (1 - Beta) / ScaleC);
                // Watched while the pace stays well below the rate throttled (most of K), long enough
                // for some answers, within the counters' span.
                _checkFrom = now;
                _checkAt = now + (long)(Math.Min(3.5, Math.Max(1.0, Math.Max(0.8 * _k, MinAnswers / _rate))) * _time.TimestampFrequency);
                _lastCutAt = now;
                Interlocked.Increment(ref _generation);
                _generationAt = now;
                // Slots handed out under the old pace are void: their holders reserve again, at the new one.
                Reschedule(now, _rate);
                _lastReported = _rate;
                bool wasLimited = _limited;
                _limited = true;
                return string.Format(CultureInfo.InvariantCulture,
                    "The API throttled this connection (HTTP 429): requests are now paced at {0:0.#}/s ({1}), then sped up again while none is throttled.",
                    _rate, wasLimited ? string.Format(CultureInfo.InvariantCulture, "was {0:0.#}/s", before) : string.Format(CultureInfo.InvariantCulture, "{0:0.#}/s were being sent", sending));
            }
        }

        // CUBIC: W(t) = C (t − K)³ + Wmax, from β·Wmax right after the cut, flat near Wmax, then
        // probing above it ever faster. Callers hold the lock.
        private double RateAt(long now)
        {
            double t = Seconds(now - _lastCutAt) - _k;
            double w = ScaleC * t * t * t + _wMax;
            return Math.Max(MinRate, Math.Max(w, _rate));
        }

        private static double Cbrt(double x) => Math.Pow(x, 1.0 / 3.0);

        private double Seconds(long ticks) => (double)ticks / _time.TimestampFrequency;

        /// <summary>Requests sent per second over the last second, or since the first request when that is more recent (at least 100 ms).</summary>
        private double SendingPerSecond(long now) => PerSecond(now, Sent);

        /// <summary>Answers other than 429 per second since the pace last changed (at most the last second, at least 100 ms): the rate the server accepted.</summary>
        private double Goodput(long now)
        {
            // Since the pace last changed, reaching back (at most a second) until MinAnswers answers are seen.
            long from = Math.Max(Interlocked.Read(ref _firstSend), _generationAt);
            double bucket = 4.0 / Buckets;
            int n = Math.Max(1, (int)Math.Ceiling(Math.Min(1.0, Seconds(now - from)) / bucket));
            int answered = _counts.Sum(now, Answered, n);
            long first = Interlocked.Read(ref _firstSend);
            int most = Math.Max(1, Math.Min((int)Math.Round(1.0 / bucket), (int)Math.Ceiling(Seconds(now - first) / bucket)));
            while (answered < MinAnswers && n < most) answered = _counts.Sum(now, Answered, ++n);
            return answered / Math.Max(0.1, Math.Min(n * bucket, Seconds(now - first)));
        }

        private double PerSecond(long now, int kind)
        {
            long first = Interlocked.Read(ref _firstSend);
            if (first < 0) return 0;
            double span = Math.Min(1.0, Math.Max(0.1, Seconds(now - first)));
            return _counts.Sum(now, kind, (int)Math.Ceiling(span * Buckets / 4.0)) / span;
        }

        /// <summary>About the same share of 429s before and after a cut: 429s that do not depend on the rate.</summary>
        // A share above MaxFloor is never taken for noise.
        private static bool SameShare(double after, double before) => before < MaxFloor && after >= 0.6 * before && after < Math.Min(MaxFloor, 1.7 * before);

        internal const double MaxFloor = 0.25;

        /// <summary>Is a share of <paramref name="refused"/> 429s among these answers more than a floor of <paramref name="floor"/> explains?</summary>
        internal static bool Significant(int refused, int answered, double floor)
        {
            int n = refused + answered;
            if (refused < 2 || n < 5) return false;
            double p = Math.Max(floor, 0.01);
            return refused / (double)n > floor + Margin + Z * Math.Sqrt(p * (1 - p) / n);
        }

        /// <summary>
        /// Once a cut has been watched long enough: undone when the share of 429s did not fall (they
        /// come whatever the rate; that share becomes the noise floor), kept otherwise. Callers hold the lock.
        /// </summary>
        private string? Review(long now)
        {
            if (!_checking || now < _checkAt) return null;
            // The answers between the cut and the end of the watch (not the climb after it).
            int since = BucketsSince(now, _checkFrom), after_ = now / _counts.BucketTicks > _checkAt / _counts.BucketTicks ? BucketsSince(now, _checkAt) - 1 : 0;
            int refused = _counts.Sum(now, RefusedNow, since) - (after_ > 0 ? _counts.Sum(now, RefusedNow, after_) : 0);
            int answered = _counts.Sum(now, AnsweredNow, since) - (after_ > 0 ? _counts.Sum(now, AnsweredNow, after_) : 0);
            int n = refused + answered;
            _checking = false;
            double after = n == 0 ? 0 : refused / (double)n;
            if (refused < 2 || !SameShare(after, _shareBefore)) return null; // the cut changed it: it was throttling
            var b = _beforeCut;
            _limited = b.Limited; _rate = b.Rate; _wMax = b.WMax; _k = b.K; _lastCutAt = b.LastCutAt;
            _floor = Math.Min(MaxFloor, Math.Max(_floor, after));
            Interlocked.Increment(ref _generation);
            _generationAt = now;
            double restored = _limited ? Math.Min(RateAt(now), _ceiling) : _ceiling;
            Reschedule(now, restored);
            return string.Format(CultureInfo.InvariantCulture,
                "The share of HTTP 429 answers did not fall when the pace was cut ({0:0.#} % before, {1:0.#} % after): they come whatever the rate, so the pace is restored{2}; such 429s only make their own card wait.",
                _shareBefore * 100, after * 100, double.IsPositiveInfinity(restored) ? string.Empty : string.Format(CultureInfo.InvariantCulture, " to {0:0.#}/s", restored));
        }

        // The window a share of 429s is judged over: at least 2 s, and long enough to hold
        // MinAnswers answers at the current pace (up to the whole span).
        private int WindowBuckets(long now)
        {
            double rate = _limited ? Math.Min(RateAt(now), _ceiling) : _ceiling;
            double seconds = double.IsPositiveInfinity(rate) ? 2 : Math.Max(2, MinAnswers / Math.Max(MinRate, rate));
            return Math.Min(Buckets, (int)Math.Ceiling(seconds * Buckets / 4.0));
        }

        private int BucketsSince(long now, long from) =>
            Math.Max(1, Math.Min(Buckets, (int)(now / _counts.BucketTicks - from / _counts.BucketTicks) + 1));

    }
}
