using Ahrvo.Client.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace Ahrvo.Client.Tests.Support;

/// <summary>
/// A deterministic discrete-event model of a bulk run against a throttling server, on a fake
/// clock: the client's real pace (<see cref="AdaptiveRateLimiter"/>) and real retry decision
/// (<see cref="RetryDecision.Decide"/>), driven by workers that behave as BulkBalanceRun's do (a
/// card that must wait is parked and its worker takes the next; parked cards come back first, oldest
/// first; a card's budget stands still while it waits for its send slot). The server is a token
/// bucket with a configurable burst, that may start full or empty, with a latency distribution and a
/// share of 429s that come whatever the rate; several clients may share one bucket. One event at a
/// time, no thread, no real time: a run of 15,000 cards takes milliseconds, and a seed replays it exactly.
/// </summary>
public sealed class PacingSimulation
{
    public sealed record Server(double Limit, double Burst, bool StartFull, TimeSpan Latency, double Random429, TimeSpan RetryAfter);

    /// <param name="Unpaced">The yardstick for random 429s: 429s only make their own card wait (the pace never hears of them).</param>
    public sealed record Client(int ThrottleLimit, int Cards, TimeSpan Budget, TimeSpan? StartAt = null, bool Unpaced = false);

    public sealed record Outcome(int Cards, int Answered, int Lost, int Requests, int Throttled, TimeSpan Duration, int SentWithLittleTime, TimeSpan LeastTimeLeft, double SteadyRate, int ThrottledAtStart = 0)
    {
        /// <summary>When the last 429 came, from the run's start (zero: none).</summary>
        public TimeSpan LastThrottled { get; init; }

        public double Rate => Answered / Math.Max(1e-9, Duration.TotalSeconds);
        public override string ToString() =>
            $"{Answered}/{Cards} answered, {Lost} lost, {Requests} requests, {Throttled} throttled ({100.0 * Throttled / Math.Max(1, Cards):0.#} % of cards), {Duration.TotalSeconds:0.00} s, {Rate:0.#}/s ({SteadyRate:0.#}/s from 3 s to 18 s), least time left at a send {LeastTimeLeft.TotalMilliseconds:0} ms";
    }

    public static Action<string>? Trace;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly PriorityQueue<Action, (long, long)> _events = new();
    private readonly Random _random;
    private readonly Server _server;
    private long _order;
    private double _tokens;
    private long _refilledAt;

    public PacingSimulation(Server server, int seed)
    {
        _server = server;
        _random = new Random(seed);
        _seed = seed;
        _tokens = server.StartFull ? server.Burst : 0;
        _refilledAt = _time.GetTimestamp();
    }

    private long Now => _time.GetTimestamp();
    private long Ticks(TimeSpan t) => (long)(t.TotalSeconds * _time.TimestampFrequency);

    private void At(long when, Action action) => _events.Enqueue(action, (Math.Max(when, Now), _order++));

    /// <summary>The server's verdict on a request arriving now.</summary>
    private bool Accept(Card card, int attempt)
    {
        // A random 429 is drawn per card and attempt, not from the shared stream: two clients run on
        // one seed (the pace and its yardstick) meet the same draws, whatever order they send in.
        if (_server.Random429 > 0 && Draw(card.Sequence, attempt) < _server.Random429) return false;
        if (double.IsPositiveInfinity(_server.Limit)) return true;
        long now = Now;
        _tokens = Math.Min(_server.Burst, _tokens + (now - _refilledAt) * _server.Limit / _time.TimestampFrequency);
        _refilledAt = now;
        if (_tokens < 1) return false;
        _tokens--;
        return true;
    }

    private readonly int _seed;

    private double Draw(int card, int attempt)
    {
        ulong x = (ulong)(uint)_seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)card * 0xC2B2AE3D27D4EB4FUL ^ (ulong)(uint)attempt * 0x165667B19E3779F9UL;
        x ^= x >> 33; x *= 0xFF51AFD7ED558CCDUL; x ^= x >> 33; x *= 0xC4CEB9FE1A85EC53UL; x ^= x >> 33; // splitmix/murmur finaliser
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    private TimeSpan Latency() => TimeSpan.FromTicks((long)(_server.Latency.Ticks * (0.5 + _random.NextDouble())));

    /// <summary>Runs the clients (each its own pace, as separate processes would have) until every card is settled.</summary>
    public Outcome[] Run(params Client[] clients)
    {
        var runs = clients.Select(c => new ClientRun(this, c)).ToArray();
        foreach (var r in runs) At(Now + Ticks(r.Spec.StartAt ?? TimeSpan.Zero), r.Start);
        long limit = Now + Ticks(TimeSpan.FromHours(2));
        while (_events.TryDequeue(out var action, out var key))
        {
            if (key.Item1 > limit) throw new TimeoutException("The simulated run did not end in two hours.");
            if (key.Item1 > Now) _time.Advance(TimeSpan.FromTicks((long)((key.Item1 - Now) * (double)TimeSpan.TicksPerSecond / _time.TimestampFrequency)));
            action();
        }
        return runs.Select(r => r.Result()).ToArray();
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

    private sealed class ClientRun(PacingSimulation sim, Client spec) : IBacklog
    {
        // As BulkBalanceRun: every card is known from the start; those not yet settled are the backlog.
        bool IBacklog.InputComplete => true;
        long IBacklog.Unsettled => _cards.Count - _settled;
        private int _settled;

        public readonly Client Spec = spec;
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
            if (_cards.Any(c => !c.Done)) sim.At(sim.Now + sim.Ticks(TimeSpan.FromSeconds(1)), Tick);
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
            var pause = _pacer.Reserve(out _, out long ticket, out long schedule, out _, card.Sequence);
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
            sim.At(sim.Now + sim.Ticks(inbound), () => ok = sim.Accept(card, attempt));
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
}
