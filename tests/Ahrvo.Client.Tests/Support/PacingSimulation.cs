using Ahrvo.Client.Resilience;
using System.Net.Http;

namespace Ahrvo.Client.Tests.Support;

/// <summary>
/// A deterministic discrete-event simulation of bulk runs against a throttling server, on a fake
/// clock: the real <see cref="AhrvoClient"/> and <see cref="Ahrvo.Client.Bulk.BulkBalanceRun"/>, fed and emptied
/// as a cmdlet does, their requests answered in memory (<see cref="RealRun"/>). The server is a token
/// bucket with a configurable burst, that may start full or empty, with a latency distribution and a
/// share of 429s that come whatever the rate; several clients may share one bucket. One event at a
/// time on the test's thread, no real time: every timer, worker loop, signal and random draw of the
/// client runs on this loop through its <see cref="WorkScheduler"/> seam, so a seed replays a run
/// exactly. Anything that slipped off the loop (a continuation on the thread pool) fails the run.
/// </summary>
/// <remarks>
/// <see cref="Client.Model"/> selects instead a model of the same workers around the real pace and
/// retry decision (<see cref="ClientRun"/>): the yardstick for random 429s, whose pace never hears of
/// them, has no counterpart in the real client.
/// </remarks>
public sealed class PacingSimulation
{
    public sealed record Server(double Limit, double Burst, bool StartFull, TimeSpan Latency, double Random429, TimeSpan RetryAfter)
    {
        /// <summary>Answers 429 to these (card, attempt from 0) whatever the rate.</summary>
        public Func<int, int, bool>? Refuse { get; init; }

        /// <summary>Windows in which a gateway in front of the API fails every request that arrives (real runs only).</summary>
        public IReadOnlyList<Fault> Faults { get; init; } = Array.Empty<Fault>();

        /// <summary>A 429 comes back at once from the limiter, without the API's time (as a gateway's, and the emulator's, do; real runs only).</summary>
        public bool Quick429 { get; init; }

        /// <summary>
        /// A fixed-window limiter instead of the token bucket (as many gateways count): at most
        /// <see cref="Limit"/> requests in each window of this length, counted from the simulation's
        /// start plus <see cref="WindowOffset"/>; a refused request does not count.
        /// </summary>
        public TimeSpan? FixedWindow { get; init; }
        public TimeSpan WindowOffset { get; init; }

        /// <summary>With <see cref="FixedWindow"/>: the window slides (at most the limit's worth of accepted requests in any such span before now).</summary>
        public bool Sliding { get; init; }
    }

    /// <summary>
    /// From <paramref name="From"/> (since the simulation began) for <paramref name="For"/>, every
    /// request that arrives is answered <paramref name="Kind"/>: a status code ("503" with the API's
    /// JSON, "522" with no body, "530" or any other with a CDN's HTML page), "reset" (the connection
    /// drops) or "hang" (no answer ever: only the client's timeout or hang check ends it).
    /// </summary>
    public sealed record Fault(string Kind, TimeSpan From, TimeSpan For)
    {
        public static readonly string[] Kinds = { "503", "522", "530", "reset", "hang" };
    }

    /// <param name="Unpaced">The yardstick for random 429s: 429s only make their own card wait (the pace never hears of them); a model run.</param>
    /// <param name="Model">The model of the bulk run's workers around the real pace, instead of the real client and run.</param>
    public sealed record Client(int ThrottleLimit, int Cards, TimeSpan Budget, TimeSpan? StartAt = null, bool Unpaced = false, bool Model = false);

    public sealed record Outcome(int Cards, int Answered, int Lost, int Requests, int Throttled, TimeSpan Duration, int SentWithLittleTime, TimeSpan LeastTimeLeft, double SteadyRate, int ThrottledAtStart = 0)
    {
        /// <summary>When the last 429 came, from the run's start (zero: none).</summary>
        public TimeSpan LastThrottled { get; init; }

        /// <summary>The first card that got no balance, and why (real runs).</summary>
        public string? FirstLost { get; init; }

        /// <summary>Requests that arrived while a fault window was open (real runs).</summary>
        public int Faulted { get; init; }

        /// <summary>Results taken out of input order (real runs: each card is taken once, so none means every card once, in order).</summary>
        public int OutOfOrder { get; init; }

        /// <summary>The cards without a balance by error kind (real runs).</summary>
        public IReadOnlyDictionary<string, int> Errors { get; init; } = new Dictionary<string, int>();

        public double Rate => Answered / Math.Max(1e-9, Duration.TotalSeconds);
        public override string ToString() => (FirstLost == null ? "" : $"first lost {FirstLost}; ") + (Faulted > 0 ? $"{Faulted} requests in a fault window; " : "") +
            $"{Answered}/{Cards} answered, {Lost} lost, {Requests} requests, {Throttled} throttled ({100.0 * Throttled / Math.Max(1, Cards):0.#} % of cards), {Duration.TotalSeconds:0.00} s, {Rate:0.#}/s ({SteadyRate:0.#}/s from 3 s to 18 s), least time left at a send {LeastTimeLeft.TotalMilliseconds:0} ms";
    }

    /// <summary>For a test being debugged (not thread-safe): each run's pace and answers every <see cref="TickEvery"/>, its pace and retry messages, and with <see cref="TraceSends"/> every request.</summary>
    public static Action<string>? Trace;
    public static TimeSpan TickEvery = TimeSpan.FromSeconds(1);
    public static bool TraceSends;

    private readonly SimClock _time;
    private readonly PriorityQueue<Action, (long, long)> _events = new();
    private readonly Loop _scheduler;
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private string? _offLoop; // where the first piece of work that ran off the loop came from
    private readonly Random _random;
    private readonly Server _server;
    private long _order;
    private double _tokens;
    private long _window = -1;
    private readonly Queue<long> _accepted = new();
    private int _inWindow;
    private long _refilledAt;

    public PacingSimulation(Server server, int seed)
    {
        _server = server;
        _time = new SimClock(this);
        _scheduler = new Loop(this);
        _random = new Random(seed);
        _seed = seed;
        _tokens = server.StartFull ? server.Burst : 0;
        _refilledAt = _time.GetTimestamp();
        _began = _refilledAt;
    }

    private long Now => _time.Timestamp;
    private long Ticks(TimeSpan t) => (long)(t.TotalSeconds * _time.TimestampFrequency);

    private void At(long when, Action action) => _events.Enqueue(action, (Math.Max(when, Now), _order++));

    /// <summary>The server's verdict on a request arriving now.</summary>
    private bool Accept(int card, int attempt)
    {
        // A random 429 is drawn per card and attempt, not from the shared stream: two clients run on
        // one seed (the pace and its yardstick) meet the same draws, whatever order they send in.
        if (_server.Random429 > 0 && Draw(card, attempt) < _server.Random429) return false;
        if (_server.Refuse != null && _server.Refuse(card, attempt)) return false;
        if (double.IsPositiveInfinity(_server.Limit)) return true;
        long now = Now;
        if (_server.FixedWindow is { } span && _server.Sliding)
        {
            while (_accepted.Count > 0 && _accepted.Peek() <= now - Ticks(span)) _accepted.Dequeue();
            if (_accepted.Count >= _server.Limit * span.TotalSeconds) return false;
            _accepted.Enqueue(now);
            return true;
        }
        if (_server.FixedWindow is { } window)
        {
            long w = (now - _began + Ticks(_server.WindowOffset)) / Ticks(window);
            if (w != _window) { _window = w; _inWindow = 0; }
            if (_inWindow >= _server.Limit * window.TotalSeconds) return false;
            _inWindow++;
            return true;
        }
        _tokens = Math.Min(_server.Burst, _tokens + (now - _refilledAt) * _server.Limit / _time.TimestampFrequency);
        _refilledAt = now;
        if (_tokens < 1) return false;
        _tokens--;
        return true;
    }

    private readonly int _seed;
    private readonly long _began;

    /// <summary>The fault a request arriving now meets, if a window is open.</summary>
    private string? FaultNow()
    {
        foreach (var f in _server.Faults)
        {
            long from = _began + Ticks(f.From);
            if (Now >= from && Now < from + Ticks(f.For)) return f.Kind;
        }
        return null;
    }

    private double Draw(int card, int attempt)
    {
        ulong x = (ulong)(uint)_seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)card * 0xC2B2AE3D27D4EB4FUL ^ (ulong)(uint)attempt * 0x165667B19E3779F9UL;
        x ^= x >> 33; x *= 0xFF51AFD7ED558CCDUL; x ^= x >> 33; x *= 0xC4CEB9FE1A85EC53UL; x ^= x >> 33; // splitmix/murmur finaliser
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    private TimeSpan Latency() => TimeSpan.FromTicks((long)(_server.Latency.Ticks * (0.5 + _random.NextDouble())));

    /// <summary>Runs the clients (each its own connection and pace, as separate processes would have) until every card is settled.</summary>
    public Outcome[] Run(params Client[] clients)
    {
        if (Environment.CurrentManagedThreadId != _thread) throw new InvalidOperationException("Run on the thread that created the simulation.");
        if (_server.Faults.Count > 0 && clients.Any(c => c.Model || c.Unpaced)) throw new NotSupportedException("Fault windows are simulated for the real client only.");
        var runs = clients.Select((c, i) => c.Model || c.Unpaced ? (IRun)new ClientRun(this, c) : new RealRun(this, c) { Label = clients.Length > 1 ? $"[{i + 1}] " : "" }).ToArray();
        foreach (var r in runs) At(Now + Ticks(r.Spec.StartAt ?? TimeSpan.Zero), r.Start);
        long limit = Now + Ticks(TimeSpan.FromHours(2));
        // No synchronization context (xunit sets one): a continuation then runs inline where its task
        // completes, on this loop, instead of being posted (to the thread pool).
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            while (!runs.All(r => r.Done))
            {
                if (!_events.TryDequeue(out var action, out var key))
                    throw new InvalidOperationException("The run stalled: cards are unfinished and nothing is left to happen (a lost wake-up). " + string.Join("; ", runs.Select(r => r.Result())));
                if (key.Item1 > limit) throw new TimeoutException("The simulated run did not end in two hours. " + string.Join("; ", runs.Select(r => r.Result())) + (_offLoop != null ? "\nOff the loop: " + _offLoop : ""));
                if (key.Item1 > Now) _time.Timestamp = key.Item1;
                action();
                foreach (var r in runs) r.AfterEvent();
                if (_offLoop != null) throw new InvalidOperationException("Client work ran off the simulation's loop (the thread pool?), so the run is not deterministic:\n" + _offLoop);
            }
        }
        finally
        {
            foreach (var r in runs) r.Dispose();
            SynchronizationContext.SetSynchronizationContext(context);
        }
        return runs.Select(r => r.Result()).ToArray();
    }

    private void OnLoop()
    {
        if (Environment.CurrentManagedThreadId != _thread && _offLoop == null) _offLoop = Environment.StackTrace;
    }

    private interface IRun : IDisposable
    {
        Client Spec { get; }
        void Start();
        bool Done { get; }
        /// <summary>After each event: as a cmdlet, take what finished and add what fits.</summary>
        void AfterEvent();
        Outcome Result();
    }

    /// <summary>The simulation's clock: its timers are events on the loop.</summary>
    private sealed class SimClock(PacingSimulation sim) : TimeProvider
    {
        private static readonly DateTimeOffset Origin = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public long Timestamp = Origin.UtcTicks; // never zero, as a real Stopwatch timestamp

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() { sim.OnLoop(); return Timestamp; }
        public override DateTimeOffset GetUtcNow() { sim.OnLoop(); return new DateTimeOffset(Timestamp, TimeSpan.Zero); }
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            sim.OnLoop();
            var t = new SimTimer(sim, callback, state);
            t.Change(dueTime, period);
            return t;
        }
    }

    private sealed class SimTimer(PacingSimulation sim, TimerCallback callback, object? state) : ITimer
    {
        private long _version; // an event for an older version was voided by Change or Dispose
        private bool _disposed;
        private long _period;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            sim.OnLoop();
            if (_disposed) return false;
            long version = ++_version;
            if (dueTime == Timeout.InfiniteTimeSpan) return true;
            // As System.Threading.Timer: a zero or infinite period fires once.
            _period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : period.Ticks;
            Arm(sim.Now + Math.Max(0, dueTime.Ticks), version);
            return true;
        }

        private void Arm(long due, long version) => sim.At(due, () =>
        {
            if (_disposed || version != _version) return;
            if (_period > 0) Arm(sim.Now + _period, version);
            callback(state);
        });

        public void Dispose() { _disposed = true; _version++; }

        public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
    }

    /// <summary>The client's scheduler in the simulation: worker loops and signals run as events on the loop, in order.</summary>
    private sealed class Loop(PacingSimulation sim) : WorkScheduler
    {
        public override void Start(Func<Task> work) { sim.OnLoop(); sim.At(sim.Now, () => _ = work()); }

        // Continuations run where the signal is fired: on the loop, from an event of their own (the
        // firing code holds a lock, as in production where they go to the thread pool).
        public override TaskCompletionSource<bool> NewSignal() => new();

        public override void Fire(TaskCompletionSource<bool> signal) { sim.OnLoop(); sim.At(sim.Now, () => signal.TrySetResult(true)); }

        public override double NextDouble() { sim.OnLoop(); return sim._random.NextDouble(); }

        public override bool HoldsBack => false;
    }

    private sealed class Card(int sequence)
    {
        public readonly int Sequence = sequence;
        public long Deadline;
        public bool Started;
        public int Throttles;
        public int Attempts;
        public long ReadyAt;
        public bool Done, Lost;
    }

    /// <summary>The model: the real pace and retry decision, inside a copy of the bulk run's worker loop.</summary>
    private sealed class ClientRun(PacingSimulation sim, Client spec) : IBacklog, IRun
    {
        public bool Done => _cards.Count > 0 && _settled == _cards.Count;
        public void AfterEvent() { }
        public void Dispose() { }

        // As BulkBalanceRun: every card is known from the start; those not yet settled are the backlog.
        bool IBacklog.InputComplete => true;
        long IBacklog.Unsettled => _cards.Count - _settled;
        private int _settled;

        public Client Spec { get; } = spec;
        private readonly AdaptiveRateLimiter _pacer = new(sim._time, null, slowStart: true); // as the client's
        private readonly SortedSet<int> _ready = new();
        private readonly List<Card> _cards = new();
        private int _next, _idle, _requests, _throttled, _little, _throttledAtStart;
        private long _start, _end, _lastThrottled;
        private TimeSpan _least = TimeSpan.MaxValue;
        private readonly List<long> _answeredAt = new();
        private static readonly TimeSpan LittleTime = TimeSpan.FromMilliseconds(100);

        public void Start()
        {
            _start = sim.Now;
            for (int i = 0; i < Spec.Cards; i++) _cards.Add(new Card(i));
            _pacer.Track(this);
            _idle = Spec.ThrottleLimit;
            if (Trace != null) Tick();
            Dispatch();
        }

        private int _lastAnswered;
        private double? _traced;

        private void Tick()
        {
            int answered = _answeredAt.Count;
            Trace?.Invoke($"{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.0}: pace {_pacer.CurrentRate:0.#}, answered {answered - _lastAnswered} in the last second, throttled so far {_throttled}, floor {_pacer.NoiseFloor:0.###}");
            _lastAnswered = answered;
            if (_cards.Any(c => !c.Done)) sim.At(sim.Now + sim.Ticks(TickEvery), Tick);
        }

        // Idle workers take parked cards whose time has come (oldest first), then new ones.
        private void Dispatch()
        {
            while (_idle > 0)
            {
                Card card;
                if (_ready.Count > 0)
                {
                    card = _cards[_ready.Min];
                    _ready.Remove(card.Sequence);
                    card.Deadline += sim.Now - card.ReadyAt; // as BulkBalanceRun: waiting for a busy worker is the pace's wait
                }
                else if (_next < _cards.Count) card = _cards[_next++];
                else return;
                _idle--;
                Step(card);
            }
        }

        private void Step(Card card)
        {
            if (!card.Started)
            {
                card.Started = true;
                card.Deadline = sim.Now + sim.Ticks(Spec.Budget);
            }
            Reserve(card);
        }

        private readonly List<Action> _waiting = new(); // cards waiting for their slot, woken when slots are respaced
        private long _schedule = -1;

        private void Reserve(Card card)
        {
            var pause = _pacer.Reserve(out var paceMessage, out long ticket, out long schedule, out _, card.Sequence);
            if (paceMessage != null) Trace?.Invoke($"{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.000}: {paceMessage}");
            Respaced(schedule);
            if (pause <= TimeSpan.Zero) { Send(card, ticket); return; }
            long waitFrom = sim.Now, slotAt = sim.Now + sim.Ticks(pause);
            bool done = false;
            void Wake()
            {
                if (done) return;
                _pacer.Refresh();
                Respaced(_pacer.Schedule);
                if (done) return;
                if (_pacer.Schedule == schedule && sim.Now < slotAt) { sim.At(Math.Min(slotAt, sim.Now + sim.Ticks(TimeSpan.FromSeconds(1))), Wake); return; }
                done = true;
                card.Deadline += sim.Now - waitFrom; // the budget stands still while the card waits for its slot
                if (_pacer.Schedule != schedule) Reserve(card);
                else Send(card, ticket);
            }
            _waiting.Add(Wake);
            sim.At(Math.Min(slotAt, sim.Now + sim.Ticks(TimeSpan.FromSeconds(1))), Wake);
        }

        // As the client's waiters on Rescheduled: every card waiting for a slot reserves again.
        private void Respaced(long schedule)
        {
            if (schedule == _schedule) return;
            _schedule = schedule;
            var woken = _waiting.ToArray();
            _waiting.Clear();
            foreach (var w in woken) sim.At(sim.Now, w);
        }

        private void Send(Card card, long ticket)
        {
            if (card.Throttles > 0 && card.Deadline - sim.Now < sim.Ticks(LittleTime)) { Finish(card, lost: true); return; } // as the client: no send without time to answer
            var left = TimeSpan.FromTicks((long)((card.Deadline - sim.Now) * (double)TimeSpan.TicksPerSecond / sim._time.TimestampFrequency));
            if (left < _least) _least = left;
            if (left < LittleTime) _little++;
            _requests++;
            // The request reaches the server's limiter after a fixed half of the base latency (requests
            // sent evenly arrive evenly); the rest of the time, processing and the way back, varies.
            var inbound = sim._server.Latency / 2;
            var latency = inbound + sim.Latency() / 2;
            bool ok = false;
            int attempt = card.Attempts++;
            if (TraceSends) Trace?.Invoke($"{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.0000}: send card{card.Sequence} #{attempt}");
            sim.At(sim.Now + sim.Ticks(inbound), () => { ok = sim.Accept(card.Sequence, attempt); if (TraceSends) Trace?.Invoke($"{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.0000}: arrive card{card.Sequence} #{attempt} {ok}"); });
            sim.At(sim.Now + sim.Ticks(latency), () => Answered(card, ticket, ok));
        }

        private void Answered(Card card, long ticket, bool ok)
        {
            if (ok)
            {
                _pacer.OnAnswer(ticket);
                if (Trace != null) { var r = _pacer.CurrentRate; if (r != _traced) { _traced = r; } }
                Finish(card, lost: false);
                return;
            }
            _throttled++;
            _lastThrottled = sim.Now;
            if (sim.Now - _start < 3 * sim._time.TimestampFrequency) _throttledAtStart++;
            var m = Spec.Unpaced ? null : _pacer.OnThrottled(ticket);
            if (m != null) Trace?.Invoke($"{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.000}: {m}");
            card.Throttles++;
            var d = RetryDecision.Decide(true, sim._server.RetryAfter, card.Throttles, 0, false, sim.Now, card.Deadline,
                sim.Ticks(LittleTime), sim._time.TimestampFrequency, 3, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), sim._random.NextDouble());
            if (d.Step == NextStep.Finish) { Finish(card, lost: true); return; }
            _idle++;
            sim.At(d.At, () => { card.ReadyAt = sim.Now; _ready.Add(card.Sequence); Dispatch(); });
            Dispatch();
        }

        private void Finish(Card card, bool lost)
        {
            card.Done = true;
            card.Lost = lost;
            _settled++;
            if (!lost) _answeredAt.Add(sim.Now - _start);
            _end = Math.Max(_end, sim.Now);
            _idle++;
            Dispatch();
        }

        public Outcome Result() => new(_cards.Count, _cards.Count(c => c.Done && !c.Lost), _cards.Count(c => !c.Done || c.Lost),
            _requests, _throttled, TimeSpan.FromSeconds((_end - _start) / (double)sim._time.TimestampFrequency), _little, _least,
            _answeredAt.Count(t => t >= 3 * sim._time.TimestampFrequency && t < 18 * sim._time.TimestampFrequency) / 15.0, _throttledAtStart)
        {
            LastThrottled = _throttled == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((_lastThrottled - _start) / (double)sim._time.TimestampFrequency),
        };
    }

    /// <summary>
    /// The real client and bulk run, driven as a cmdlet drives them (add while there is room, take
    /// what finished in order, tell the run when the input is complete), with requests answered by
    /// the simulated server.
    /// </summary>
    private sealed class RealRun(PacingSimulation sim, Client spec) : HttpMessageHandler, IRun
    {
        public Client Spec { get; } = spec;
        /// <summary>Names the client in traces when several run.</summary>
        public string Label { get; init; } = "";
        private static readonly TimeSpan LittleTime = TimeSpan.FromMilliseconds(100);
        private AhrvoClient? _client;
        private Ahrvo.Client.Bulk.BulkBalanceRun? _run;
        private int[] _attempts = Array.Empty<int>();
        private int _added, _taken, _answered, _lost, _requests, _throttled, _little, _throttledAtStart, _faulted;
        private long _start, _end, _lastThrottled;
        private TimeSpan _least = TimeSpan.MaxValue;
        private readonly List<long> _answeredAt = new();
        private string? _firstLost;

        public bool Done => _run != null && _taken == Spec.Cards;
        private int _outOfOrder;
        private readonly Dictionary<string, int> _errors = new();

        public void Start()
        {
            _start = sim.Now;
            _attempts = new int[Spec.Cards];
            var handler = this;
            _client = InMemoryClient.Create(handler, sim._time, o =>
            {
                o.TotalTimeout = Spec.Budget;
                o.Scheduler = sim._scheduler;
            });
            _client.SentObserver = (_, left) =>
            {
                if (left < _least) _least = left;
                if (left < LittleTime) _little++;
            };
            _run = new Ahrvo.Client.Bulk.BulkBalanceRun(_client, Spec.ThrottleLimit, verbose: Trace != null, debug: false);
            AfterEvent();
            if (Trace != null) Tick();
        }

        private int _lastAnswered;

        private void Tick()
        {
            Trace?.Invoke($"{Label}{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.0}: pace {_client!.PacedRequestsPerSecond:0.#}, answered {_answeredAt.Count - _lastAnswered} in the last second, throttled so far {_throttled}, taken {_taken}");
            _lastAnswered = _answeredAt.Count;
            if (!Done) sim.At(sim.Now + sim.Ticks(TickEvery), Tick);
        }

        public void AfterEvent()
        {
            if (_run == null) return;
            while (_run.TryTake(out var item))
            {
                if (item.CardId != "card" + _taken) _outOfOrder++;
                _taken++;
                _end = sim.Now;
                if (item.Result is { Success: true }) _answered++;
                else
                {
                    _lost++;
                    _firstLost ??= $"{item.CardId}: {item.Result?.Error?.Message ?? "no result"}";
                    string kind = item.Result?.Error?.Kind.ToString() ?? "none";
                    _errors[kind] = _errors.GetValueOrDefault(kind) + 1;
                }
            }
            while (_run.TryTakeMessage(out var m)) Trace?.Invoke($"{Label}{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.000}: {m.Text}");
            bool added = false;
            while (_added < Spec.Cards && !_run.IsFull) { _run.Add("card" + _added++); added = true; }
            if (added && _added == Spec.Cards) _run.InputComplete();
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            sim.OnLoop();
            var query = request.RequestUri!.Query;
            int card = int.Parse(query.AsSpan(query.IndexOf("card_id=card", StringComparison.Ordinal) + "card_id=card".Length), provider: System.Globalization.CultureInfo.InvariantCulture);
            int attempt = _attempts[card]++;
            _requests++;
            if (TraceSends) Trace?.Invoke($"{Label}{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.0000}: send card{card} #{attempt}");
            // As the model: the request reaches the server's limiter after a fixed half of the base
            // latency (requests sent evenly arrive evenly); the rest of the time varies.
            var inbound = sim._server.Latency / 2;
            var latency = inbound + sim.Latency() / 2;
            bool ok = false;
            string? fault = null;
            var answer = new TaskCompletionSource<HttpResponseMessage>();
            var stop = cancellationToken.Register(() => answer.TrySetCanceled(cancellationToken));
            Action answerIt = null!;
            long sentAt = sim.Now;
            sim.At(sim.Now + sim.Ticks(inbound), () =>
            {
                // A failing gateway answers before the API's limiter sees the request.
                fault = sim.FaultNow();
                if (fault != null) _faulted++;
                else ok = sim.Accept(card, attempt);
                if (TraceSends) Trace?.Invoke($"{Label}{(sim.Now - _start) / (double)sim._time.TimestampFrequency:0.0000}: arrive card{card} #{attempt} {fault ?? ok.ToString()}");
                if (sim._server.Quick429 && fault == null && !ok) sim.At(sim.Now + sim.Ticks(inbound / 10), answerIt);
                else sim.At(sentAt + sim.Ticks(latency), answerIt);
            });
            answerIt = () =>
            {
                if (fault == "hang") return; // never answered: the client's timeout or hang check cancels it
                stop.Dispose();
                if (answer.Task.IsCompleted) return; // given up by the client
                if (fault != null)
                {
                    if (fault == "reset") answer.TrySetException(new HttpRequestException("An error occurred while sending the request.", new IOException("Unable to read data from the transport connection: Connection reset by peer.")));
                    else answer.TrySetResult(FaultAnswer(fault));
                    return;
                }
                if (ok)
                {
                    _answeredAt.Add(sim.Now - _start);
                    answer.TrySetResult(ScriptedHandler.Balance("card" + card));
                    return;
                }
                _throttled++;
                _lastThrottled = sim.Now;
                if (sim.Now - _start < 3 * sim._time.TimestampFrequency) _throttledAtStart++;
                answer.TrySetResult(ScriptedHandler.Status(429, (int)Math.Ceiling(sim._server.RetryAfter.TotalSeconds)));
            };
            return answer.Task;
        }

        private static HttpResponseMessage FaultAnswer(string status) => status switch
        {
            "503" => ScriptedHandler.Status(503),
            "522" => new HttpResponseMessage((System.Net.HttpStatusCode)522),
            _ => ScriptedHandler.Json(int.Parse(status, System.Globalization.CultureInfo.InvariantCulture), "<!DOCTYPE html><html><head><title>Error</title></head><body>The web server reported an error.</body></html>", "text/html"),
        };

        public Outcome Result() => new(Spec.Cards, _answered, Spec.Cards - _answered, _requests, _throttled,
            TimeSpan.FromSeconds((_end - _start) / (double)sim._time.TimestampFrequency), _little, _least,
            _answeredAt.Count(t => t >= 3 * sim._time.TimestampFrequency && t < 18 * sim._time.TimestampFrequency) / 15.0, _throttledAtStart)
        {
            LastThrottled = _throttled == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((_lastThrottled - _start) / (double)sim._time.TimestampFrequency),
            FirstLost = _firstLost,
            Faulted = _faulted,
            OutOfOrder = _outOfOrder,
            Errors = _errors,
        };

        void IDisposable.Dispose()
        {
            _run?.Dispose();
            _client?.Dispose();
        }
    }
}
