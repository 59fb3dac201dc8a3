using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Ahrvo.Client.Diagnostics;

namespace Ahrvo.Client.Bulk
{
    /// <summary>
    /// Runs balance queries concurrently and hands results back in input order, for a caller that
    /// must do all its writing on one thread (a PowerShell pipeline). The caller
    /// <see cref="Add"/>s cards, and between adds takes finished results and diagnostics from this
    /// object on its own thread. At most <see cref="ThrottleLimit"/> requests are in flight and at
    /// most <see cref="WindowSize"/> cards are held (queued, in flight, or finished but waiting for
    /// an earlier card), <see cref="MaxWindowSize"/> while a card waits for its retry, so memory stays
    /// bounded however many cards come in.
    /// </summary>
    /// <remarks>
    /// A card that must wait (a retry's backoff, a 429's Retry-After) is parked: a timer puts it
    /// back, ahead of new cards, when its time comes, and meanwhile its worker goes on with the
    /// next card. So a wait holds no worker, and the window is large enough for the cards behind a
    /// waiting one to keep flowing (see <see cref="WindowSize"/>).
    /// Up to <see cref="ThrottleLimit"/> worker loops take cards from a queue in input order; a
    /// worker that finds the queue empty ends, and <see cref="Add"/> starts one when fewer are
    /// running than allowed. So a card costs no task, semaphore wait or thread-pool hop of its own,
    /// and a worker goes straight from one answer to the next request.
    /// The caller's thread sleeps in <see cref="WaitForChange"/> and is woken only by what it can
    /// act on: the oldest card finishing, a diagnostic message, or cancellation. No lock is shared
    /// by the workers and the caller: on two cores, a woken caller that found a lock held spun for
    /// it, and profiles showed that spinning as a large part of the caller's CPU.
    /// </remarks>
    public sealed class BulkBalanceRun : IDisposable, Resilience.IBacklog
    {
        private const long NotWaiting = -1;
        private const long WaitingForMessagesOnly = long.MaxValue;

        private readonly AhrvoClient _client;
        private readonly Resilience.WorkScheduler _scheduler; // the thread pool, or a test's simulation
        private readonly ConcurrentQueue<BulkItem> _pending = new ConcurrentQueue<BulkItem>();
        // Parked cards whose time has come, oldest card first: they go before new cards.
        private readonly SortedSet<BulkItem> _ready = new SortedSet<BulkItem>(BySequence.Instance);
        private int _readyCount;
        private int _parked; // cards waiting for their retry time
        private readonly long _runStart;
        private readonly Window _window; // caller's thread only
        private readonly ConcurrentQueue<DiagnosticMessage> _messages = new ConcurrentQueue<DiagnosticMessage>();
        // Spin count 0: the caller blocks at once instead of spinning against the workers for the CPU.
        private readonly ManualResetEventSlim _wake = new ManualResetEventSlim(false, 0);
        private readonly CancellationTokenSource _cts;
        private readonly RequestDiagnostics _diagnostics;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _sequence;
        private long _taken;       // written by the caller's thread, read by workers
        private int _gated;        // workers holding back for the caller (see HoldBackAsync)
        private long _signalledAt; // _taken when they were last woken
        private readonly SemaphoreSlim _progress = new SemaphoreSlim(0);
        private readonly int _lead;
        private readonly int _batch; // cards the caller lets finish before it is woken (see WaitForChange)
        private long _latencyTicks = long.MaxValue; // TimeSpan ticks a card takes, on average; MaxValue until known
        private long _waitingFor = NotWaiting; // the card the caller sleeps on
        private int _workers;
        private CancellationToken _registeredToken;
        private CancellationTokenRegistration _registration;
        private BalanceResult? _fatal;
        private long _unsettled;           // cards added and not yet finished
        private volatile bool _inputComplete;
        private readonly IDisposable _tracking;

        public BulkBalanceRun(AhrvoClient client, int throttleLimit, bool verbose, bool debug, CancellationToken cancellationToken = default)
        {
            if (throttleLimit < 1) throw new ArgumentOutOfRangeException(nameof(throttleLimit));
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _scheduler = client.Scheduler;
            ThrottleLimit = throttleLimit;
            // Look-ahead so that a card waiting for its retry (a second's Retry-After, a backoff) does
            // not stop the cards behind it: at 16 workers and 20 ms, about a second and a half of
            // cards. Bounded: a held card is a few hundred bytes (plus the caller's input object),
            // so 1,024 to 4,096 cards are well under a few MB.
            WindowSize = Math.Max(MinWindow, throttleLimit * 64);
            // While a card waits for its retry the window may grow to this: at 1,000 answers a second
            // a Retry-After of one second is a thousand cards behind the waiting one, and a window
            // of 1,024 stopped the run until it came back (the simulation of the real run showed it:
            // random 429s at 5 ms cost 1.5x a run's time). 16,384 cards: 16 s at 1,000/s.
            MaxWindowSize = Math.Max(MaxWindow, WindowSize);
            _window = new Window(WindowSize, MaxWindowSize);
            _lead = throttleLimit + Math.Max(2, throttleLimit / 4);
            _batch = Math.Max(1, throttleLimit / 2);
            _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _runStart = client.BeginRun();
            _tracking = client.TrackBacklog(this);
            _diagnostics = new RequestDiagnostics(verbose, debug, m =>
            {
                _messages.Enqueue(m);
                Interlocked.MemoryBarrier(); // the message is visible before _waitingFor is read
                if (Volatile.Read(ref _waitingFor) != NotWaiting) _wake.Set();
            });
        }

        internal const int MinWindow = 1024;
        internal const int MaxWindow = 16_384;

        public int ThrottleLimit { get; }

        public int WindowSize { get; }

        /// <summary>The most cards held while one waits for its retry (see <see cref="IsFull"/>).</summary>
        public int MaxWindowSize { get; }

        /// <summary>
        /// No room for another card: <see cref="WindowSize"/> cards are held, or
        /// <see cref="MaxWindowSize"/> while a card waits for its retry time (a wait holds no worker,
        /// and the cards behind it keep flowing until it comes back).
        /// </summary>
        public bool IsFull => _window.Count >= (Volatile.Read(ref _parked) > 0 ? MaxWindowSize : WindowSize);
        public bool IsEmpty => _window.Count == 0;
        public long Taken => _taken;
        public long Failed { get; private set; }
        public TimeSpan Elapsed => _clock.Elapsed;

        /// <summary>Times the caller slept in <see cref="WaitForChange"/> and was woken (tests: batching).</summary>
        internal int Wakeups { get; private set; }

        /// <summary>Times a wait ended by its timeout (tests: a lost wake-up shows here); the short batch sleep is not counted.</summary>
        internal int TimedOutWaits { get; private set; }

        /// <summary>The first 401/403 seen by any worker: it concerns every card, so the run stops.</summary>
        public AhrvoError? FatalError => Volatile.Read(ref _fatal)?.Error;

        /// <summary>The card whose answer stopped the run (for the terminating error's target).</summary>
        public string? FatalCardId => Volatile.Read(ref _fatal)?.CardId;

        /// <summary>Starts a card. The caller must not add while <see cref="IsFull"/>: take results first.</summary>
        private long _sendOrder;

        public BulkItem Add(string cardId, object? state = null)
        {
            if (IsFull) throw new InvalidOperationException("The window is full; take finished results before adding more.");
            var item = new BulkItem(_sequence++, cardId, state);
            // Its place among the cards that will send a request (an id refused before sending leaves
            // no gap): the pace's start window admits cards in this order.
            if (Parsing.CardIdRules.Check(cardId) == null) item.SendOrder = _sendOrder++;
            _inputComplete = false;
            Interlocked.Increment(ref _unsettled);
            _window.Enqueue(item);
            _pending.Enqueue(item);
            // On the thread pool, so the caller's (pipeline) thread never runs request code.
            if (TryReserveWorker()) _scheduler.Start(WorkAsync);
            return item;
        }

        private bool TryReserveWorker()
        {
            int workers = Volatile.Read(ref _workers);
            while (workers < ThrottleLimit)
            {
                int seen = Interlocked.CompareExchange(ref _workers, workers + 1, workers);
                if (seen == workers) return true;
                workers = seen;
            }
            return false;
        }

        private async Task WorkAsync()
        {
            var token = _cts.Token;
            while (true)
            {
                while (TryTakeNext(out var item))
                {
                    bool finished = true;
                    BalanceResult? result = null;
                    if (!token.IsCancellationRequested) // once stopped, queued cards are never sent
                    {
                        try
                        {
                            var call = item.Call;
                            if (call == null)
                            {
                                call = item.Call = _client.StartCall(item.CardId, _diagnostics, _runStart, out result);
                                if (call != null) call.Order = item.SendOrder;
                                if (call != null && _scheduler.HoldsBack && Volatile.Read(ref _parked) == 0
                                    && item.Sequence >= Volatile.Read(ref _taken) + _lead && Volatile.Read(ref _latencyTicks) >= HoldBackMinLatencyTicks)
                                    await HoldBackAsync(item.Sequence, token).ConfigureAwait(false);
                            }
                            if (call != null)
                            {
                                if (item.ReadyAt != 0)
                                {
                                    // Its time had come but every worker was busy (waiting for the
                                    // pace or an answer): that wait is the connection's, not the card's.
                                    _client.Requeued(call, item.ReadyAt);
                                    item.ReadyAt = 0;
                                }
                                var step = await _client.StepAsync(call, token).ConfigureAwait(false);
                                result = step.Result;
                                if (result == null)
                                {
                                    finished = false;
                                    Park(item, step.At);
                                }
                                else
                                {
                                    // A rough running average of the time a card takes (races between workers only blur it).
                                    long seen = Volatile.Read(ref _latencyTicks), took = result.Elapsed.Ticks;
                                    Volatile.Write(ref _latencyTicks, seen == long.MaxValue ? took : seen + (took - seen) / 8);
                                    if (result.Error != null && result.Error.AffectsEveryCard && Interlocked.CompareExchange(ref _fatal, result, null) == null)
                                        Cancel(); // no point sending the other cards: they would all get the same answer
                                }
                            }
                        }
                        catch (OperationCanceledException) when (token.IsCancellationRequested)
                        {
                            // Result stays null: the run was stopped, this card was not answered.
                        }
                        catch (ObjectDisposedException) when (token.IsCancellationRequested)
                        {
                            // The connection was closed while the run was stopping.
                        }
                        catch (Exception ex)
                        {
                            // The client reports failures as results; should anything else escape, this
                            // card still gets an answer, or the caller would wait for it for ever.
                            result = BalanceResult.Failed(item.CardId, new AhrvoError(AhrvoErrorKind.ClientFailure,
                                $"Card '{item.CardId}' was not read: this module failed on this machine ({ex.GetType().Name}). Nothing is known to be wrong with the API.",
                                exception: ex) { CardId = item.CardId }, null, TimeSpan.Zero, 0); // its remedy: Remedies' table, as every error's
                        }
                    }
                    if (finished) Complete(item, result);
                }

                // Give the slot back, then look again: a card added (or back from parking) after the
                // last look, while every slot was still taken, started no worker and would otherwise
                // wait for ever.
                Interlocked.Decrement(ref _workers);
                if ((_pending.IsEmpty && Volatile.Read(ref _readyCount) == 0) || !TryReserveWorker()) return;
            }
        }

        /// <summary>A card back from parking goes first (oldest first), then new cards in input order.</summary>
        private bool TryTakeNext(out BulkItem item)
        {
            if (Volatile.Read(ref _readyCount) > 0)
            {
                lock (_ready)
                {
                    if (_ready.Count > 0)
                    {
                        item = _ready.Min!;
                        _ready.Remove(item);
                        _readyCount = _ready.Count;
                        return true;
                    }
                }
            }
            return _pending.TryDequeue(out item!);
        }

        /// <summary>Sets a card aside until its retry time, holding no worker; a timer brings it back.</summary>
        private void Park(BulkItem item, long at)
        {
            Interlocked.Increment(ref _parked);
            // The window may now hold more (IsFull): a caller waiting for room is woken to add.
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _waitingFor) != NotWaiting) _wake.Set();
            _ = ReturnWhenDueAsync(item, at);
        }

        private async Task ReturnWhenDueAsync(BulkItem item, long at)
        {
            try
            {
                await _client.DelayUntilAsync(at, _cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped while waiting: the card goes back all the same and is finished unanswered.
            }
            item.ReadyAt = _client.Now;
            lock (_ready)
            {
                _ready.Add(item);
                _readyCount = _ready.Count;
            }
            Interlocked.Decrement(ref _parked);
            if (TryReserveWorker()) _scheduler.Start(WorkAsync);
        }

        private sealed class BySequence : IComparer<BulkItem>
        {
            public static readonly BySequence Instance = new BySequence();
            public int Compare(BulkItem? x, BulkItem? y) => x!.Sequence.CompareTo(y!.Sequence);
        }

        /// <summary>
        /// Holds a card back while more than ThrottleLimit plus a little of the cards before it are
        /// answered but not yet taken by the caller, for at most a few milliseconds. Against a server
        /// with even latency the workers finish together; without this they would all start the next
        /// card before the caller has written the first answers, so a consumer that stops early
        /// (Select-Object -First 5) would cost two waves of requests instead of one. The time limit
        /// keeps a slow oldest card, which the caller must wait for, from holding everyone back.
        /// </summary>
        private async Task HoldBackAsync(long sequence, CancellationToken token)
        {
            var deadline = Stopwatch.GetTimestamp() + HoldBackTicks;
            Interlocked.Increment(ref _gated);
            try
            {
                while (sequence >= Volatile.Read(ref _taken) + _lead)
                {
                    long left = deadline - Stopwatch.GetTimestamp();
                    if (left <= 0) return;
                    await _progress.WaitAsync(TimeSpan.FromTicks(left * TimeSpan.TicksPerSecond / Stopwatch.Frequency), token).ConfigureAwait(false);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _gated);
            }
        }

        private static readonly long HoldBackTicks = Stopwatch.Frequency * 5 / 1000; // 5 ms

        // Holding back costs the worker a wake-up per card, which only slow cards can afford; they are
        // also the ones where a wasted wave of requests costs time (figures: docs/performance.md).
        private static readonly long HoldBackMinLatencyTicks = TimeSpan.FromMilliseconds(5).Ticks;

        private void Complete(BulkItem item, BalanceResult? result)
        {
            item.Result = result;
            item.IsDone = true;
            Interlocked.Decrement(ref _unsettled);
            // Full fence between this store and the load below, matching the one in WaitForChange:
            // either the caller sees IsDone, or this sees the caller waiting for the card and wakes it.
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _waitingFor) == item.Sequence) _wake.Set();
        }

        /// <summary>Takes the next result in input order if it has finished.</summary>
        public bool TryTake(out BulkItem item)
        {
            if (_window.Count > 0 && _window.Peek().IsDone)
            {
                item = _window.Dequeue();
                Volatile.Write(ref _taken, _taken + 1);
                if (item.Result == null || !item.Result.Success) Failed++;
                return true;
            }
            // The end of a batch: wake the workers holding back, if any (then taking costs nothing extra).
            if (_taken != _signalledAt)
            {
                _signalledAt = _taken;
                int gated = Volatile.Read(ref _gated);
                if (gated > 0) _progress.Release(gated);
            }
            item = null!;
            return false;
        }

        public bool TryTakeMessage(out DiagnosticMessage message) => _messages.TryDequeue(out message);

        /// <summary>
        /// Blocks the calling thread until there is something to take (the oldest card finished, a
        /// message arrived), <paramref name="cancellationToken"/> is cancelled, or the timeout passes.
        /// Does not spin: the caller shares the CPU with the workers. Cancellation throws
        /// OperationCanceledException.
        /// </summary>
        public void WaitForChange(TimeSpan timeout, CancellationToken cancellationToken)
        {
            EnsureWakesOn(cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            // Woken for a batch, not for each card: the caller first sleeps until the card _batch
            // places after the oldest is done, when that one is still running (cards finish roughly
            // in order). A wake-up per card cost a futex wake and two context switches, about a fifth
            // of the CPU a card takes when the server answers at once. That first sleep is short
            // (BatchWait), so a slow card in the batch does not hold back the finished ones before
            // it; then the caller sleeps until the oldest is done. _batch stays below _lead, so the
            // awaited card is never one held back.
            long started = Stopwatch.GetTimestamp();
            if (_window.Count > 0)
            {
                var later = _window[Math.Min(_batch, _window.Count) - 1];
                if (!later.IsDone && later != _window.Peek())
                {
                    bool endless = timeout == Timeout.InfiniteTimeSpan;
                    var first = !endless && timeout < BatchWait ? timeout : BatchWait;
                    if (Sleep(later, first, cancellationToken) != SleepEnd.TimedOut)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        return;
                    }
                }
            }
            var left = timeout == Timeout.InfiniteTimeSpan ? timeout
                : timeout - TimeSpan.FromSeconds((double)(Stopwatch.GetTimestamp() - started) / Stopwatch.Frequency);
            var end = Sleep(_window.Count > 0 ? _window.Peek() : null, left > TimeSpan.Zero || left == Timeout.InfiniteTimeSpan ? left : TimeSpan.Zero, cancellationToken);
            if (end == SleepEnd.TimedOut) TimedOutWaits++;
            cancellationToken.ThrowIfCancellationRequested();
        }

        /// <summary>
        /// The first, short sleep on the card a batch ahead (see <see cref="WaitForChange"/>). Set by
        /// tests only: a long one makes that sleep end only when the card does.
        /// </summary>
        internal TimeSpan BatchWait { get; set; } = TimeSpan.FromMilliseconds(5);

        /// <summary>
        /// Tests only: called on the caller's thread as it goes to sleep (after its last look), with the
        /// sequence of the card it sleeps on, -1 for none (messages only). A card finished from here
        /// wakes it.
        /// </summary>
        internal Action<long>? BeforeSleep { get; set; }

        private enum SleepEnd { Nothing, Woken, TimedOut }

        /// <summary>Sleeps until <paramref name="awaited"/> (null: only a message) is done, news comes, or the timeout.</summary>
        private SleepEnd Sleep(BulkItem? awaited, TimeSpan timeout, CancellationToken cancellationToken)
        {
            _wake.Reset(); // before the checks: a wake-up from now on is not lost
            Volatile.Write(ref _waitingFor, awaited != null ? awaited.Sequence : WaitingForMessagesOnly);
            Interlocked.MemoryBarrier();
            try
            {
                // The awaited card is checked after the fence, matching the one in Complete: either
                // this sees it done, or its worker sees this waiting for it and wakes it.
                if (HasNews() || (awaited != null && awaited.IsDone) || cancellationToken.IsCancellationRequested) return SleepEnd.Nothing;
                BeforeSleep?.Invoke(awaited != null ? awaited.Sequence : -1);
                if (!_wake.Wait(timeout)) return SleepEnd.TimedOut;
                Wakeups++;
                return SleepEnd.Woken;
            }
            finally
            {
                Volatile.Write(ref _waitingFor, NotWaiting);
            }
        }

        // Not the run's own cancellation: after it the cards in flight finish at once (unanswered),
        // and each of those wakes the caller in turn, so it never spins.
        private bool HasNews() => (_window.Count > 0 && _window.Peek().IsDone) || !_messages.IsEmpty;

        private void EnsureWakesOn(CancellationToken token)
        {
            // Registered once per token, not on every wait (a caller passes the same one each time).
            if (!token.CanBeCanceled || token == _registeredToken) return;
            _registration.Dispose();
            _registeredToken = token;
            _registration = token.Register(s => ((ManualResetEventSlim)s!).Set(), _wake);
        }

        /// <summary>
        /// The caller has added every card it has (for now): the pace may then stop probing above the
        /// learned limit when the cards left would take only a few seconds. Adding a card undoes it.
        /// </summary>
        public void InputComplete() => _inputComplete = true;

        bool Resilience.IBacklog.InputComplete => _inputComplete;

        long Resilience.IBacklog.Unsettled => Interlocked.Read(ref _unsettled);

        /// <summary>Stops the run: queued cards are not sent and in-flight requests are cancelled.</summary>
        public void Cancel()
        {
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        }

        public void Dispose()
        {
            // Cancel only: workers may still read the token or set the event for a moment, so
            // neither is disposed here; once cancelled they hold no unmanaged resources.
            Cancel();
            _tracking.Dispose();
            _registration.Dispose();
        }

        /// <summary>Bounded FIFO with indexed access (Queue&lt;T&gt; has none); grows up to its most, only when used.</summary>
        private sealed class Window
        {
            private BulkItem[] _items;
            private readonly int _most;
            private int _head;

            public Window(int capacity, int most)
            {
                _items = new BulkItem[capacity];
                _most = most;
            }

            public int Count { get; private set; }

            public BulkItem this[int index] => _items[(_head + index) % _items.Length];

            public void Enqueue(BulkItem item)
            {
                if (Count == _items.Length)
                {
                    if (Count >= _most) throw new InvalidOperationException("The window is full.");
                    var grown = new BulkItem[Math.Min(_most, _items.Length * 2)];
                    for (int i = 0; i < Count; i++) grown[i] = this[i];
                    _items = grown;
                    _head = 0;
                }
                _items[(_head + Count) % _items.Length] = item;
                Count++;
            }

            public BulkItem Peek() => _items[_head];

            public BulkItem Dequeue()
            {
                var item = _items[_head];
                _items[_head] = null!; // a taken card is not kept alive by the window
                _head = (_head + 1) % _items.Length;
                Count--;
                return item;
            }
        }
    }
}
