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
        private readonly SlidingCounter _sends; // requests sent in the last second, ten buckets of 100 ms
        private long _firstSend = -1;

        private bool _limited;            // a 429 has been seen and the limit not lifted since
        private double _rate = double.PositiveInfinity;
        private double _wMax;             // the rate at the last throttle
        private double _k;                // seconds from the last cut back to _wMax
        private long _lastCutAt;          // timestamp of the last cut
        private long _nextSlot;           // timestamp before which the next request may not go
        private double _lastReported;     // the rate last announced as regained (for -Verbose)
        private long _throttled;
        private long _history; // the last 64 answers, newest in bit 0; 1 = 429
        private long _generation; // cuts so far: a request's ticket says under which pace it was scheduled

        public AdaptiveRateLimiter(TimeProvider time, double? ceiling)
        {
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _ceiling = ceiling is double c && c > 0 ? c : double.PositiveInfinity;
            _sends = new SlidingCounter(time, TimeSpan.FromSeconds(1), 10, 1);
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
            _sends.Add(now, 0);
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
        public void OnAnswer() => Push(0);

        /// <summary>As above, for a request whose slot was given under <paramref name="ticket"/>.</summary>
        public void OnAnswer(long ticket) => Push(0);

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

        private long Push(long bit)
        {
            long old, next;
            do
            {
                old = Volatile.Read(ref _history);
                next = (old << 1) | bit;
            }
            while (Interlocked.CompareExchange(ref _history, next, old) != old);
            return next;
        }

        private static int Count(long bits)
        {
            int n = 0;
            for (; bits != 0; bits &= bits - 1) n++;
            return n;
        }

        /// <summary>
        /// A request whose slot was given under <paramref name="ticket"/> (from Reserve) was answered 429. A lone 429 among many
        /// answers (a gateway's hiccup) only makes its own card wait; two among the last eight
        /// answers are throttling, and cut the pace. Cuts once per round: 429s of requests scheduled
        /// under an earlier pace (even if sent after the cut) were caused by that pace. Returns a message for -Verbose when the pace changed, else null.
        /// </summary>
        public string? OnThrottled(long ticket)
        {
            Interlocked.Increment(ref _throttled);
            long history = Push(1);
            if (Count(history & 0xFF) < 2) return null;
            lock (_lock)
            {
                long now = _time.GetTimestamp();
                if (_limited && ticket < Interlocked.Read(ref _generation)) return null;
                double sending = SendingPerSecond(now);
                double before = _limited ? Math.Min(RateAt(now), _ceiling) : Math.Min(_ceiling, sending);
                // The rate that was throttled: what was really sent, when that is below the pace allowed.
                double throttledAt = Math.Max(MinRate, sending > 0 ? Math.Min(before, sending) : before);
                if (double.IsPositiveInfinity(throttledAt)) throttledAt = Math.Max(MinRate, sending);
                _wMax = throttledAt;
                _rate = Math.Max(MinRate, throttledAt * Beta);
                _k = Cbrt(_wMax * (1 - Beta) / ScaleC);
                _lastCutAt = now;
                Interlocked.Increment(ref _generation);
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
        private double SendingPerSecond(long now)
        {
            long first = Interlocked.Read(ref _firstSend);
            if (first < 0) return 0;
            double span = Math.Min(1.0, Math.Max(0.1, Seconds(now - first)));
            return _sends.Sum(now, 0) / span;
        }

    }
}
