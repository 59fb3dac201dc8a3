using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// One connection's view of whether the service is up: a circuit breaker that looks only at
    /// recent attempts (eight failures in a row, or most of a two-second window), so a long good
    /// run never dilutes an outage; that also sees a
    /// service that hangs (requests in flight, nothing answered for a while), and that, while the
    /// service is down, lets one probe through at a time and makes every other card wait, holding
    /// nothing, until the service is back or the outage has outlasted the card's budget.
    /// Outcomes of attempts sent before the last change of state are ignored, so answers that were
    /// already on their way can neither reopen it after a recovery nor close it.
    /// </summary>
    /// <remarks>Design: docs/reliability.md ("Outages").</remarks>
    internal sealed class ServiceHealth : IDisposable
    {
        internal static readonly TimeSpan Window = TimeSpan.FromSeconds(2);
        internal const int MinFailures = 5;
        // Failed answers in a row that declare an outage whatever came before: a long good run
        // fills the window with successes that would dilute a ratio for as long as it lasts.
        internal const int FailureStreak = 8;
        internal const double FailureRatio = 0.5;
        internal static readonly TimeSpan FirstProbeDelay = TimeSpan.FromMilliseconds(500);
        internal static readonly TimeSpan MaxProbeDelay = TimeSpan.FromSeconds(4);
        internal static readonly TimeSpan OverdueProbe = TimeSpan.FromMilliseconds(250);
        internal static readonly TimeSpan MinHangThreshold = TimeSpan.FromSeconds(2);
        private static readonly TimeSpan HangCheckInterval = TimeSpan.FromMilliseconds(250);

        private readonly TimeProvider _time;
        private readonly TimeSpan _attemptTimeout;
        private readonly TimeSpan? _budget; // a card's time budget, for the messages only
        private readonly object _lock = new object();
        private readonly SlidingCounter _recent; // kinds: Good, Bad
        private const int Good = 0, Bad = 1;
        private readonly Func<double> _random;

        private long _lastUpSentAt = long.MinValue; // when the last request that the service answered (other than a failure) was sent
        private int _streak; // failed answers in a row (sent since the last change)
        private long _streakSince; // when the first of them was sent
        private bool _down;
        private bool _hung;             // the outage was seen as a hang (no answer at all), not as failed answers
        private long _changedAt = long.MinValue; // last change of state (timestamp)
        private long _downSince;
        private string? _downReason;
        private long _nextProbeAt;
        private int _probesInFlight;     // one, but for the last probe of an outage that lasted the budget (see Admit)
        private long _lastProbeSentAt = long.MinValue;
        private int _probeFailures;
        private long _lastProbeFailureSentAt = long.MinValue; // when the last probe of this outage that failed was sent
        private TaskCompletionSource<bool> _changed;
        private readonly WorkScheduler _scheduler;
        private CancellationTokenSource _untilRecovery = new CancellationTokenSource();

        // Hang detection.
        private int _inFlight;
        private long _busySince;        // when _inFlight last went from 0 to 1
        private long _lastAnswerAt;     // when an attempt last ended (any outcome but Abandoned)
        private double _latencyTicks;   // moving average of an answered attempt's duration
        private ITimer? _hangTimer;
        private bool _disposed;

        public ServiceHealth(TimeProvider time, TimeSpan attemptTimeout, Func<double>? random = null, TimeSpan? budget = null, WorkScheduler? scheduler = null)
        {
            _scheduler = scheduler ?? WorkScheduler.ThreadPool;
            _changed = _scheduler.NewSignal();
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _attemptTimeout = attemptTimeout;
            _budget = budget;
            _recent = new SlidingCounter(time, Window, 8, 2);
            _random = random ?? _scheduler.NextDouble; // the scheduler's draws: a simulation replays them
        }

        /// <summary>True while the service is considered down.</summary>
        public bool IsDown { get { lock (_lock) return _down; } }

        /// <summary>When the current outage was detected, or null when the service is up.</summary>
        public DateTimeOffset? DownSince
        {
            get { lock (_lock) return _down ? _time.GetUtcNow() - Clock.Since(_time, _downSince) : (DateTimeOffset?)null; }
        }

        /// <summary>Why the current outage was declared ("5 of 6 attempts failed: HTTP 503"), or null.</summary>
        public string? DownReason { get { lock (_lock) return _down ? _downReason : null; } }

        /// <summary>How long an attempt may go unanswered, with others also unanswered, before the service counts as hanging.</summary>
        public TimeSpan HangThreshold
        {
            get
            {
                double latency = Volatile.Read(ref _latencyTicks);
                // Before any answer the service's pace is unknown: the attempt timeout says "hung" (and the budget, below).
                var t = _attemptTimeout;
                if (latency != 0)
                {
                    var typical = TimeSpan.FromTicks((long)(latency * 10 * TimeSpan.TicksPerSecond / _time.TimestampFrequency));
                    t = typical > MinHangThreshold ? typical : MinHangThreshold;
                }
                // At most a third of a card's budget, so a hang is seen while the cards it holds
                // still have time: at 500 ms answers (a 5 s threshold) and -TimeoutSec 5, every
                // card a 1.5 s hang swallowed was lost before the hang was seen.
                if (_budget is TimeSpan b && t.Ticks > b.Ticks / 3) t = TimeSpan.FromTicks(b.Ticks / 3);
                return t < _attemptTimeout ? t : _attemptTimeout;
            }
        }

        /// <summary>
        /// How long a probe may take: <see cref="FirstProbeTimeout"/>, doubled for every probe of this outage that
        /// failed, up to the attempt timeout and a quarter of a card's budget. A service that went
        /// slow (answers in 3 s where they took 20 ms) is not dead: probes cut at the threshold never
        /// saw it answer, and every card waited until its budget ran out. The quarter: a probe that
        /// waits long for a dead service ends its run that much after the budget (with -TimeoutSec
        /// 10, 18 s instead of 12).
        /// </summary>
        public TimeSpan ProbeTimeout
        {
            get
            {
                var t = FirstProbeTimeout;
                int failures = Math.Min(Volatile.Read(ref _probeFailures), 16);
                double most = _attemptTimeout.TotalSeconds;
                if (_budget is TimeSpan b && b.TotalSeconds / 4 < most) most = b.TotalSeconds / 4;
                return TimeSpan.FromSeconds(Math.Min(most, t.TotalSeconds * Math.Pow(2, failures)));
            }
        }

        /// <summary>How long an answer usually takes (moving average); zero before the first.</summary>
        public TimeSpan TypicalAnswer
        {
            get
            {
                double latency = Volatile.Read(ref _latencyTicks);
                return latency <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(latency / _time.TimestampFrequency);
            }
        }

        /// <summary>
        /// Cancelled when the service is seen to hang, and when it answers again after an outage: an
        /// attempt linked to it that is still unanswered then hung, and is sent again (at recovery,
        /// or after the outage).
        /// </summary>
        public CancellationToken UntilRecovery => Volatile.Read(ref _untilRecovery).Token; // read per attempt: no lock

        /// <summary>
        /// The first probe's timeout: four answers' time, at least 1 s, at most the hang threshold
        /// (before any answer, the hang threshold). Not the hang threshold itself: in a 2.5 s hang
        /// with -TimeoutSec 5, a first probe sent just before the hang ended held the recovery for
        /// its whole 1.7 s, and cards ran out of time.
        /// </summary>
        public TimeSpan FirstProbeTimeout
        {
            get
            {
                var hang = HangThreshold;
                if (Volatile.Read(ref _latencyTicks) == 0) return hang;
                var four = TimeSpan.FromTicks(TypicalAnswer.Ticks * 4);
                var t = four > MinFirstProbeTimeout ? four : MinFirstProbeTimeout;
                return t < hang ? t : hang;
            }
        }

        internal static readonly TimeSpan MinFirstProbeTimeout = TimeSpan.FromSeconds(1);

        /// <summary>Completes at the next change of state or probe result (for cards that wait).</summary>
        public Task Changed { get { lock (_lock) return _changed.Task; } }

        /// <summary>A new command starts: if the service is down and no probe is out, the next card probes at once.</summary>
        public void OnRunStart()
        {
            lock (_lock)
            {
                if (_down && _probesInFlight == 0) _nextProbeAt = Math.Min(_nextProbeAt, _time.GetTimestamp());
            }
        }

        /// <summary>
        /// May a card send now? <paramref name="giveUpAt"/> is the timestamp after which a card
        /// that cannot send gives up: the earlier of its own deadline and its run's start (or the
        /// outage's start, if later) plus the budget, so that a long outage is waited out once for
        /// a run, not once per card. When told to wait, <paramref name="waitUntil"/> says how long at most.
        /// </summary>
        public Admission Admit(long cardDeadline, long runStart, TimeSpan budget, out long waitUntil) =>
            Admit(cardDeadline, runStart, budget, TimeSpan.Zero, out waitUntil, out _);

        /// <summary>
        /// As above. <paramref name="probeNeeds"/>: the time a card must have left to be the probe
        /// (a probe cut short by its card's own budget tells nothing and delays the recovery).
        /// <paramref name="changed"/> completes at the next change, taken under the same lock as
        /// the answer, so a recovery that lands right after it still wakes the card.
        /// </summary>
        public Admission Admit(long cardDeadline, long runStart, TimeSpan budget, TimeSpan probeNeeds, out long waitUntil, out Task changed)
        {
            waitUntil = 0;
            changed = Task.CompletedTask;
            if (!Volatile.Read(ref _down)) return Admission.Send;
            lock (_lock)
            {
                if (!_down) return Admission.Send;
                long now = _time.GetTimestamp();
                // The card's own time (spent on failures: waits for the service do not use it).
                if (now >= cardDeadline) return Admission.GiveUp;
                // The outage has lasted the budget from the run's start (or its own, if later): a
                // long outage is waited out once for a run, not once per card. Then one probe sent
                // from that moment decides: when it fails, every waiting card gives up. A window
                // shorter than the budget has ended by then, and that probe sees it: giving up at
                // the moment itself lost cards of a 2.5 s hang with -TimeoutSec 5, as its probes
                // hung 2 s each. A budget later, they give up whatever the probes did.
                long outageEnds = Clock.Add(Math.Max(_downSince, runStart), Clock.Ticks(_time, budget));
                long waitEnds = Clock.Add(outageEnds, Clock.Ticks(_time, budget)); // whatever the probes did
                bool lasted = now >= outageEnds;
                if (lasted && (_lastProbeFailureSentAt >= outageEnds || now >= waitEnds)) return Admission.GiveUp;
                long giveUpAt = Math.Min(cardDeadline, lasted ? waitEnds : outageEnds);
                // A card with less time than a probe needs may still probe once the probe is overdue:
                // the cards holding the workers are the oldest, with the least time left, and when
                // none of them could probe, no probe went at all (-TimeoutSec 5, 16 workers: the
                // service came back 1.3 s before the cards gave up, 4 of 2,000 lost). Not in a hang:
                // such a probe hangs until its card's time is up, and a dead service's run ended
                // 1.3 s later (13.7 s with -TimeoutSec 10, 12.4 s without).
                bool overdue = !_hung && now >= Clock.Add(_nextProbeAt, Clock.Ticks(_time, OverdueProbe)) && cardDeadline > now;
                // That last probe goes even while an earlier one is out: a dead service's run would
                // otherwise end a probe timeout later (with -TimeoutSec 10, 14.2 s instead of 12.5).
                bool lastProbe = lasted && _lastProbeSentAt < outageEnds;
                if ((_probesInFlight == 0 && now >= _nextProbeAt || lastProbe) && (cardDeadline - now >= Clock.Ticks(_time, probeNeeds) || overdue))
                {
                    _probesInFlight++;
                    _lastProbeSentAt = now;
                    return Admission.Probe;
                }
                // Too little time to probe now: ask again when the probe is overdue (not in a spin).
                long probeAt = now >= _nextProbeAt ? Clock.Add(_nextProbeAt, Clock.Ticks(_time, OverdueProbe)) : _nextProbeAt;
                waitUntil = _probesInFlight > 0 ? giveUpAt : Math.Min(giveUpAt, Math.Max(probeAt, now + 1));
                changed = _changed.Task;
                return Admission.Wait;
            }
        }

        /// <summary>
        /// A card ran out of retries on failures that began when it sent at <paramref name="since"/>:
        /// when the service answered before and nothing sent since was answered (no other request got
        /// through, so the failures are the service's, however few), the service is declared down
        /// from then, and the message returned; else null (the card's own trouble). A service that
        /// never answered is left to the detector: a wrong address or a refused connection should
        /// fail a command after its retries, not after waiting out its budget.
        /// </summary>
        public string? OpenIfSilentSince(long since, string why)
        {
            string? message = null;
            lock (_lock)
            {
                long up = Volatile.Read(ref _lastUpSentAt);
                if (!_down && up != long.MinValue && up < since)
                    message = Open(_time.GetTimestamp(), string.Format(CultureInfo.InvariantCulture, "every attempt of the last {0:0.#} s failed and nothing was answered meanwhile (last: {1})", _time.GetElapsedTime(since).TotalSeconds, why), since);
            }
            FlushAbandoned();
            return message;
        }

        /// <summary>A probe was admitted but never sent (its card stopped or failed before sending): another card may probe at once.</summary>
        public void ReleaseProbe()
        {
            lock (_lock)
            {
                if (_probesInFlight == 0) return;
                _probesInFlight--;
                _nextProbeAt = _time.GetTimestamp();
                Signal();
            }
        }

        /// <summary>Requests in flight as hang detection counts them (tests: it must not drift).</summary>
        internal int InFlight => Volatile.Read(ref _inFlight);

        /// <summary>An attempt is about to be sent (for hang detection). Pair with <see cref="OnAttemptEnd"/>.</summary>
        public void OnAttemptStart()
        {
            if (Interlocked.Increment(ref _inFlight) == 1)
            {
                Volatile.Write(ref _busySince, _time.GetTimestamp());
                StartHangTimer();
            }
        }

        /// <summary>
        /// An attempt sent at <paramref name="sentAt"/> ended. Returns a diagnostic (Verbose) message when
        /// this changed the state (the service went down or came back), else null.
        /// </summary>
        public string? OnAttemptEnd(long sentAt, AttemptHealth outcome, bool wasProbe, string? why = null)
        {
            var message = AttemptEnded(sentAt, outcome, wasProbe, why);
            FlushAbandoned();
            return message;
        }

        private string? AttemptEnded(long sentAt, AttemptHealth outcome, bool wasProbe, string? why)
        {
            Interlocked.Decrement(ref _inFlight);
            long now = _time.GetTimestamp();
            // A request cut at the hang threshold is a failure, not an answer: the requests a hang
            // swallowed, each cut in turn, kept the silence from ever lasting the threshold (at
            // 2/s, a 3.3 s hang was never seen, and a card spent its budget in two of them).
            bool answered = outcome != AttemptHealth.TimedOut;
            if (!answered) outcome = AttemptHealth.Failed;
            if (outcome != AttemptHealth.Abandoned)
            {
                if (answered) Volatile.Write(ref _lastAnswerAt, now);
                // By send time: at 500 ms, answers to requests sent before a gateway's window opened
                // still came in after a card's first failed attempt had gone, and read as "the
                // service answered since"; that card then spent its retries in the window and was lost.
                if (outcome != AttemptHealth.Failed && Volatile.Read(ref _lastUpSentAt) < sentAt) Volatile.Write(ref _lastUpSentAt, sentAt);
                if (outcome != AttemptHealth.Failed)
                {
                    // Moving average of how long an answer takes (races only blur it). A probe's
                    // answer is the service's pace now: one that took longer than the average
                    // replaces it, or a service that went slow would be seen to hang again at once.
                    double took = now - sentAt, seen = Volatile.Read(ref _latencyTicks);
                    Volatile.Write(ref _latencyTicks, seen == 0 || (wasProbe && took > seen) ? took : seen + (took - seen) / 16);
                }
            }
            if (!wasProbe && !Volatile.Read(ref _down) && outcome == AttemptHealth.Up && sentAt >= Volatile.Read(ref _changedAt))
            {
                _recent.Add(now, Good); // the usual case: a success while up, without the lock
                if (Volatile.Read(ref _streak) != 0) Volatile.Write(ref _streak, 0);
                return null;
            }
            lock (_lock)
            {
                if (wasProbe)
                {
                    if (_probesInFlight > 0) _probesInFlight--;
                    if (!_down) return null; // the other probe's answer closed the outage already
                    switch (outcome)
                    {
                        case AttemptHealth.Up:
                        case AttemptHealth.Throttled:
                            return Close(now);
                        case AttemptHealth.Failed:
                            _probeFailures++;
                            if (sentAt > _lastProbeFailureSentAt) _lastProbeFailureSentAt = sentAt;
                            _nextProbeAt = now + Clock.Ticks(_time, ProbeDelay(_probeFailures));
                            Signal();
                            return null;
                        default:
                            _nextProbeAt = now; // the probe was cancelled: another card may probe at once
                            Signal();
                            return null;
                    }
                }
                if (sentAt < _changedAt || outcome == AttemptHealth.Abandoned || outcome == AttemptHealth.Throttled) return null;
                if (_down)
                {
                    // Sent after the outage was declared yet not as a probe: cannot happen but for a
                    // race with Admit; an answer still shows the service is back.
                    return outcome == AttemptHealth.Up ? Close(now) : null;
                }
                _recent.Add(now, outcome == AttemptHealth.Up ? Good : Bad);
                if (outcome == AttemptHealth.Up) _streak = 0;
                else
                {
                    if (_streak++ == 0) _streakSince = sentAt;
                    int ok = _recent.Sum(now, Good), failed = _recent.Sum(now, Bad);
                    // Down since the first of them was sent, not since the last one failed: a
                    // service that never answered (attempts that each waited out a 10 s budget) was
                    // declared down 12 s into a run, and its cards then waited another 10 s to give up.
                    if (_streak >= FailureStreak)
                        return Open(now, string.Format(CultureInfo.InvariantCulture, "{0} attempts in a row failed{1}", _streak, why != null ? " (last: " + why + ")" : string.Empty), _streakSince);
                    if (failed >= MinFailures && failed >= FailureRatio * (ok + failed))
                        return Open(now, string.Format(CultureInfo.InvariantCulture, "{0} of the last {1} attempts failed{2}", failed, ok + failed, why != null ? " (last: " + why + ")" : string.Empty));
                }
                return null;
            }
        }

        private string Open(long now, string reason, long since = long.MaxValue)
        {
            _down = true;
            _hung = false;
            _changedAt = now;
            _downSince = Math.Min(now, since);
            _downReason = reason;
            _probeFailures = 0;
            _lastProbeFailureSentAt = long.MinValue;
            _streak = 0;
            _nextProbeAt = now + Clock.Ticks(_time, ProbeDelay(0));
            _recent.Clear();
            Signal();
            // The balance queries in flight are abandoned: their cards wait holding nothing, and a
            // probe can go. Else a hung request held its worker for its attempt timeout (30 s by
            // default) however short the hang, and one sent just before the outage was declared
            // held its card, and the run's end, for its whole budget (a -TimeoutSec 10 run against
            // a service that never answered ended at 22 s, 10 s after the others had given up).
            AbandonInFlight();
            return "The service looks down: " + reason + ". Only one probe request at a time is sent until it answers; the other cards wait, each for at most its time budget"
                + (_budget is TimeSpan b ? string.Format(CultureInfo.InvariantCulture, " ({0:0.###} s)", b.TotalSeconds) : string.Empty) + ".";
        }

        private string Close(long now)
        {
            var downFor = _time.GetElapsedTime(_downSince, now);
            _down = false;
            _changedAt = now;
            _downReason = null;
            _recent.Clear();
            Signal();
            // Requests still on their way from before the outage hung in it: sent again now.
            AbandonInFlight();
            return string.Format(CultureInfo.InvariantCulture, "The service answers again after {0:0.#} s down: every card goes ahead.", downFor.TotalSeconds);
        }

        /// <summary>
        /// Cancels <see cref="UntilRecovery"/> for the attempts linked to it, and starts a new one.
        /// The cancellation runs its callbacks (the attempts' ends come back here), so it is made by
        /// <see cref="FlushAbandoned"/> once the lock is released. Callers hold the lock.
        /// </summary>
        private void AbandonInFlight()
        {
            var hung = _untilRecovery;
            Volatile.Write(ref _untilRecovery, new CancellationTokenSource());
            var earlier = Interlocked.Exchange(ref _toAbandon, hung);
            earlier?.Cancel(); // cannot happen: every caller flushes before it returns
        }

        private CancellationTokenSource? _toAbandon;

        /// <summary>Cancels what <see cref="AbandonInFlight"/> left, once the lock is released.</summary>
        private void FlushAbandoned() => Interlocked.Exchange(ref _toAbandon, null)?.Cancel();

        /// <summary>Delay before the next probe: 0.5 s, growing by half each failure to 4 s, ±20 % so connections do not probe in step.</summary>
        private TimeSpan ProbeDelay(int failures)
        {
            // At most an eighth of a card's budget apart: with -TimeoutSec 5, probes 4 s apart saw a
            // 2.9 s window end 1-2 s late, and cards that had waited it out ran out of time (14 of 80).
            double most = _budget is TimeSpan b ? Math.Min(MaxProbeDelay.TotalSeconds, Math.Max(FirstProbeDelay.TotalSeconds, b.TotalSeconds / 8)) : MaxProbeDelay.TotalSeconds;
            double seconds = Math.Min(most, FirstProbeDelay.TotalSeconds * Math.Pow(1.5, failures));
            return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * _random()));
        }

        private void Signal()
        {
            var old = _changed;
            _changed = _scheduler.NewSignal();
            _scheduler.Fire(old);
        }

        // ---- hang detection --------------------------------------------------------------------------

        // The timer ticks only while requests are in flight: an idle connection costs nothing.
        private void StartHangTimer()
        {
            lock (_lock)
            {
                if (_disposed) return;
                if (_hangTimer == null) _hangTimer = _time.CreateTimer(_ => CheckHang(), null, HangCheckInterval, HangCheckInterval);
                else _hangTimer.Change(HangCheckInterval, HangCheckInterval);
            }
        }

        private void StopHangTimerIfIdle()
        {
            lock (_lock)
            {
                if (Volatile.Read(ref _inFlight) > 0) return;
                _hangTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }

        /// <summary>
        /// Requests are in flight and none has been answered for the hang threshold: the service
        /// hangs. Declared down now, so later cards wait instead of joining the hung ones.
        /// </summary>
        internal string? CheckHang()
        {
            var message = HangSeen();
            FlushAbandoned();
            return message;
        }

        private string? HangSeen()
        {
            int inFlight = Volatile.Read(ref _inFlight);
            if (inFlight <= 0) { StopHangTimerIfIdle(); return null; }
            // One request that hangs while nothing else is asked is that card's trouble, not proof
            // of a hung service: its attempt timeout deals with it.
            if (inFlight < 2) return null;
            if (Volatile.Read(ref _down)) return null;
            long now = _time.GetTimestamp();
            long quietSince = Math.Max(Volatile.Read(ref _lastAnswerAt), Volatile.Read(ref _busySince));
            var threshold = HangThreshold;
            if (now - quietSince < Clock.Ticks(_time, threshold)) return null;
            lock (_lock)
            {
                if (_down || Volatile.Read(ref _inFlight) <= 0) return null;
                // Open abandons the hung requests (see there).
                // Down since the last answer (or since requests went out, if later): the hang began
                // then, and a dead service's run ends a budget after that, not after its detection.
                var message = Open(now, string.Format(CultureInfo.InvariantCulture, "no answer for {0:0.#} s to any of {1} requests in flight", threshold.TotalSeconds, Volatile.Read(ref _inFlight)), quietSince);
                _hung = true;
                HangDetected?.Invoke(message);
                return message;
            }
        }

        /// <summary>Raised (on a timer thread) when a hang is declared; the client relays it to -Verbose.</summary>
        public Action<string>? HangDetected { get; set; }


        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
                _hangTimer?.Dispose();
                _hangTimer = null;
            }
        }
    }

}
