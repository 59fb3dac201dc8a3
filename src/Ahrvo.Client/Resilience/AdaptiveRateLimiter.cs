using System;
using System.Globalization;
using System.Threading;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Paces every request of one connection at a rate learned from what the server accepts.
    /// Unlimited until the server throttles in a way that depends on the rate; then the pace is cut
    /// to the rate the server accepted over the last window (its goodput, which under a token
    /// bucket is the account's limit), and climbs back slowly past it along a cubic curve scaled to
    /// that rate, so that the next overshoot is small and rare. An explicit ceiling
    /// (-MaxRequestsPerSecond) always applies. Sends are spaced one interval apart (each caller
    /// reserves its own slot), so workers never resume in step after a pause.
    /// </summary>
    /// <remarks>
    /// Why not a fraction of the rate sent (AWS's adaptive mode, CUBIC's β): that rate counts the
    /// throttled requests and the retries, so at low limits the pace settles above the limit; and a
    /// gateway that throttles a fixed share of requests at any rate would cut it again and again.
    /// Here a 429 cuts only when the share of 429s over a window stands significantly above a noise
    /// floor learned from 429s that did not depend on the rate; a cut after which that share did not
    /// fall is undone, and the share seen then becomes the floor. Design and figures:
    /// docs/reliability.md ("Adaptive pacing").
    /// </remarks>
    internal sealed class AdaptiveRateLimiter
    {
        internal const double MinRate = 0.2;       // never slower than one request per 5 s
        // The climb past the rate last accepted, W(t) = G·(1 + C·(t/u − K)³), in units u of at least
        // a second and of MinAnswers requests at that rate, so one cycle costs about as many 429s
        // (two or three) at 1 req/s as at 1,000.
        internal const double ScaleC = 0.004;
        internal const int MinAnswers = 25;         // answers a window holds at least before a share of 429s is trusted
        internal const double Margin = 0.02;        // share of 429s above the floor that is never noise
        internal const double Z = 2.5;              // significance of the excess over the floor, in standard deviations
        // A learned limit is dropped once no throttle came for this many climb units and the pace is far above it.
        private const double LiftAfterUnits = 30;
        private static readonly TimeSpan Span = TimeSpan.FromSeconds(40);
        private const int Buckets = 200; // 200 ms each
        // Answered and Refused count every answer (what the server accepted); AnsweredNow and RefusedNow
        // only those to requests sent under the current pace, by which the pace is judged.
        private const int Sent = 0, Answered = 1, Refused = 2, AnsweredNow = 3, RefusedNow = 4;

        private readonly TimeProvider _time;
        private readonly double _ceiling; // +∞ when none
        private readonly object _lock = new object();
        private readonly SlidingCounter _counts;

        private bool _limited;            // a rate-dependent 429 has been seen and the limit not lifted since
        private bool _slowStart;          // the last cut had too few answers to measure the goodput: double per unit until the next
        private double _rate = double.PositiveInfinity; // the pace right after the last cut
        private double _goodput;          // the rate the server accepted at the last cut (the curve's plateau)
        private double _k;                // units from the cut to the plateau's end
        private double _unit = 1;         // seconds per climb unit
        private long _lastCutAt;
        private long _nextSlot;           // timestamp before which the next request may not go
        private double _lastReported;     // the rate last announced as regained (for -Verbose)
        private long _throttled;
        private long _generation;         // cuts so far: a request's ticket says under which pace it was scheduled
        private long _generationAt;       // when it last changed
        private long _firstSendAt = -1;
        private double _floor;            // the share of 429s that does not depend on the rate, as learned so far
        private long _floorAt;            // when the floor was last raised (it decays while unconfirmed)

        // The cut being watched: undone if the share of 429s after it does not fall.
        private bool _checking;
        private long _checkFrom, _checkAt;
        private double _shareBefore;
        private State _beforeCut;

        private struct State
        {
            public bool Limited, SlowStart;
            public double Rate, Goodput, K, Unit;
            public long LastCutAt;
        }

        public AdaptiveRateLimiter(TimeProvider time, double? ceiling)
        {
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _ceiling = ceiling is double c && c > 0 ? c : double.PositiveInfinity;
            _counts = new SlidingCounter(time, Span, Buckets, 5);
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

        /// <summary>The learned rate (without the ceiling); null while the server has not throttled by rate.</summary>
        public double? LearnedRate
        {
            get { lock (_lock) return _limited ? RateAt(_time.GetTimestamp()) : (double?)null; }
        }

        /// <summary>The share of 429s learned to come whatever the rate (0 to 1).</summary>
        public double NoiseFloor { get { lock (_lock) return _floor; } }

        public long Throttled => Interlocked.Read(ref _throttled);

        /// <summary>The pace's generation: it changes with every cut (or undone cut).</summary>
        public long Generation => Interlocked.Read(ref _generation);

        /// <summary>
        /// Reserves the next send slot and says how long to wait for it. <paramref name="message"/>
        /// tells when the pace has grown back or was lifted (for -Verbose), else null.
        /// </summary>
        public TimeSpan Reserve(out string? message) => Reserve(out message, out _);

        /// <summary>
        /// As above; <paramref name="ticket"/> names the pace the slot was given under: a caller that
        /// waited for its slot sends only while <see cref="Generation"/> still equals it, and reserves
        /// again otherwise (a cut while it waited moves every later slot).
        /// </summary>
        public TimeSpan Reserve(out string? message, out long ticket)
        {
            message = null;
            long now = _time.GetTimestamp();
            if (Interlocked.Read(ref _firstSendAt) < 0) Interlocked.CompareExchange(ref _firstSendAt, now, -1);
            ticket = Interlocked.Read(ref _generation);
            if (!Volatile.Read(ref _limited) && double.IsPositiveInfinity(_ceiling) && !Volatile.Read(ref _checking))
            {
                _counts.Add(now, Sent); // the usual case: no lock
                return TimeSpan.Zero;
            }
            lock (_lock)
            {
                message = Review(now);
                ticket = _generation;
                double rate = _ceiling;
                if (_limited)
                {
                    double learned = RateAt(now);
                    double units = (now - _lastCutAt) / (double)_time.TimestampFrequency / _unit;
                    if (!_slowStart && units - _k > LiftAfterUnits && learned > 4 * _goodput)
                    {
                        _limited = false;
                        message = string.Format(CultureInfo.InvariantCulture,
                            "No throttling for {0:0} s: requests of this connection are no longer paced{1}.", units * _unit,
                            double.IsPositiveInfinity(_ceiling) ? string.Empty : string.Format(CultureInfo.InvariantCulture, " beyond the ceiling of {0:0.##} requests/s (MaxRequestsPerSecond)", _ceiling));
                    }
                    else
                    {
                        if (!_slowStart && learned >= _goodput * 1.1 && _lastReported < _goodput * 1.1)
                        {
                            _lastReported = learned;
                            message = string.Format(CultureInfo.InvariantCulture,
                                "No throttling for {0:0.#} s: pace up to {1:0.#} requests/s, trying a little above the rate last accepted ({2:0.#}/s).", units * _unit, learned, _goodput);
                        }
                        rate = Math.Min(rate, learned);
                    }
                }
                _counts.Add(now, Sent);
                if (double.IsPositiveInfinity(rate)) return TimeSpan.Zero;
                long interval = (long)(_time.TimestampFrequency / rate);
                long slot = Math.Max(now, _nextSlot);
                _nextSlot = slot + interval;
                return slot <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, slot);
            }
        }

        /// <summary>An answer other than 429 came (to a request sent under the current pace).</summary>
        public void OnAnswer() => OnAnswer(Interlocked.Read(ref _generation));

        /// <summary>An answer other than 429 came to a request whose slot was given under <paramref name="ticket"/>.</summary>
        public void OnAnswer(long ticket)
        {
            long now = _time.GetTimestamp();
            _counts.Add(now, Answered);
            if (ticket == Interlocked.Read(ref _generation)) _counts.Add(now, AnsweredNow);
            if (Volatile.Read(ref _checking) && now >= Volatile.Read(ref _checkAt))
                lock (_lock) Review(now);
        }

        /// <summary>
        /// A request whose slot was given under <paramref name="ticket"/> (from Reserve) was answered
        /// 429. It cuts the pace only when the share of 429s over the last window stands
        /// significantly above the noise floor (a gateway's random 429s only make their own card
        /// wait), and once per round: 429s of requests scheduled under an earlier pace were caused
        /// by that pace. Returns a message for -Verbose when the pace changed, else null.
        /// </summary>
        public string? OnThrottled(long ticket)
        {
            Interlocked.Increment(ref _throttled);
            long now = _time.GetTimestamp();
            _counts.Add(now, Refused);
            lock (_lock)
            {
                string? reviewed = Review(now);
                if (ticket != _generation) return reviewed;
                _counts.Add(now, RefusedNow);
                // Judged on the answers to requests sent under this pace only: 429s caused by an
                // earlier, faster pace say nothing about this one.
                int window = Math.Min(WindowBuckets(now), BucketsSince(now, _generationAt));
                int throttled = _counts.Sum(now, RefusedNow, window), answered = _counts.Sum(now, AnsweredNow, window);
                if (!Significant(throttled, answered, _floor)) return reviewed;
                double share = throttled / (double)(throttled + answered);
                if (_checking && !_slowStart)
                {
                    // A cut is being watched: cut again only if the 429s since then are far worse than before it.
                    int since = BucketsSince(now, _checkFrom);
                    int t2 = _counts.Sum(now, RefusedNow, since), a2 = _counts.Sum(now, AnsweredNow, since);
                    if (t2 + a2 < 4 || t2 / (double)(t2 + a2) < Math.Max(0.25, 2 * _shareBefore)) return reviewed;
                }
                int all = WindowBuckets(now);
                return Cut(now, all, share, _counts.Sum(now, Answered, all));
            }
        }

        /// <summary>Is a share of <paramref name="throttled"/> 429s among these answers more than a floor of <paramref name="floor"/> explains?</summary>
        internal static bool Significant(int throttled, int answered, double floor)
        {
            int n = throttled + answered;
            if (throttled < 2 || n == 0) return false;
            double p = Math.Max(floor, 0.01);
            double share = throttled / (double)n;
            return share > floor + Margin + Z * Math.Sqrt(p * (1 - p) / n);
        }

        private string Cut(long now, int window, double share, int answered)
        {
            double seconds = Math.Max(0.2, Math.Min(window * Seconds(_counts.BucketTicks), Seconds(now - Math.Max(0, Interlocked.Read(ref _firstSendAt)))));
            double goodput = answered / seconds;
            double before = _limited ? Math.Min(RateAt(now), _ceiling) : Math.Min(_ceiling, _counts.Sum(now, Sent, WindowBuckets(now)) / seconds);
            if (!_checking)
            {
                _beforeCut = new State { Limited = _limited, SlowStart = _slowStart, Rate = _rate, Goodput = _goodput, K = _k, Unit = _unit, LastCutAt = _lastCutAt };
                _shareBefore = share;
            }
            _checking = true;
            _checkFrom = now;
            bool wasLimited = _limited;
            _limited = true;
            _lastCutAt = now;
            if (answered < 8)
            {
                // Too few answers to measure what the server accepts (a burst into an empty bucket):
                // start low and double each unit until the next throttle, as TCP's slow start.
                _slowStart = true;
                _rate = Math.Max(MinRate, Math.Min(goodput, before / 2));
                _goodput = _rate;
                _unit = 1;
                _k = 0;
            }
            else
            {
                _slowStart = false;
                // The plateau is the accepted rate; the pace starts a little below it (what was
                // sent above it in the last round is being retried now) and climbs back to it.
                _goodput = Math.Max(MinRate, Math.Min(goodput, before));
                _rate = Math.Max(MinRate, _goodput * 0.95);
                _unit = Math.Max(1, MinAnswers / _goodput);
                _k = Math.Pow((1 - _rate / _goodput) / ScaleC, 1.0 / 3.0);
            }
            _checkAt = now + Math.Max(_counts.BucketTicks * 2, (long)(Math.Max(2.0, 2 * MinAnswers / _rate) * _time.TimestampFrequency));
            _nextSlot = now; // slots handed out under the old pace are void: their holders reserve again
            _generation++;
            _generationAt = now;
            _lastReported = _rate;
            return string.Format(CultureInfo.InvariantCulture,
                "The API throttled this connection (HTTP 429, {0:0.#} % of recent answers): requests are now paced at {1:0.#}/s, the rate it accepted ({2}), then sped up again while none is throttled.",
                share * 100, _rate, wasLimited ? string.Format(CultureInfo.InvariantCulture, "the pace was {0:0.#}/s", before) : string.Format(CultureInfo.InvariantCulture, "{0:0.#}/s were being sent", before));
        }

        /// <summary>
        /// Once a cut has been watched long enough: undone when the share of 429s did not fall (they
        /// do not depend on the rate; that share is the noise floor), kept otherwise. Callers hold the lock.
        /// </summary>
        private string? Review(long now)
        {
            if (!_checking || now < _checkAt) return null;
            int since = BucketsSince(now, _checkFrom);
            int throttled = _counts.Sum(now, RefusedNow, since), answered = _counts.Sum(now, AnsweredNow, since);
            int n = throttled + answered;
            if (n < MinAnswers / 2 && Seconds(now - _checkFrom) < Seconds(_counts.SpanTicks) / 2) return null; // too few answers yet
            _checking = false;
            double after = n == 0 ? 0 : throttled / (double)n;
            if (n > 0 && throttled >= 2 && after >= 0.6 * _shareBefore && !_beforeCut.SlowStart)
            {
                // The cut did not lower the share of 429s: they came whatever the rate.
                var s = _beforeCut;
                _limited = s.Limited; _slowStart = s.SlowStart; _rate = s.Rate; _goodput = s.Goodput; _k = s.K; _unit = s.Unit; _lastCutAt = s.LastCutAt;
                _floor = Math.Min(0.5, Math.Max(_floor, after));
                _floorAt = now;
                _generation++;
                _generationAt = now;
                return string.Format(CultureInfo.InvariantCulture,
                    "The share of HTTP 429 answers did not fall when the pace was cut ({0:0.#} % before, {1:0.#} % after): they come whatever the rate, so the pace is restored{2}; such 429s only make their own card wait.",
                    _shareBefore * 100, after * 100, _limited ? string.Format(CultureInfo.InvariantCulture, " to {0:0.#}/s", RateAt(now)) : string.Empty);
            }
            // The cut helped: 429s depend on the rate. The floor, unconfirmed, decays.
            if (_floor > 0 && Seconds(now - _floorAt) > 60) { _floor /= 2; _floorAt = now; }
            return null;
        }

        // The window a share of 429s is judged over: at least 2 s, and long enough to hold
        // MinAnswers answers at the current pace (up to the whole span).
        private int WindowBuckets(long now)
        {
            double rate = _limited ? Math.Min(RateAt(now), _ceiling) : _ceiling;
            double seconds = double.IsPositiveInfinity(rate) ? 2 : Math.Max(2, MinAnswers / Math.Max(MinRate, rate));
            return Math.Min(Buckets, Math.Max(1, (int)Math.Ceiling(seconds / Seconds(_counts.BucketTicks))));
        }

        private int BucketsSince(long now, long from) =>
            Math.Min(Buckets, (int)(now / _counts.BucketTicks - from / _counts.BucketTicks) + 1);

        // Slow start doubles each unit; otherwise W(t) = G·(1 + C·(t − K)³): from just below the
        // goodput G back to it, flat near it, then probing above it ever faster. Callers hold the lock.
        private double RateAt(long now)
        {
            double t = Seconds(now - _lastCutAt) / _unit;
            if (_slowStart) return Math.Max(MinRate, _rate * Math.Pow(2, Math.Min(t, 30)));
            double d = t - _k;
            double w = _goodput * (1 + ScaleC * d * d * d);
            return Math.Max(MinRate, Math.Max(w, _rate));
        }

        private double Seconds(long ticks) => (double)ticks / _time.TimestampFrequency;
    }
}
