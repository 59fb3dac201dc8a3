using System;
using System.Globalization;
using System.Threading;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Paces every request of one connection at the rate the server accepts, learned from its
    /// 429s. Three phases:
    /// <list type="bullet">
    /// <item><b>Open</b>: not paced. At a connection's start a send window applies as TCP's slow
    /// start does (4 requests, then two more for every answer, none more after a 429 until the
    /// bucket answers again), so a burst into an unknown limit costs a handful of 429s, not one
    /// per worker.</item>
    /// <item><b>Search</b>: after the first throttling, the pace doubles each time a few answers in
    /// a row to requests sent at it came back without a 429 (clocked by answers, so by the round
    /// trip). A throttled step narrows it down: the next steps rise from the last clean pace by the
    /// square root of the last factor (×2, ×1.41, ×1.19, ×1.09, ×1.04), so the search ends within
    /// 5 % of the limit, having sent little above it.</item>
    /// <item><b>Steady</b>: the pace is anchored on the rate the server accepted (the search's last
    /// clean pace, or later the goodput while throttled, never a share of the rate sent), set just
    /// below it (β = 0.95), levelling at 0.98 of it for a while (about 300 requests, 2 to 10 s, so
    /// that a probe costs a small share of the cards), then probing above it ever faster (a cubic
    /// curve, as CUBIC's), which finds a limit that rose or a neighbour that left. Once cuts
    /// said another client of the account takes the room, a probe that runs clean searches up
    /// again (see Regrow).</item>
    /// </list>
    /// 429s cut the pace only when their share stands significantly above a noise floor learned
    /// from cuts that did not lower it (a gateway's random 429s then only make their own card
    /// wait). After a pause of up to a minute (between two runs on one connection) the pace goes on
    /// at what it learned, first sending at once what the bucket saved meanwhile; nothing measured
    /// reaches back over the pause. An explicit ceiling (-MaxRequestsPerSecond) always applies.
    /// Sends are spaced one interval apart (each caller reserves its own slot), so workers never
    /// resume in step.
    /// </summary>
    /// <remarks>Design and figures: docs/reliability.md ("Adaptive pacing").</remarks>
    internal sealed class AdaptiveRateLimiter
    {
        internal const double Beta = 0.95;         // share of the accepted rate the pace is set to after a cut
        internal const double Plateau = 0.98;      // share of it the pace levels off at, below the rate throttled
        internal const double MinRate = 0.5;       // never slower than one request per 2 s
        // The flat part after a cut lasts about this many requests (at least KMin, at most KMax
        // seconds): a probe above the limit costs a few 429s, which must stay a small share. At most
        // 10 s: a client cut low while another shared the account must find the room it leaves (at
        // 20 s, two clients sharing 10 to 200/s kept 0.85x of the limit busy together over 24 seeds
        // each; at 10 s, 0.88x).
        internal const double KRequests = 600;
        internal const double KMin = 2, KMax = 10;
        internal const double Rise = 1;            // seconds from β to the plateau after a cut
        internal const double Probe = 0.002;       // the probe's growth: +5 % of the anchor 3 s past the plateau, twice it after 8 s
        internal const double Cap = 1.05;          // the steady pace's ceiling over the goodput of the last four seconds, while 429s came in them
        internal const double Yield = 0.995;       // the anchor kept on a 429 too lone to cut for
        internal const double RefineUntil = 1.05; // a search ends once its steps are this small
        internal const double StartRate = 8;      // where a search starts at least (a step above the limit falls back to what it accepted)
        // Slow start: requests allowed before the first answer, and more per answer without 429.
        internal const int InitialWindow = 4;
        internal const int WindowGrowth = 2;
        internal const int OpenAfter = 64;         // answers without a 429 after which the start window is gone
        // A caller held by the start window waits at most this long for an answer (then sends).
        private static readonly TimeSpan WindowWait = TimeSpan.FromSeconds(2);
        // A learned limit is dropped once the probe is this far past the plateau and twice the anchor:
        // the server no longer throttles at anything this client sends.
        private static readonly TimeSpan LiftAfterPlateau = TimeSpan.FromSeconds(10);

        private enum Phase { Open, Search, Steady }

        private readonly TimeProvider _time;
        private readonly double _ceiling; // +∞ when none
        private readonly object _lock = new object();
        // Requests sent and answers (all, and those to requests sent under the current pace) over the
        // last four seconds, in buckets of 100 ms.
        private readonly SlidingCounter _counts;
        private const int Sent = 0, Answered = 1, Refused = 2, AnsweredNow = 3, RefusedNow = 4;
        private const int Buckets = 40;
        private long _firstSend = -1;
        private long _lastReserve;        // when a slot was last asked for
        internal const int ResumeWithin = 60; // seconds of pause after which the pace does not go on where it was
        private long _activeSince = -1;   // when slots began to be asked for again after a second without
        private int _firstBurst;          // answers other than 429 before the connection's first 429 (the bucket's burst and what it refilled meanwhile)
        private double _firstBurstSpan;   // seconds from the first request to the first 429
        private double _credit;           // sends allowed at once after a pause (what the bucket saved meanwhile, see Resume)
        private long _generationAt;       // when the pace last changed (cut or undone)

        // Telling throttling from a gateway's random 429s (see OnThrottled).
        internal const int MinAnswers = 20;        // answers a judgement needs, when the rate allows
        internal const double Margin = 0.02;       // share of 429s above the floor that is never noise
        internal const double Z = 2.5;             // significance of the excess over the floor, in standard deviations
        private double _floor;                     // share of 429s learned to come whatever the rate
        private bool _checking;                    // a cut is watched: undone if the share of 429s does not fall
        private long _checkFrom, _checkAt;
        private double _shareBefore;
        private (Phase Phase, double Rate, double Anchor, double K, long CutAt) _beforeCut;

        private volatile Phase _phase = Phase.Open;
        private double _rate = double.PositiveInfinity; // Search: the pace; Steady: the pace right after the cut
        private double _anchor;           // Steady: the rate the server accepted at the last cut
        private double _k;                // Steady: seconds from the cut back to the anchor
        private long _cutAt;              // timestamp of the last cut
        private long _nextSlot;           // timestamp before which the next request may not go
        private double _lastReported;     // the rate last announced as regained (for -Verbose)
        private long _throttled;
        // Tickets: the pace's generation (it changes with every cut) in the high bits, the search
        // step in the low ones. An answer says under which pace its request was scheduled.
        private const int StepBits = 20;
        private long _generation;
        private long _step;
        private int _stepAnswered, _stepOk, _stepRefused; // in a row without 429; all of the step's
        private long _stepAt;             // when the step began
        private double _clean;            // Search: the last step's pace that passed without throttling (0: none yet)
        private double _factor = 2;       // Search: how much each step raises the pace (halved in log on each throttled step)
        private int _genOk, _genRefused;  // answers to requests sent under the current generation (exact)
        private long _genThrottledAt;     // when the first of them was a 429 (0: none yet)
        private long _genAnsweredAt;      // when the first answer other than 429 to them came (0: none yet; -1: an undone cut's pace, answered all along)
        // The start window.
        private bool _opened;             // the start window is gone (enough answers, or a throttle)
        private long _granted, _okAnswers;
        private bool _windowWaiters;
        // A 429 in the start window says the bucket is empty now: no more cards are let in until an
        // answer to a request sent since its request came back without one (see FreezeWindow).
        private long _frozenAfter = -1;   // the send time of the latest such 429's request (-1: not frozen)
        private long _frozenWindow;       // cards let in while frozen
        private long _frozenSince;        // when it froze
        private long _admitted;           // cards let in by the window so far (by their place in the input, or counted)
        private long _startAnswers;       // answers (429s too) while the start window applies
        private int _refusedInARow;       // 429s since the last other answer
        // What the server accepted between two 429s: a 429 says the bucket is empty, so the answers
        // between two of them are about what it refilled (never more than one over, fewer when it was
        // full a while). A search's clean steps may pass on what the bucket saved while slower steps ran.
        private int _okSinceRefusal;
        private long _refusedAt = -1;      // the last 429
        private double _gapRate;          // answers other than 429 per second between the last two 429s 0.3 s apart or more (five answers at least)
        private long _gapAt;              // when that was measured (0: never)
        private bool _burstSeen;          // the first 429 came after a start window's worth of other answers: the bucket holds a burst
        // What the server accepted before the first 429 of this period of activity (see RecentlyAccepted).
        private long _okTotal;            // answers other than 429, ever
        private int _periodOk;            // of them, before the period's first 429
        private double _periodSpan;       // seconds from the period's start to that 429
        private long _periodFirst429At = -1, _okAtFirst429;
        private double _gapSpan;          // seconds between the two 429s _gapRate was measured over
        // What the server accepted since this bout of throttling began, counted by when requests were
        // sent (see EpisodeRate): a 429 says the bucket is empty, so every request sent after it and
        // answered without one took a token the bucket refilled meanwhile.
        private long _episodeSent = -1;   // when the request of the bout's first 429 was sent (-1: none yet)
        private long _boutAt;             // when the bout's first 429 came
        private long _holdUntil;          // a spent window is waited for at HoldRate until then, or until an answer other than 429 (see SpentWindow)
        private double _holdRecent;       // what the server accepted over the second before (the window's count)
        private long _episodeLast = -1;   // the latest send answered since without a 429
        private int _episodeOk;           // answers other than 429 to requests sent after the first
        private long _episodeMinRtt = long.MaxValue, _episodeMaxRtt; // the shortest and longest of their round trips
        internal const int StartStreak = 3;  // 429s in a row that end the start window

        /// <param name="slowStart">
        /// Whether the start window applies (the client's pace has it; off by default so that a test
        /// of another part of the pace starts unpaced). Bulk runs' cards are admitted to it by their
        /// place in the input (see <see cref="Reserve(out string?, out long, out long, out System.Threading.Tasks.Task, long)"/>).
        /// </param>
        public AdaptiveRateLimiter(TimeProvider time, double? ceiling, bool slowStart = false, WorkScheduler? scheduler = null)
        {
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _scheduler = scheduler ?? WorkScheduler.ThreadPool;
            _rescheduled = _scheduler.NewSignal();
            _ceiling = ceiling is double c && c > 0 ? c : double.PositiveInfinity;
            // With a ceiling the user said what the account allows: sends are spaced from the start.
            _opened = !slowStart || !double.IsPositiveInfinity(_ceiling);
            _counts = new SlidingCounter(time, TimeSpan.FromSeconds(4), Buckets, 5);
        }

        private readonly System.Collections.Generic.List<IBacklog> _backlogs = new System.Collections.Generic.List<IBacklog>();

        /// <summary>
        /// A bulk run's backlog, while it runs (dispose the result when it ends): the probe above the
        /// learned limit stops once every run's input is complete and what is left would take less
        /// than <see cref="EndHorizon"/> at the learned rate.
        /// </summary>
        internal System.IDisposable Track(IBacklog backlog)
        {
            lock (_backlogs) _backlogs.Add(backlog);
            return new Untrack(this, backlog);
        }

        private sealed class Untrack : System.IDisposable
        {
            private AdaptiveRateLimiter? _pacer;
            private readonly IBacklog _backlog;
            public Untrack(AdaptiveRateLimiter pacer, IBacklog backlog) { _pacer = pacer; _backlog = backlog; }
            public void Dispose()
            {
                var pacer = Interlocked.Exchange(ref _pacer, null);
                if (pacer != null) lock (pacer._backlogs) pacer._backlogs.Remove(_backlog);
            }
        }

        /// <summary>Seconds of work left within which a run's end is near (see <see cref="Track"/>).</summary>
        internal const double EndHorizon = 2;

        /// <summary>Every tracked run's input is complete and what is left takes under <see cref="EndHorizon"/> at <paramref name="rate"/>.</summary>
        private bool NearTheEnd(double rate)
        {
            lock (_backlogs)
            {
                if (_backlogs.Count == 0) return false;
                long left = 0;
                foreach (var b in _backlogs)
                {
                    if (!b.InputComplete) return false;
                    left += b.Unsettled;
                }
                return left < rate * EndHorizon;
            }
        }

        /// <summary>The rate requests are paced at now (learned or the ceiling); null when not paced.</summary>
        public double? CurrentRate
        {
            get
            {
                lock (_lock)
                {
                    double r = Math.Min(RateAt(_time.GetTimestamp()), _ceiling);
                    return double.IsPositiveInfinity(r) ? (double?)null : r;
                }
            }
        }

        /// <summary>The learned rate (without the ceiling); null until the server throttles.</summary>
        public double? LearnedRate
        {
            get { lock (_lock) return _phase == Phase.Open ? (double?)null : RateAt(_time.GetTimestamp()); }
        }

        /// <summary>The rate the server accepted at the last cut; null when not paced.</summary>
        public double? AcceptedRate
        {
            get { lock (_lock) return _phase == Phase.Steady ? _anchor : (double?)null; }
        }

        public long Throttled => Interlocked.Read(ref _throttled);

        /// <summary>The share of 429s learned to come whatever the rate (0 to 0.25).</summary>
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
        /// Reserves the next send slot and says how long to wait for it. <paramref name="message"/>
        /// tells when the pace has grown back or was lifted (for -Verbose), else null.
        /// </summary>
        public TimeSpan Reserve(out string? message) => Reserve(out message, out _);

        /// <summary>As above; <paramref name="ticket"/> names the pace the slot was given under, for <see cref="OnThrottled"/>.</summary>
        public TimeSpan Reserve(out string? message, out long ticket) => Reserve(out message, out ticket, out _, out _);

        /// <summary>
        /// As above; <paramref name="schedule"/> is the slot schedule's version and
        /// <paramref name="rescheduled"/> completes when it changes (a cut voids every slot handed
        /// out, an answer opens the start window): a caller waiting for its slot then reserves again.
        /// </summary>
        public TimeSpan Reserve(out string? message, out long ticket, out long schedule, out System.Threading.Tasks.Task rescheduled) =>
            Reserve(out message, out ticket, out schedule, out rescheduled, -1);

        /// <summary>
        /// As above, for the request of a bulk run's card at position <paramref name="order"/> in
        /// its input (-1: none). The start window admits cards by that position, not by who asks
        /// first: the oldest card, the one the caller waits for, always goes in the first window,
        /// and cards whose requests hang cannot keep it from going.
        /// </summary>
        public TimeSpan Reserve(out string? message, out long ticket, out long schedule, out System.Threading.Tasks.Task rescheduled, long order)
        {
            message = null;
            rescheduled = System.Threading.Tasks.Task.CompletedTask;
            long now = _time.GetTimestamp();
            if (Interlocked.Read(ref _firstSend) < 0) Interlocked.CompareExchange(ref _firstSend, now, -1);
            // Nothing asked for a slot for a while (between two runs on one connection): what is
            // measured from now on must not reach back over the idle time (see ActiveSince).
            // "A while": a second, or three intervals of a slower pace (slots a second apart or more are
            // asked for a second apart or more: each was read as a pause, the probe started over at every
            // request, and a client paced at 0.8/s stayed there for minutes).
            long last = Interlocked.Exchange(ref _lastReserve, now);
            double paced = Volatile.Read(ref _scheduledRate);
            long still = paced > 0 && paced < 3 ? (long)(3 / paced * _time.TimestampFrequency) : _time.TimestampFrequency;
            long idle = last > 0 && now - last > still ? now - last : 0;
            if (idle > 0) Interlocked.Exchange(ref _activeSince, now);
            if (Volatile.Read(ref _opened) && _phase == Phase.Open && double.IsPositiveInfinity(_ceiling))
            {
                // The usual case: not paced, no lock.
                ticket = Interlocked.Read(ref _generation) << StepBits;
                schedule = Interlocked.Read(ref _schedule);
                _counts.Add(now, Sent);
                return TimeSpan.Zero;
            }
            lock (_lock)
            {
                // A pause of a minute or more: the account's limit may have changed meanwhile; the pace
                // lifts or searches anew as it would have (see LiftAfterPlateau).
                if (idle > 0 && idle <= ResumeWithin * _time.TimestampFrequency && Resume(idle) is string resumed) message = resumed;
                ticket = _generation << StepBits | _step;
                schedule = _schedule;
                rescheduled = _rescheduled.Task;
                if (_phase == Phase.Open && !_opened)
                {
                    // The start window: a few requests before the first answers, more as they come.
                    long window = InitialWindow + WindowGrowth * _okAnswers;
                    if (_frozenAfter >= 0)
                    {
                        // Frozen: one card at a time goes when none is on its way (a probe of the bucket).
                        if (_granted <= _startAnswers) _frozenWindow = Math.Max(_frozenWindow, _admitted + 1);
                        window = Math.Min(window, _frozenWindow);
                    }
                    if (order >= 0 ? order >= window : _granted >= window)
                    {
                        _windowWaiters = true;
                        return WindowWait;
                    }
                    _granted++;
                    _admitted = Math.Max(_admitted, order >= 0 ? order + 1 : _granted);
                    _counts.Add(now, Sent);
                    return TimeSpan.Zero;
                }
                if (_phase == Phase.Steady && Regrow(now) is string regrown) message = regrown;
                double rate = _ceiling;
                if (_phase == Phase.Steady)
                {
                    double learned = RateAt(now);
                    double sinceCut = Seconds(now - _cutAt);
                    if (sinceCut - _k > LiftAfterPlateau.TotalSeconds && learned > 2 * _anchor)
                    {
                        _phase = Phase.Open;
                        _peak = 0;
                        _crowded = false;
                        _regrowWait = 4;
                        message = string.Format(CultureInfo.InvariantCulture,
                            "No throttling for {0:0} s: requests of this connection are no longer paced{1}.", sinceCut,
                            double.IsPositiveInfinity(_ceiling) ? string.Empty : string.Format(CultureInfo.InvariantCulture, " beyond the ceiling of {0:0.##} requests/s (MaxRequestsPerSecond)", _ceiling));
                    }
                    else
                    {
                        if (learned >= _anchor && _lastReported < _anchor)
                        {
                            _lastReported = learned;
                            message = string.Format(CultureInfo.InvariantCulture,
                                "No throttling for {0:0.#} s: pace back up to {1:0.#} requests/s, the rate the API last accepted.", sinceCut, learned);
                        }
                        rate = Math.Min(rate, learned);
                    }
                }
                else if (_phase == Phase.Search)
                {
                    double quiet = Seconds(now - Math.Max(_cutAt, _stepAt));
                    if (quiet > LiftAfterPlateau.TotalSeconds)
                    {
                        // Nothing sent or throttled for a long while: whatever limit was searched for is no news.
                        _phase = Phase.Open;
                        _peak = 0;
                        _crowded = false;
                        _regrowWait = 4;
                        message = string.Format(CultureInfo.InvariantCulture,
                            "No throttling for {0:0} s: requests of this connection are no longer paced{1}.", quiet,
                            double.IsPositiveInfinity(_ceiling) ? string.Empty : string.Format(CultureInfo.InvariantCulture, " beyond the ceiling of {0:0.##} requests/s (MaxRequestsPerSecond)", _ceiling));
                    }
                    else rate = Math.Min(rate, _rate);
                }
                if (_holdUntil > now) rate = Math.Min(rate, HoldRate(now));
                _counts.Add(now, Sent);
                if (double.IsPositiveInfinity(rate)) return TimeSpan.Zero;
                if (rate > _scheduledRate * 1.25 || double.IsPositiveInfinity(_scheduledRate))
                {
                    Reschedule(now, rate);
                    schedule = _schedule;
                    rescheduled = _rescheduled.Task;
                }
                if (_credit >= 1 && _nextSlot <= now)
                {
                    // After a pause: the bucket saved what the pace did not send.
                    _credit--;
                    return TimeSpan.Zero;
                }
                long interval = (long)(_time.TimestampFrequency / rate);
                long slot = Math.Max(now, _nextSlot);
                _nextSlot = slot + interval;
                return slot <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, slot);
            }
        }

        /// <summary>An answer other than 429 came (for telling a lone 429 from throttling).</summary>
        public string? OnAnswer() => OnAnswer(Ticket);

        /// <summary>A ticket of the current pace for a request sent without a slot (a probe): it counts for the pace, not for a search step.</summary>
        public long Ticket => Interlocked.Read(ref _generation) << StepBits;

        /// <summary>
        /// As above, for a request whose slot was given under <paramref name="ticket"/>, sent at
        /// timestamp <paramref name="sentAt"/> (-1: unknown). Returns a message for -Verbose when this
        /// answer ended the watch of a cut and the cut was undone (its 429s come whatever the rate), or null.
        /// </summary>
        public string? OnAnswer(long ticket, long sentAt = -1)
        {
            long episode = Interlocked.Read(ref _episodeSent);
            long now = _time.GetTimestamp();
            if (episode >= 0 && sentAt > episode)
            {
                Interlocked.Increment(ref _episodeOk);
                Raise(ref _episodeLast, sentAt);
                Lower(ref _episodeMinRtt, now - sentAt);
                Raise(ref _episodeMaxRtt, now - sentAt);
            }
            _counts.Add(now, Answered);
            Interlocked.Increment(ref _okTotal);
            Interlocked.Increment(ref _okSinceRefusal);
            if (Volatile.Read(ref _refusedInARow) != 0) Volatile.Write(ref _refusedInARow, 0);
            bool current = ticket >> StepBits == Interlocked.Read(ref _generation);
            if (current)
            {
                _counts.Add(now, AnsweredNow);
                if (Interlocked.Increment(ref _genOk) == 1) Interlocked.CompareExchange(ref _genAnsweredAt, now, 0);
            }
            string? reviewed = null;
            if (!Volatile.Read(ref _opened) || _phase == Phase.Search || (Volatile.Read(ref _checking) && now >= Volatile.Read(ref _checkAt)) || Interlocked.Read(ref _holdUntil) != 0)
            {
                lock (_lock)
                {
                    if (_holdUntil != 0)
                    {
                        // Accepted again: the window turned over; on at the pace.
                        _holdUntil = 0;
                        if (_phase == Phase.Steady && _holdRecent > _anchor)
                        {
                            // Cuts read within the spent window read too little: the count it
                            // accepted is the rate (a pace of 151/s after a sliding window of 200/s
                            // was waited out, 0.84x; 0.97x at its count).
                            _anchor = _holdRecent;
                            _cutAt = now;
                            NewGeneration(now);
                        }
                        Reschedule(now, Math.Min(RateAt(now), _ceiling));
                    }
                    // Most watches end on an answer: the undo is told here, or -Verbose showed the cut
                    // and never that the pace went back.
                    reviewed = Review(now);
                    if (!_opened && _phase == Phase.Open)
                    {
                        _startAnswers++;
                        if (_frozenAfter >= 0 && (sentAt < 0 || sentAt >= _frozenAfter)) _frozenAfter = -1;
                        if (++_okAnswers >= OpenAfter) _opened = true;
                        if (_windowWaiters)
                        {
                            _windowWaiters = false;
                            Signal();
                        }
                    }
                    else if (_phase == Phase.Search && current && (ticket & ((1L << StepBits) - 1)) == _step)
                    {
                        // Enough answers in a row to requests sent at this step's pace came back without
                        // 429 (at a slow pace, one after a second): the step passed, the next one raises the pace. Clocked by answers, so a long
                        // round trip slows the search down.
                        _stepOk++;
                        int need = StepAnswers(_rate);
                        bool passed = ++_stepAnswered >= need
                            || (_stepRefused == 0 && Seconds(now - _stepAt) >= 1);
                        if (passed)
                        {
                            _clean = _rate;
                            // A regrowing search's steps grow (1.25, 1.56, then 2): little above a
                            // limit that was near, fast towards room a neighbour left.
                            if (_accelerating) _factor = Math.Min(2, _factor * _factor);
                            _rate = Math.Min(_rate * _factor, 1e6);
                            NextStep(now);
                        }
                    }
                }
            }
            return reviewed;
        }

        /// <summary>A new search step at <see cref="_rate"/>. Callers hold the lock.</summary>
        private void NextStep(long now)
        {
            _step++;
            _stepAnswered = _stepOk = _stepRefused = 0;
            _stepAt = now;
            Reschedule(now, Math.Min(_rate, _ceiling));
        }

        // Answers a search step needs before the pace doubles: a tenth of a second's worth, at least 3
        // (the first of a step often passes on what the bucket saved at the slower pace).
        private static int StepAnswers(double rate) => (int)Math.Max(3, Math.Ceiling(rate * 0.1));

        /// <summary>
        /// Voids the slots handed out once the pace has grown by a quarter since they were spaced (a
        /// caller waiting for a slot calls this now and then): a slot taken at a slow pace must not
        /// keep a worker asleep after the pace has recovered.
        /// </summary>
        public void Refresh()
        {
            if (_phase == Phase.Open && Volatile.Read(ref _opened)) return;
            lock (_lock)
            {
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
            Signal();
        }

        /// <summary>Wakes every caller waiting for a slot: they reserve again. Callers hold the lock.</summary>
        private void Signal()
        {
            Interlocked.Increment(ref _schedule);
            var old = _rescheduled;
            _rescheduled = _scheduler.NewSignal();
            _scheduler.Fire(old);
        }

        private readonly WorkScheduler _scheduler;
        private System.Threading.Tasks.TaskCompletionSource<bool> _rescheduled;

        /// <summary>
        /// A request whose slot was given under <paramref name="ticket"/> (from Reserve) was answered
        /// 429. It cuts the pace only when the share of 429s among the answers to requests sent
        /// under the current pace stands significantly above the noise floor: a gateway's random
        /// 429s only make their own card wait. A cut after which that share did not fall is undone
        /// (see <see cref="Review"/>), and the share then seen becomes the floor. Cuts once per
        /// round: 429s of requests scheduled under an earlier pace were caused by that pace. The cut
        /// goes to β times the rate the server accepted. Returns a message for -Verbose when the
        /// pace changed, else null.
        /// </summary>
        public string? OnThrottled(long ticket) => OnThrottled(ticket, -1);

        /// <summary>As above, for a request sent at timestamp <paramref name="sentAt"/> (-1: unknown).</summary>
        public string? OnThrottled(long ticket, long sentAt)
        {
            Interlocked.Increment(ref _throttled);
            Interlocked.Increment(ref _refusedInARow);
            long now = _time.GetTimestamp();
            _counts.Add(now, Refused);
            long generation = ticket >> StepBits;
            if (generation == Interlocked.Read(ref _generation))
            {
                _counts.Add(now, RefusedNow);
                if (Interlocked.Increment(ref _genRefused) == 1) Interlocked.CompareExchange(ref _genThrottledAt, now, 0);
            }
            lock (_lock)
            {
                int okBetween = Interlocked.Exchange(ref _okSinceRefusal, 0);
                if (_refusedAt < 0 || now - _refusedAt > _time.TimestampFrequency)
                {
                    // A new bout of throttling (none for a second): counted from this request on.
                    _boutAt = now;
                    Interlocked.Exchange(ref _episodeOk, 0);
                    Interlocked.Exchange(ref _episodeMinRtt, long.MaxValue);
                    Interlocked.Exchange(ref _episodeMaxRtt, 0);
                    Interlocked.Exchange(ref _episodeLast, sentAt);
                    Interlocked.Exchange(ref _episodeSent, sentAt);
                }
                if (_refusedAt < 0)
                {
                    // The first 429. A bucket without burst refuses the second of the first requests
                    // (sent together); one with a burst lets the whole first window through.
                    _burstSeen = okBetween >= InitialWindow;
                    _firstBurst = okBetween;
                    _firstBurstSpan = Seconds(now - Interlocked.Read(ref _firstSend));
                }
                if (_refusedAt >= 0 && _refusedAt >= ActiveSince())
                {
                    double gap = Seconds(now - _refusedAt);
                    if (gap >= 0.3 && okBetween >= 5)
                    {
                        _gapRate = okBetween / gap;
                        _gapAt = now;
                        _gapSpan = gap;
                    }
                }
                if (_refusedAt < ActiveSince())
                {
                    // The period's first 429: what was accepted before it (see RecentlyAccepted).
                    _periodOk = _counts.Sum(now, Answered, BucketsSince(now, ActiveSince()));
                    _periodSpan = Seconds(now - ActiveSince());
                    _periodFirst429At = now;
                    _okAtFirst429 = Interlocked.Read(ref _okTotal);
                }
                _refusedAt = now;
                _peak = Math.Max(_peak, AcceptedLately(now));
                string? reviewed = Review(now);
                if (generation < _generation) return reviewed;
                if (_phase == Phase.Search && (ticket & ((1L << StepBits) - 1)) == _step)
                {
                    _accelerating = false;
                    _stepRefused++;
                    _stepAnswered = 0; // the answers that pass a step come in a row
                }
                bool starting = _phase == Phase.Open && !_opened;
                // A request sent while the window was frozen, refused too: the bucket stayed empty.
                bool probeRefused = starting && _frozenAfter >= 0 && sentAt >= _frozenSince;
                if (starting) FreezeWindow(sentAt, now);
                bool gapCut = false;
                if (_windowWaiters)
                {
                    _windowWaiters = false;
                    Signal();
                }
                if (!starting && (_phase == Phase.Search || _phase == Phase.Steady))
                {
                    if (Interlocked.Read(ref _holdUntil) > now) return reviewed; // waiting for the window: its 429s say nothing new
                    if (SpentWindow(now) is string held) return held;
                }
                if (starting)
                {
                    // In the start window: throttling when at least two and half the answers so far are
                    // 429s, or three in a row came (a bucket's burst, spent: every answer since is a 429;
                    // waiting for half waited for as many 429s as the burst had tokens, 58 at 50/s); a
                    // gateway's random 429 only makes its own card wait.
                    int refused = _counts.Sum(now, Refused), answered = _counts.Sum(now, Answered);
                    if ((refused < 2 || refused < answered) && Volatile.Read(ref _refusedInARow) < StartStreak && !probeRefused) return reviewed;
                }
                else
                {
                    CurrentAnswers(now, out int refused, out int answered);
                    gapCut = _phase == Phase.Steady && SteadyGapBelowPace(now, okBetween);
                    if (!gapCut && !Significant(refused, answered, _floor))
                    {
                        // A few 429s at a steady pace, too few to cut for: each still yields a little
                        // (half a per cent), so that a pace just above the limit falls below it and
                        // leaves room for another client of the account, which would otherwise get
                        // nearly every 429 (a bucket kept empty refuses whoever comes next). Not once
                        // 429s are known to come whatever the rate.
                        if (_phase == Phase.Steady && _floor < 0.005)
                        {
                            _anchor = Math.Max(MinRate, _anchor * Yield);
                            // A probe above the plateau found the limit (its 429s come one at a time,
                            // each too few to cut for): it starts again from the plateau after a short
                            // flat part, as CUBIC's epoch does at a loss. Else a probe capped just above
                            // the goodput kept a pace 5 % over the limit, and 5 % of the cards throttled.
                            // Not the plateau's full length: a client whose neighbour on the account
                            // left must find the room soon.
                            if (Seconds(now - _cutAt) > Math.Max(Rise, _k))
                            {
                                _k = KMin;
                                _cutAt = now - (long)(Rise * _time.TimestampFrequency);
                            }
                        }
                        return reviewed;
                    }
                    double share = refused / (double)Math.Max(1, refused + answered);
                    if (_checking && !gapCut)
                    {
                        // The last cut is still watched. When the share of 429s rose well above (and
                        // beyond chance: right after a cut a few answers decide), the cut was too small:
                        // cut again, still watched against the pace before the first cut, and judged
                        // against this share (the first may have been drawn while a bucket's burst was
                        // being spent: 5 % at 2,000/s into a limit of 200, and the chain of cuts to
                        // 180/s that met 5 % there was undone as noise, to no pace at all). Else the
                        // review decides. A share that merely fell used to cut again: under a
                        // gateway's random 429s the share a cut is decided on is drawn high, so the
                        // true share looked lower after it every time, and cuts chained.
                        if (!Rose(share, _shareBefore) || !(_shareBefore >= MaxFloor || Above(refused, answered, _shareBefore, Alpha, Z90))) return reviewed;
                        _shareBefore = share;
                    }
                    // A search's 429s are the rate's (its last step passed clean): only other cuts are
                    // watched, and undone if they did not lower the share of 429s.
                    if (!_checking && _phase != Phase.Search)
                    {
                        _beforeCut = (_phase, _rate, _anchor, _k, _cutAt);
                        _shareBefore = share;
                        _checking = true;
                    }
                }
                double sending = SendingPerSecond(now);
                double before = Math.Min(RateAt(now), _ceiling);
                // Throttled on the plateau, below the rate the server accepted at the last cut, not
                // probing above it: another client of the account took the room (see Regrow). Only
                // when that rate was a steady cut's (a search's can be a little high, its plateau
                // above the limit) and the plateau ran a second first.
                bool crowded = _phase == Phase.Steady && _anchorFromSteady && Seconds(now - _cutAt) < _k
                    && Seconds(now - _cutAt) >= Rise + CrowdedAfter;
                double goodput = Goodput(now, out bool confident);
                string was = _phase == Phase.Open
                    ? string.Format(CultureInfo.InvariantCulture, "{0:0.#}/s were being sent", sending)
                    : string.Format(CultureInfo.InvariantCulture, "was {0:0.#}/s", before);
                string message;
                if (starting || (_phase == Phase.Open && !confident))
                {
                    // At the start (or with too few answers to measure): search up from what was accepted.
                    _opened = true;
                    _phase = Phase.Search;
                    _accelerating = _regrowing = false;
                    _rate = Math.Max(StartRate, Math.Min(Beta * StartGoodput(now), double.IsPositiveInfinity(_ceiling) ? double.MaxValue : _ceiling));
                    _clean = 0;
                    _factor = 2;
                    _step = 0;
                    _stepAnswered = _stepOk = _stepRefused = 0;
                    _stepAt = now;
                    message = string.Format(CultureInfo.InvariantCulture,
                        "The API throttled this connection (HTTP 429): requests are now paced at {0:0.#}/s ({1}), raised while none is throttled, to find the account's limit.", _rate, was);
                }
                else if (_phase == Phase.Search && (_clean <= 0 || _factor > RefineUntil) && !FakeClean() && !GapBelowPace(now) && !AcceptedNearClean() && !RegrowMetLimit())
                {
                    // A step was throttled: the limit lies between the last clean pace and this one.
                    // The next steps rise from the clean pace by ever smaller factors, a search that
                    // ends within a few per cent of the limit. Before any clean step, the pace falls
                    // to what this one accepted.
                    if (_clean > 0)
                    {
                        // Never above what this step got accepted (see AcceptedNearClean).
                        double got = StepShareReadsLimit() ? StepShare() * _rate : double.MaxValue;
                        _factor = Math.Sqrt(_factor);
                        _rate = _clean * _factor;
                        if (got < _rate)
                        {
                            _rate = got;
                            _factor = Math.Max(RefineUntil * 1.01, _rate / _clean);
                        }
                    }
                    else
                    {
                        // The limit lies below this step: the next steps rise towards it by square
                        // roots, never straight back (a doubling from half of it met it again).
                        double throttledAt = _rate;
                        _rate = Math.Max(MinRate, _rate * Math.Max(0.5, StepShare()));
                        // Not far below what the server accepted over the last second (see RecentlyAccepted).
                        double recent = RecentlyAccepted(now);
                        if (_rate < Collapse * Beta * recent) _rate = Beta * Math.Min(recent, throttledAt);
                        _factor = Math.Max(RefineUntil * 1.01, Math.Sqrt(throttledAt / _rate));
                    }
                    _step = 0;
                    _stepAnswered = _stepOk = _stepRefused = 0;
                    _stepAt = now;
                    message = string.Format(CultureInfo.InvariantCulture,
                        "The API throttled this connection (HTTP 429) at {0:0.#} requests/s: now paced at {1:0.#}/s while searching for the account's limit.", before, _rate);
                }
                else
                {
                    // The rate the server accepted: its goodput, within what the pace allowed. In a
                    // search the limit lies between this step's pace and the last one's; in the
                    // steady phase, just below the pace that began to be throttled.
                    // Requests go out evenly spaced, so the rate they went out at times the share
                    // the server accepted is the rate it accepts (a goodput without the lag of a window).
                    double accepted;
                    bool regain = false;
                    if (_phase == Phase.Search && GapBelowPace(now))
                    {
                        // Between this 429 and the last, 0.3 s apart or more, the server
                        // accepted well below this step's pace: that is the limit, whatever the clean
                        // steps before it passed on. The search ends here instead of narrowing down by
                        // ever smaller throttled steps, each two or three 429s.
                        accepted = _clean > 0 ? Math.Min(_clean, _gapRate) : _gapRate;
                        // Two 429s more than a second apart, many answers between them: against a window
                        // limiter (see RecentlyAccepted) the answers between them are fewer than it allows
                        // when the pace rose through the limit meanwhile (a window does not keep what a
                        // slow second left unused), and the search ended at 0.8x of a sliding window's
                        // limit; what it accepted over the last second is its count. Not over fewer
                        // answers: at 5/s the two 429s of a bucket are always a second or more apart,
                        // and the last second's answers held what it saved (13 to 21 429s a run).
                        if (_gapSpan > 1 && _gapRate * _gapSpan >= MinAnswers) accepted = Math.Max(accepted, Math.Min(RecentlyAccepted(now), _clean > 0 ? _clean : before));
                        confident = true;
                    }
                    else if (_phase == Phase.Search && FakeClean())
                    {
                        // This step got less accepted than the last clean pace: that one passed on a
                        // bucket's saved burst, not on the rate. What this step got is the figure.
                        accepted = StepShare() * _rate;
                        confident = false;
                    }
                    else if (_phase == Phase.Search)
                    {
                        // The search has narrowed the limit down to within a few per cent above the clean pace.
                        accepted = _clean;
                        confident = true;
                    }
                    else if (gapCut)
                    {
                        // What the bucket refilled between this 429 and the last (see SteadyGapBelowPace).
                        accepted = _gapRate;
                        confident = true;
                    }
                    else if (_phase == Phase.Steady)
                    {
                        // The pace moves slowly here: what the server accepted over the last second
                        // (or the answers since the cut) is the rate it allows.
                        double paced = Math.Min(before, sending);
                        // Too few answers for that: the pace less the share throttled, at most halved.
                        // Either way not below the pace of a few answers ago, when that came after
                        // the cut: it was not yet throttled (the pace crosses the limit slowly here).
                        CurrentAnswers(now, out int refusedNow, out int answeredNow);
                        long lag = (long)(Math.Max(0.2, 5 / Math.Max(before, MinRate)) * _time.TimestampFrequency);
                        long then = _genThrottledAt - lag;
                        // Only when this pace was answered clean for a while first, counted from its
                        // first answer, not from the cut: with long answers the first 429 still came
                        // well after a cut that left the pace above the limit (at 20/s, 500 ms
                        // answers: a cut to 24.9/s kept 24.9 as that floor, and the 429s went on).
                        long answeredAt = Interlocked.Read(ref _genAnsweredAt);
                        bool ranClean = !_burstSeen || answeredAt < 0 || (answeredAt != 0 && then > answeredAt + lag);
                        double low = _genThrottledAt != 0 && then > _cutAt + lag && ranClean ? Math.Min(RateAt(then), paced) : 0.5 * paced;
                        accepted = confident ? Clamp(goodput, low, paced)
                            : Clamp(paced * answeredNow / Math.Max(1, answeredNow + refusedNow), low, Math.Max(low, 0.95 * paced));
                        // The workers, not the pace, held the rate (few workers, long answers): the
                        // requests went out unevenly and met a bucket without burst. A pace just below
                        // what was sent spaces them; a goodput cut here left 4/s at a limit of 10.
                        if (sending < 0.8 * before) accepted = Math.Max(accepted, 0.9 * sending);
                        // Too few answers since the last change of pace, but enough since the bout of
                        // throttling began: what the bucket refilled over it is the figure. The share
                        // of a few answers to the new pace read anywhere from half to twice the limit,
                        // and the start's chain of cuts at 200/s ended at 0.73x of it.
                        double bout = EpisodeRate();
                        if (!confident && bout > 0) accepted = Math.Min(paced, bout);
                    }
                    else accepted = Math.Min(goodput, sending > 0 ? sending : goodput);
                    // Never far below what the server accepted over the last second: a window limiter
                    // refuses everything once its count is spent, whatever the pace (see RecentlyAccepted).
                    double recently = RecentlyAccepted(now);
                    if (accepted < Collapse * recently) accepted = recently;
                    accepted = Math.Max(MinRate, accepted);
                    // Signs that another client of the account takes the room (see Regrow): this cut
                    // goes under half of what the server accepted over four seconds before; or it came
                    // on the plateau; or it is the third in a row, each a second or more after the
                    // last (a single client's chain of cuts comes a round trip apart and ends within a few).
                    if (_phase == Phase.Steady && Seconds(now - _cutAt) >= 1) _slowCuts++;
                    else _slowCuts = 0;
                    if (accepted < Regain * _peak || crowded || _slowCuts >= 3) regain = true;
                    _anchorFromSteady = _phase == Phase.Steady;
                    _phase = Phase.Steady;
                    _regrowing = false;
                    _opened = true;
                    _anchor = accepted;
                    _rate = Math.Max(MinRate, Beta * accepted);
                    // Kept until the pace is lifted: a neighbour that came once may come and go. The
                    // plateau is then short: the room it leaves is found sooner.
                    _crowded |= regain;
                    _k = confident && !_crowded ? Clamp(KRequests / accepted, KMin, KMax) : KMin;
                    message = string.Format(CultureInfo.InvariantCulture,
                        "The API throttled this connection (HTTP 429): it accepted about {0:0.#} requests/s; requests are now paced at {1:0.#}/s ({2}), then sped up again while none is throttled.",
                        accepted, _rate, was);
                }
                // Watched while the pace stays below the rate throttled (see WatchTicks).
                _checkFrom = now;
                _checkAt = now + WatchTicks(_rate);
                _cutAt = now;
                NewGeneration(now);
                // Slots handed out under the old pace are void: their holders reserve again, at the new one.
                Reschedule(now, Math.Min(_rate, _ceiling));
                _lastReported = _rate;
                return message;
            }
        }

        /// <summary>
        /// How long a cut is watched: long enough for a hundred answers at <paramref name="rate"/>, at
        /// least 0.3 s, at most 3.5 s (within the counters' span). A fixed second at least cost a fast
        /// run under a gateway's random 429s a tenth of its pace for a second before the cut was undone.
        /// </summary>
        private long WatchTicks(double rate) => (long)(Math.Min(3.5, Math.Max(0.3, 5 * MinAnswers / Math.Max(rate, MinRate))) * _time.TimestampFrequency);

        /// <summary>Sets <paramref name="location"/> to <paramref name="value"/> if that is larger (lock-free).</summary>
        private static void Raise(ref long location, long value)
        {
            long seen;
            while (value > (seen = Interlocked.Read(ref location)) && Interlocked.CompareExchange(ref location, value, seen) != seen) { }
        }

        /// <summary>Sets <paramref name="location"/> to <paramref name="value"/> if that is smaller (lock-free).</summary>
        private static void Lower(ref long location, long value)
        {
            long seen;
            while (value < (seen = Interlocked.Read(ref location)) && Interlocked.CompareExchange(ref location, value, seen) != seen) { }
        }

        /// <summary>
        /// Answers other than 429 per second to the requests sent since the first 429 of this bout of
        /// throttling, over the time those requests were sent in (from it to the latest one answered
        /// without a 429); 0 until that holds five answers over 30 ms. A 429 says the bucket is
        /// empty: what it accepts after is what it refilled, whatever was sent. Counted by send time,
        /// not answer time: at 64 workers answers of requests the burst let through still came in
        /// after the first 429, and that count read 2.3x the limit. Not up to the latest 429: a 429
        /// comes back sooner than an answer (a gateway's are quick; the emulator's skip its
        /// latency), so answers to what was sent just before it were still on their way, and the
        /// figure read 0.7-0.8x the limit on the emulator.
        /// </summary>
        private double EpisodeRate()
        {
            long first = Interlocked.Read(ref _episodeSent);
            if (first < 0) return 0;
            double span = Seconds(Interlocked.Read(ref _episodeLast) - first);
            int ok = Volatile.Read(ref _episodeOk);
            if (span < 0.03 || ok < 5) return 0;
            // Requests sent shortly before the latest one answered may still be on their way when their
            // round trips vary: the span is shortened by a quarter of the spread of the round trips
            // seen. Uncounted, at 64 workers and 50 ms (25 ms of spread) the figure read 0.82x of the
            // limit; by half, the steady pace sat at the limit and more runs met a 429 in their last
            // second (23 of 225 in the sweep, against 14 at a quarter).
            long min = Interlocked.Read(ref _episodeMinRtt), max = Interlocked.Read(ref _episodeMaxRtt);
            double spread = min <= max ? Seconds(max - min) : 0;
            return ok / Math.Max(span - spread / 4, span / 2);
        }

        /// <summary>
        /// Slots are asked for again after <paramref name="idle"/> ticks without (a pause between two
        /// runs on one connection): the pace goes on at what was learned, as nothing was learned over
        /// the pause, and first spends what the bucket saved meanwhile. It used to grow on through
        /// the pause, past twice the limit after 13 s, and the next run started unpaced into a full
        /// bucket and found the limit anew (40-50 429s at 100/s, and a chain of cuts that could end
        /// below it). A cut being watched is kept. Returns a message for -Verbose, or null.
        /// Callers hold the lock.
        /// </summary>
        private string? Resume(long idle)
        {
            long now = _time.GetTimestamp();
            // Steady: on the plateau, the probe starting over. Near the last run's end the probe was
            // held at the plateau; its curve ran on, and the next run began 1.6x above the limit.
            if (_phase == Phase.Steady) _cutAt = now - (long)(Math.Max(Rise, _k) * _time.TimestampFrequency);
            else if (_phase == Phase.Search) _stepAt += idle;
            // What a bucket refilling at the pace saved over the pause, up to nine tenths of the burst
            // the connection's first 429 ended: the answers before it, less what the bucket refilled
            // at the pace while they came.
            double pace = Math.Min(RateAt(now), _ceiling);
            _credit = _phase != Phase.Open && _burstSeen && !double.IsPositiveInfinity(pace)
                ? Math.Max(0, Math.Min(Seconds(idle) * pace, 0.9 * (_firstBurst - pace * _firstBurstSpan)))
                : 0;
            string? said = _credit >= 1
                ? string.Format(CultureInfo.InvariantCulture, "After {0:0.#} s without requests: {1:0} go at once (what the API's bucket saved meanwhile), then paced at {2:0.#}/s.", Seconds(idle), Math.Floor(_credit), pace)
                : null;
            _checking = false;
            return said;
        }

        /// <summary>
        /// A 429 in the start window (a request sent at <paramref name="sentAt"/>): the bucket is
        /// empty now, so no more cards are let in until an answer to a request sent since then comes
        /// back without a 429, only one at a time when none is on its way. Answers that came before
        /// it had grown the window, and it went on letting cards in: at 10/s, 12 requests went out
        /// after the first two 429s, all refused (16 429s at the start of a run of 150 cards). A
        /// gateway's random 429 costs a round trip at most: requests sent since are on their way.
        /// Callers hold the lock.
        /// </summary>
        private void FreezeWindow(long sentAt, long now)
        {
            _startAnswers++;
            if (sentAt < 0) return;
            if (_frozenAfter < 0)
            {
                _frozenWindow = _admitted;
                _frozenSince = now;
            }
            _frozenAfter = Math.Max(_frozenAfter, sentAt);
        }

        internal const int SpentAfter = 5;           // 429s in a row that, below what was accepted over the last second, say a window is spent

        /// <summary>
        /// Several 429s in a row, with no answer between, at a pace below what the server accepted
        /// over the last second: a limiter that counts requests in windows has spent its count and
        /// refuses everything, whatever the pace, until the window turns over (a token bucket
        /// refills: at such a pace it lets most through; a gateway's random 429s do not come five
        /// in a row). Not a rate: no cut. Requests go at a trickle (a quarter of the pace, at most
        /// 10/s) until one is accepted, at most until a second after this bout's first 429 (a
        /// window of a second has turned over by then), then on at the pace, or at the window's
        /// count when that is more (cuts read inside a spent window read too little). The start's
        /// chain of cuts at a sliding window of 100/s went on sending at 84/s into it for most of a
        /// second, about 80 429s, and the pace stayed at 0.8x of the window. Returns a message for
        /// -Verbose, or null. Callers hold the lock.
        /// </summary>
        private string? SpentWindow(long now)
        {
            if (Volatile.Read(ref _refusedInARow) < SpentAfter) return null;
            double pace = Math.Min(RateAt(now), _ceiling);
            double recent = RecentlyAccepted(now);
            if (!(pace < recent)) return null;
            long until = Math.Max(_boutAt + _time.TimestampFrequency, now + (long)(_time.TimestampFrequency / HoldRate(now)));
            Interlocked.Exchange(ref _holdUntil, until);
            // The window's count: what it accepted over the last second, all before its 429s.
            _holdRecent = Math.Max(recent, _counts.Sum(now, Answered, Buckets / 4));
            Reschedule(now, HoldRate(now));
            return string.Format(CultureInfo.InvariantCulture,
                "The API refused {0} requests in a row at {1:0.#} requests/s although it accepted {2:0.#}/s over the last second: a window's count is spent, not the rate; requests go at {3:0.#}/s until one is accepted (at most {4:0.##} s), then on at the pace.",
                Volatile.Read(ref _refusedInARow), pace, recent, HoldRate(now), Seconds(until - now));
        }

        // The trickle a spent window is waited for at: finds a fixed window's turn within a tenth of a second.
        private double HoldRate(long now) => Math.Max(MinRate, Math.Min(Math.Min(RateAt(now), _ceiling) / 4, 10));

        internal const double Regain = 0.5;          // a cut under this share of _peak says the account is shared
        internal const double Room = 1.1;            // how far above its anchor the probe must go clean before a regrowing search
        internal const double FirstRegrowStep = 1.25; // the regrowing search's first factor (then 1.56, then 2)
        internal const double CrowdedAfter = 1;      // seconds on the plateau (past the rise) before a 429 there says the account is shared
        private int _slowCuts;               // steady cuts in a row, each a second or more after the last
        private bool _anchorFromSteady;      // the anchor was set by a steady cut, not a search's end or the start
        private bool _regrowing;             // the search is a regrowing one (see Regrow)
        private bool _accelerating;          // a regrowing search whose steps have all passed
        private bool _crowded;               // cuts said another client takes the room (until the pace is lifted)
        private double _peak;                // the most the server accepted over four seconds, read at every 429 since the pace was last lifted
        private long _regrowAt;              // no regrowing search before this timestamp
        private double _regrowWait = 4;      // seconds to the next one after this (doubling, at most 16)

        /// <summary>
        /// Another client of the account took the room (cuts said so, see OnThrottled), and this
        /// pace's probe went a tenth above its anchor without a 429 for four seconds while the
        /// workers used it: the neighbour has left or slowed down. A bucket kept empty refuses
        /// whoever comes next, and paced sends of the busier client come first, so the other got
        /// most 429s and was cut to a fraction of its share; then it probed up a cubic curve scaled
        /// to that low anchor after a plateau of up to 10 s. Two clients sharing 10 to 200/s in the
        /// simulation kept 0.90x of the limit together, 0.55x in the worst runs: one cut to 3/s
        /// went on at it 20 s after the other ended. The pace now searches up again by steps
        /// clocked by answers, 1.25x, then 1.56x, then doubling (small first: a limit just above
        /// is met with few 429s). When the first step is throttled the search ends at once at
        /// the clean pace; the next try waits twice as long (4, 8, 16 s). Returns a message for
        /// -Verbose, or null. Callers hold the lock.
        /// </summary>
        private string? Regrow(long now)
        {
            if (!(_crowded || _anchor < Regain * _peak) || now < _regrowAt) return null;
            double learned = RateAt(now);
            if (learned < Room * _anchor || learned >= _ceiling || ThrottledLately(now)) return null;
            if (SendingPerSecond(now) < 0.8 * learned || NearTheEnd(learned)) return null;
            _regrowAt = now + (long)(_regrowWait * _time.TimestampFrequency);
            _regrowWait = Math.Min(16, 2 * _regrowWait);
            _phase = Phase.Search;
            _checking = false;
            _clean = learned;
            _factor = FirstRegrowStep;
            _accelerating = _regrowing = true;
            _rate = Math.Min(_factor * learned, 1e6);
            _cutAt = now;
            NewGeneration(now);
            NextStep(now);
            return string.Format(CultureInfo.InvariantCulture,
                "No throttling for {0:0.#} s at {1:0.#} requests/s, after cuts that said another client of the account took the room: searching for its limit again from {2:0.#}/s.",
                Seconds(now - Math.Max(_refusedAt, ActiveSince())), learned, _rate);
        }

        /// <summary>A regrowing search's first, smallest step was throttled: the limit lies just above the clean pace, which it ends at. Callers hold the lock.</summary>
        private bool RegrowMetLimit() => _regrowing && _factor <= FirstRegrowStep * 1.001;

        /// <summary>A new pace: answers to requests sent from now on are its own. Callers hold the lock.</summary>
        private void NewGeneration(long now)
        {
            _generation++;
            _generationAt = now;
            _genOk = _genRefused = 0;
            _genThrottledAt = 0;
            _genAnsweredAt = 0;
        }

        /// <summary>The share of answers to requests sent under the current pace that were not 429, over the judging window.</summary>
        private double AcceptedShare(long now)
        {
            CurrentAnswers(now, out int refused, out int answered);
            return refused + answered == 0 ? 1 : answered / (double)(refused + answered);
        }

        /// <summary>
        /// 429s and other answers to requests sent under the current pace, over the judging window:
        /// counted exactly while the pace is younger than the window (the window's buckets would also
        /// hold answers of the pace before), from the sliding counts after.
        /// </summary>
        private void CurrentAnswers(long now, out int refused, out int answered)
        {
            if (_phase == Phase.Search)
            {
                // In a search, the answers at this step's pace: earlier steps' would dilute them.
                refused = _stepRefused;
                answered = _stepOk;
                return;
            }
            int window = WindowBuckets(now);
            long since = Math.Max(_generationAt, ActiveSince());
            if (BucketsSince(now, since) <= window)
            {
                refused = Volatile.Read(ref _genRefused);
                answered = Volatile.Read(ref _genOk);
                return;
            }
            refused = _counts.Sum(now, RefusedNow, window);
            answered = _counts.Sum(now, AnsweredNow, window);
        }

        /// <summary>
        /// What the server accepted at the start: the answers other than 429 since the first request,
        /// over at least half a second (a bucket's burst, spent in the first few milliseconds, must not
        /// pass for a rate of thousands a second).
        /// </summary>
        /// <summary>
        /// Since when the connection has been asking for slots without a pause of a second (-1: never
        /// sent): rates are measured over that time at most. A run on a connection that ran another a
        /// few seconds before read the idle time between them as answers that did not come, and the
        /// first 429 of the new run cut the pace to half the limit (at 200/s: 1,000 cards in 7 s, not 4.5).
        /// </summary>
        private long ActiveSince() => Math.Max(Interlocked.Read(ref _firstSend), Interlocked.Read(ref _activeSince));

        private double StartGoodput(long now)
        {
            long first = Interlocked.Read(ref _firstSend);
            return _counts.Sum(now, Answered) / Math.Max(0.5, Seconds(now - first));
        }

        /// <summary>
        /// The search's last clean pace passed on a bucket's saved burst, not on the rate: this step,
        /// above it, had less accepted (over at least ten answers) than that pace. Only for a bucket
        /// seen to hold a burst: one without burst refuses a request that comes early by a
        /// millisecond, as sends do (the clock's waits are whole milliseconds), so at a pace a little
        /// above its limit it refuses every other request, and half that pace was taken for the limit
        /// (the search at 100/s ended at 0.83x of what such a bucket takes clean). Callers hold the lock.
        /// </summary>
        private bool FakeClean() => _burstSeen && _clean > 0 && _stepOk + _stepRefused >= 10 && StepShare() * _rate < 0.9 * _clean;

        /// <summary>
        /// The server accepted well below the pace between the last two 429s (measured within the last
        /// half second or during this search step, while no noise floor is known: a random 429 says
        /// nothing of the bucket). During the step, not only just now: the step's first 429 measures the
        /// gap, and the significance test waits for a second 0.2 s later (at 5/s, 0.53 s after the
        /// measure, the search narrowed down by two more throttled steps instead). Only for a bucket seen to
        /// hold a burst: one without burst wastes what it refills while requests come slower than it
        /// allows, so between two 429s it accepted less than its limit (0.35x of it at 50 to 500/s),
        /// and its search's clean steps cannot pass on saved tokens anyway. Callers hold the lock.
        /// </summary>
        private bool GapBelowPace(long now) =>
            _burstSeen && _floor <= 0 && _gapAt != 0 && (now - _gapAt < _time.TimestampFrequency / 2 || _gapAt >= _stepAt) && _gapRate < 0.9 * _rate;

        /// <summary>Answers between two 429s that <see cref="SteadyGapBelowPace"/> needs.</summary>
        internal const int SteadyGapAnswers = 40;

        /// <summary>
        /// At a steady pace, against a bucket seen to hold a burst while no noise floor is known: the
        /// answers other than 429 between this 429 and the last (0.3 s apart or more, and at least
        /// <see cref="SteadyGapAnswers"/>, so that one answer more or less is noise) came well below
        /// the pace. A 429 says the bucket is empty, so that is what it refilled: the pace is above the
        /// limit, though its 429s come too few at a time to stand out, and the cut goes to that figure
        /// rather than to a goodput that a burst's last tokens inflate. At 100 to 500/s the slowest
        /// cells of the simulation's matrix went from 0.85-0.93x to 0.92-0.98x of the limit, with
        /// fewer 429s. Not at low rates: ten answers a second between 429s a second apart cannot tell
        /// 10/s from 11/s. Every answer between two 429s came back without one, so the figure is also
        /// what was sent meanwhile: a pace well above it was not being used (the workers held the
        /// rate), and the 429 says the limit lies at what was. Callers hold the lock.
        /// </summary>
        private bool SteadyGapBelowPace(long now, int okBetween) =>
            _burstSeen && _floor <= 0 && _gapAt == now && okBetween >= SteadyGapAnswers && _gapRate < 0.9 * Math.Min(RateAt(now), _ceiling);

        /// <summary>
        /// This throttled search step got accepted no more than a few per cent above the last clean
        /// pace: the limit lies there, and the search ends at the clean pace. Else it narrowed down by
        /// steps above it, each a few 429s; at 1 or 2 requests/s each step lasts seconds, and a
        /// bucket without burst refuses about half of a pace between once and twice its limit. The
        /// simulation's whole matrix at 1 and 2/s: 0.73 and 0.84x of the limit, 86 and 36 % of the
        /// cards throttled once it was found; with this, 0.85 and 0.93x, 43 and 24 %. Callers hold the lock.
        /// </summary>
        private bool AcceptedNearClean() => StepShareReadsLimit() && _clean > 0 && _stepOk + _stepRefused >= 5 && StepShare() * _rate <= _clean * RefineUntil;

        /// <summary>
        /// What a throttled search step got accepted is about the limit: against a bucket seen to hold
        /// a burst, whatever the pace, or at 3 requests/s or less. Not against a bucket without burst
        /// at higher rates: it refuses about half of a pace between once and twice its limit, so that
        /// share read half the limit, and the search ended there (5 to 500/s: 0.67-0.81x).
        /// </summary>
        private bool StepShareReadsLimit() => _burstSeen || _rate <= 3;

        /// <summary>The share of this search step's answers that were not 429 (with half a count either way, so a few answers cannot say 0 or 1).</summary>
        private double StepShare() => (_stepOk + 0.5) / (_stepOk + _stepRefused + 1);

        private static double Clamp(double x, double low, double high) => x < low ? low : x > high ? high : x;

        // The pace now, without the ceiling. Steady: from β·A right after the cut up to 0.98·A in a
        // second, flat there until K, then probing above A ever faster (A (0.98 + c (t − K)³), CUBIC's
        // convex part, its speed independent of how long the plateau was). Callers hold the lock.
        private double RateAt(long now)
        {
            switch (_phase)
            {
                case Phase.Search: return _rate;
                case Phase.Steady:
                    double t = Seconds(now - _cutAt);
                    if (t < Rise) return Math.Max(MinRate, _anchor * (Beta + (Plateau - Beta) * t / Rise));
                    double probe = Math.Max(0, t - _k);
                    // Near a run's end a probe gains a few per cent of a few seconds, and its 429
                    // makes a card wait a Retry-After that the run then ends on: at 100/s, runs of
                    // 1,000 cards took 9.0 s or, when the probe met the limit in their last second, 10.1 s.
                    if (probe > 0 && NearTheEnd(_anchor)) probe = 0;
                    double curve = _anchor * (Plateau + Probe * probe * probe * probe);
                    // While the server throttled within the last four seconds, never far above what it
                    // accepted over them: a bucket's saved burst hides a probe above the limit until it
                    // is spent, and the 429s then come all at once. Four seconds without a 429 lift it.
                    // 429s as few as the noise floor explains do not count: else a gateway's random
                    // 429s kept the probe at the goodput for ever, a pace stuck where a cut had left it.
                    if (curve > _anchor * Plateau && ThrottledLately(now))
                    {
                        double accepted = LongGoodput(now);
                        if (accepted > 0 && curve > Cap * accepted) curve = Math.Max(_anchor * Plateau, Cap * accepted);
                    }
                    return Math.Max(MinRate, curve);
                default: return double.PositiveInfinity;
            }
        }

        private double Seconds(long ticks) => (double)ticks / _time.TimestampFrequency;

        /// <summary>429s came over the counters' span, more than the noise floor explains. Callers hold the lock.</summary>
        private bool ThrottledLately(long now)
        {
            int refused = _counts.Sum(now, Refused);
            if (refused == 0) return false;
            return _floor <= 0 || Significant(refused, _counts.Sum(now, Answered), _floor);
        }

        /// <summary>A cut goes below what <see cref="RecentlyAccepted"/> says only by this share, at most.</summary>
        internal const double Collapse = 0.7;

        /// <summary>
        /// What the server accepted over the last second, as a rate: a floor for cuts. A limiter that
        /// counts requests in windows (N a second, fixed or sliding, as many gateways do) refuses every
        /// request once a window's count is spent, whatever the pace, until the window turns over. Each
        /// cut's own requests then met 429s too, each read a lower rate, and the chain of cuts went to
        /// a tenth of the limit or less within the window (the simulation's windows at 10 to 1,000/s:
        /// 0.35-0.91x of the limit on average, cells at 0.08x). A token bucket kept empty accepts its refill
        /// over any second, so there the floor is about the limit and the cuts' own figures decide.
        /// Within the period's first 1.2 seconds, the answers before its first 429, less the trickle
        /// accepted since (a bucket's refill, none for a spent window) over their span, over a second:
        /// a window's count, or a bucket's burst of one second. Callers hold the lock.
        /// </summary>
        private double RecentlyAccepted(long now)
        {
            long since = ActiveSince();
            if (since < 0) return 0;
            if (now - since < 1.2 * _time.TimestampFrequency)
            {
                if (_periodFirst429At < since) return 0;
                double after = Seconds(now - _periodFirst429At);
                // Too soon after it to tell a trickle from none: a bucket's burst of a second is assumed.
                if (after < 0.1) return _periodOk / (1 + _periodSpan);
                double trickle = (Interlocked.Read(ref _okTotal) - _okAtFirst429) / after;
                return Math.Max(0, _periodOk - trickle * _periodSpan);
            }
            return _counts.Sum(now, Answered, Buckets / 4);
        }

        /// <summary>
        /// Answers other than 429 per second over the last four seconds, or since the period of
        /// activity began when that is shorter, once it is two seconds old (a bucket's burst, spent
        /// in the first moments, must not pass for a rate); else 0. Callers hold the lock.
        /// </summary>
        private double AcceptedLately(long now)
        {
            long since = ActiveSince();
            if (since < 0 || now - since < 2 * _time.TimestampFrequency) return 0;
            int buckets = BucketsSince(now, since);
            return _counts.Sum(now, Answered, buckets) / Math.Min(Seconds(now - since), buckets * Seconds(_counts.BucketTicks));
        }

        /// <summary>Answers other than 429 per second over the counters' whole span (complete buckets), once the connection is that old; else 0.</summary>
        private double LongGoodput(long now)
        {
            long first = ActiveSince();
            if (first < 0 || now - first < _counts.SpanTicks) return 0;
            return _counts.SumBack(now, Answered, Answered, int.MaxValue, Buckets - 1, out int buckets) / Math.Max(0.1, buckets * Seconds(_counts.BucketTicks));
        }

        /// <summary>
        /// Requests sent per second over the last second (or since the first request, at least 100 ms),
        /// counted by their answers, 429s included: a reservation is no send (a caller whose slot was
        /// voided reserves again, and 64 waiting workers counted 141 requests a second at a pace of 16).
        /// </summary>
        private double SendingPerSecond(long now) => PerSecond(now, Answered) + PerSecond(now, Refused);

        /// <summary>
        /// Answers other than 429 per second since the pace last changed, reaching back (up to the
        /// counters' span) until MinAnswers answers are seen: the rate the server accepted.
        /// <paramref name="confident"/> says whether enough answers were seen for the figure to hold.
        /// </summary>
        private double Goodput(long now, out bool confident)
        {
            long first = ActiveSince();
            // Not paced (Open, also after a cut was undone): every answer of the last second counts.
            // From the undo on, a few milliseconds of answers passed for 320/s at a limit of 1,000.
            long from = _phase == Phase.Open ? first : Math.Max(first, _generationAt);
            double bucket = 4.0 / Buckets;
            // Steady: over up to the counters' whole span, so that a bucket's burst, spent when the
            // probe went above the limit, does not pass for the rate it allows.
            int n = Math.Max(1, (int)Math.Ceiling(Math.Min(_phase == Phase.Steady ? 4.0 - bucket : 1.0, Seconds(now - from)) / bucket));
            int answered = _counts.Sum(now, Answered, n);
            // Not past the last change of pace: answers before it tell of another pace.
            int most = Math.Max(1, Math.Min(Buckets, (int)Math.Ceiling(Seconds(now - from) / bucket)));
            while (answered < MinAnswers && n < most) answered = _counts.Sum(now, Answered, ++n);
            // The current bucket is only partly over: the span ends now, not at its end.
            double partial = Seconds(now % _counts.BucketTicks);
            // The span the summed buckets cover, the current one up to now, whatever the pace's age:
            // held at 0.1 s (and cut to the pace's age), a cut 40 ms after the last read 68 ms of
            // answers over 100 ms, 0.68x of the rate accepted, and the start's chain of cuts at
            // 1,000/s ended at half the limit.
            double span = Math.Max(0.02, (n - 1) * bucket + partial);
            confident = answered >= MinAnswers || span >= 2;
            return answered / span;
        }

        private double PerSecond(long now, int kind)
        {
            long first = ActiveSince();
            if (first < 0) return 0;
            double span = Math.Min(1.0, Math.Max(0.1, Seconds(now - first)));
            return _counts.Sum(now, kind, (int)Math.Ceiling(span * Buckets / 4.0)) / span;
        }

        // A share above MaxFloor is never taken for noise.
        internal const double MaxFloor = 0.25;
        // Nor one of NoiseAfter or more after a cut, clearly above the 5 % a gateway's random 429s
        // come at, while no noise floor is known: a neighbour on the account keeps the share of 429s
        // up after a cut (it takes the room), and such cuts were undone as noise, the neighbour got
        // every 429 and was cut to a sixth of the limit. Judged on the share after the cut, not
        // before: the share a cut is decided on is drawn high, and 5 % random 429s read above a
        // tenth there often enough to slow a run by half.
        internal const double NoiseAfter = 0.1;

        /// <summary>The share of 429s rose well above the one a cut was decided on (or that one was never noise): the cut was too small.</summary>
        private static bool Rose(double after, double before) => before >= MaxFloor || after >= Math.Min(MaxFloor, 1.7 * before);

        /// <summary>
        /// Did the cut change the share of 429s (<paramref name="refused"/> of <paramref name="n"/>
        /// after it, <paramref name="before"/> when it was decided)? It did when the share rose well
        /// above, or fell well below and the 429s all but stopped (no more than the floor explains), or
        /// fell to a third. A share that fell by half yet stayed well above the floor is no proof:
        /// the share a cut is decided on is drawn high (it had to stand out), so a gateway's steady
        /// 5 % read 8 % then and 5 % after, and such cuts were kept for throttling.
        /// </summary>
        internal static bool Lowered(int refused, int n, double before, double floor)
        {
            double after = refused / (double)n;
            if (Rose(after, before)) return true;
            // Too many for noise, while none is known to come whatever the rate: a neighbour took the room.
            if (floor < 0.005 && after >= NoiseAfter && Above(refused, n - refused, 0.05, 0.05, 1.645)) return true;
            if (after >= 0.6 * before) return false;
            // "All but stopped": not clearly above the floor plus one per cent (a test at 5 %, not
            // the cut's 0.5 %: a steady 5 % read 3.4 % of 587 answers once, which passed that).
            bool stopped = !Above(refused, n - refused, Math.Min(0.5, floor + 0.01), 0.05, 1.645);
            return stopped || after < 0.35 * before;
        }

        /// <summary>
        /// Is a share of <paramref name="refused"/> 429s among these answers more than a floor of
        /// <paramref name="floor"/> explains? A one-sided binomial test against the floor plus a
        /// margin, exact for the few answers a young pace has (a normal approximation there took
        /// 2 of 10 for a limit under 5 % random 429s), at a 0.5 % level.
        /// </summary>
        internal static bool Significant(int refused, int answered, double floor) =>
            Above(refused, answered, Math.Min(0.5, floor + Margin), Alpha, Z90);

        /// <summary>
        /// A one-sided binomial test: is <paramref name="refused"/> of the answers more than a share
        /// of <paramref name="p"/> explains, at level <paramref name="alpha"/> (normal quantile
        /// <paramref name="z"/> beyond 400 answers)?
        /// </summary>
        private static bool Above(int refused, int answered, double p, double alpha, double z)
        {
            int n = refused + answered;
            if (refused < 2 || n < 5) return false;
            if (refused <= n * p) return false;
            if (n > 400) return (refused - n * p) / Math.Sqrt(n * p * (1 - p)) > z;
            // P(X >= refused) for X ~ Binomial(n, p), summed from the top term down.
            double logTerm = LogChoose(n, refused) + refused * Math.Log(p) + (n - refused) * Math.Log(1 - p);
            double term = Math.Exp(logTerm), tail = 0;
            for (int k = refused; k <= n && term > 1e-300; k++)
            {
                tail += term;
                term *= (double)(n - k) / (k + 1) * p / (1 - p);
            }
            return tail < alpha;
        }

        internal const double Alpha = 0.005;
        private const double Z90 = 2.576; // the normal quantile of 1 − Alpha

        private static double LogChoose(int n, int k)
        {
            double r = 0;
            for (int i = 1; i <= k; i++) r += Math.Log(n - k + i) - Math.Log(i);
            return r;
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
            if (refused < 2 || Lowered(refused, n, _shareBefore, _floor)) return null; // the cut changed it: it was throttling
            double floor = Math.Min(MaxFloor, Math.Max(_floor, after));
            // Back to the pace before the cut, not further along its old curve: it would have grown meanwhile.
            var b = _beforeCut;
            _phase = b.Phase; _rate = b.Rate; _anchor = b.Anchor; _k = b.K; _cutAt = b.CutAt;
            if (_phase == Phase.Steady)
            {
                double was = RateAt(_checkFrom);
                _anchor = Math.Max(MinRate, was / Plateau);
                _cutAt = now - (long)(_k * _time.TimestampFrequency);
            }
            _step = 0;
            _stepAnswered = _stepOk = _stepRefused = 0;
            _floor = floor;
            NewGeneration(now);
            _genAnsweredAt = -1; // an undone cut: the pace goes on where it was, answered all along
            double restored = Math.Min(RateAt(now), _ceiling);
            Reschedule(now, restored);
            return string.Format(CultureInfo.InvariantCulture,
                "The share of HTTP 429 answers did not fall when the pace was cut ({0:0.#} % before, {1:0.#} % after): they come whatever the rate, so the pace is restored{2}; such 429s only make their own card wait.",
                _shareBefore * 100, after * 100, double.IsPositiveInfinity(restored) ? string.Empty : string.Format(CultureInfo.InvariantCulture, " to {0:0.#}/s", restored));
        }

        // The window a share of 429s is judged over: at least 2 s, and long enough to hold
        // MinAnswers answers at the current pace (up to the whole span).
        private int WindowBuckets(long now)
        {
            double rate = Math.Min(RateAt(now), _ceiling);
            double seconds = double.IsPositiveInfinity(rate) ? 2 : Math.Max(2, MinAnswers / Math.Max(MinRate, rate));
            return Math.Min(Buckets, (int)Math.Ceiling(seconds * Buckets / 4.0));
        }

        private int BucketsSince(long now, long from) =>
            Math.Max(1, Math.Min(Buckets, (int)(now / _counts.BucketTicks - from / _counts.BucketTicks) + 1));
    }
}
