using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Ahrvo.Client.Diagnostics;

namespace Ahrvo.Client.Bulk
{
    /// <summary>One card handed to a run, with the caller's own data (an amount, an expected balance).</summary>
    public sealed class BulkItem
    {
        internal BulkItem(long sequence, string cardId, object? state)
        {
            Sequence = sequence;
            CardId = cardId;
            State = state;
        }

        public long Sequence { get; }
        public string CardId { get; }
        public object? State { get; }

        /// <summary>Null when the run was cancelled before this card got an answer.</summary>
        public BalanceResult? Result { get; internal set; }

        internal Task Completion { get; set; } = Task.CompletedTask;
    }

    /// <summary>
    /// Runs balance queries concurrently and hands results back in input order, for a caller that
    /// must do all its writing on one thread (a PowerShell pipeline). The caller
    /// <see cref="Add"/>s cards, and between adds takes finished results and diagnostics from this
    /// object on its own thread. At most <see cref="ThrottleLimit"/> requests are in flight and at
    /// most <see cref="WindowSize"/> cards are held (in flight or finished but waiting for an
    /// earlier card), so memory stays bounded however many cards come in.
    /// </summary>
    public sealed class BulkBalanceRun : IDisposable
    {
        private readonly AhrvoClient _client;
        private readonly SemaphoreSlim _throttle;
        private readonly SemaphoreSlim _signal = new SemaphoreSlim(0);
        private readonly Queue<BulkItem> _window = new Queue<BulkItem>();
        private readonly ConcurrentQueue<DiagnosticMessage> _messages = new ConcurrentQueue<DiagnosticMessage>();
        private readonly CancellationTokenSource _cts;
        private readonly RequestDiagnostics _diagnostics;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _sequence;
        private int _inFlight;
        private AhrvoError? _fatal;

        public BulkBalanceRun(AhrvoClient client, int throttleLimit, bool verbose, bool debug, CancellationToken cancellationToken = default)
        {
            if (throttleLimit < 1) throw new ArgumentOutOfRangeException(nameof(throttleLimit));
            _client = client ?? throw new ArgumentNullException(nameof(client));
            ThrottleLimit = throttleLimit;
            // Enough look-ahead that one slow card does not idle the other workers, yet bounded.
            WindowSize = Math.Max(16, throttleLimit * 4);
            _throttle = new SemaphoreSlim(throttleLimit, throttleLimit);
            _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _diagnostics = new RequestDiagnostics(verbose, debug, m => { _messages.Enqueue(m); _signal.Release(); });
        }

        public int ThrottleLimit { get; }
        public int WindowSize { get; }
        public bool IsFull => _window.Count >= WindowSize;
        public bool IsEmpty => _window.Count == 0;
        public long Added => _sequence;
        public long Taken { get; private set; }
        public long Failed { get; private set; }
        public TimeSpan Elapsed => _clock.Elapsed;
        public int InFlight => Volatile.Read(ref _inFlight);

        /// <summary>The first 401/403 seen by any worker: it concerns every card, so the run stops.</summary>
        public AhrvoError? FatalError => Volatile.Read(ref _fatal);

        public CancellationToken CancellationToken => _cts.Token;

        /// <summary>Starts a card. The caller must not add while <see cref="IsFull"/>: take results first.</summary>
        public BulkItem Add(string cardId, object? state = null)
        {
            if (IsFull) throw new InvalidOperationException("The window is full; take finished results before adding more.");
            var item = new BulkItem(_sequence++, cardId, state);
            item.Completion = RunAsync(item);
            _window.Enqueue(item);
            return item;
        }

        private async Task RunAsync(BulkItem item)
        {
            // Yield first so Add returns at once and the pipeline thread never runs request code.
            await Task.Yield();
            var token = _cts.Token;
            bool acquired = false;
            try
            {
                await _throttle.WaitAsync(token).ConfigureAwait(false);
                acquired = true;
                Interlocked.Increment(ref _inFlight);
                var result = await _client.GetBalanceAsync(item.CardId, _diagnostics, token).ConfigureAwait(false);
                item.Result = result;
                if (result.Error != null && result.Error.AffectsEveryCard && Interlocked.CompareExchange(ref _fatal, result.Error, null) == null)
                    _cts.Cancel(); // no point sending the other cards: they would all get the same answer
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Result stays null: the run was stopped, this card was not answered.
            }
            finally
            {
                if (acquired)
                {
                    Interlocked.Decrement(ref _inFlight);
                    _throttle.Release();
                }
                _signal.Release();
            }
        }

        /// <summary>Takes the next result in input order if it has finished.</summary>
        public bool TryTake(out BulkItem item)
        {
            if (_window.Count > 0 && _window.Peek().Completion.IsCompleted)
            {
                item = _window.Dequeue();
                Taken++;
                if (item.Result == null || !item.Result.Success) Failed++;
                return true;
            }
            item = null!;
            return false;
        }

        public bool TryTakeMessage(out DiagnosticMessage message) => _messages.TryDequeue(out message);

        /// <summary>
        /// Blocks the calling thread until something may have changed (a card finished, a message
        /// arrived) or the timeout passes. Cancellation throws OperationCanceledException.
        /// </summary>
        public void WaitForChange(TimeSpan timeout, CancellationToken cancellationToken)
        {
            _signal.Wait(timeout, cancellationToken);
        }

        /// <summary>Stops the run: queued cards are not sent and in-flight requests are cancelled.</summary>
        public void Cancel()
        {
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        }

        public void Dispose()
        {
            // Cancel only: workers may still read the token or release the semaphores for a moment,
            // so none of them is disposed here; they hold no unmanaged resources.
            Cancel();
        }
    }
}
