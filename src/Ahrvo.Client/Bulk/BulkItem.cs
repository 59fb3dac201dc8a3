using System;
using System.Collections.Concurrent;
using System.Threading.Tasks;
using Ahrvo.Client.Diagnostics;

namespace Ahrvo.Client.Bulk
{
    /// <summary>One card handed to a run, with the caller's own data (an amount, an expected balance).</summary>
    public sealed class BulkItem
    {
        private volatile bool _isDone;

        internal BulkItem(long sequence, string cardId, object? state)
        {
            Sequence = sequence;
            CardId = cardId;
            State = state;
        }

        public long Sequence { get; }

        /// <summary>Its place among the run's cards that send a request (-1: its id is refused before sending).</summary>
        internal long SendOrder { get; set; } = -1;
        public string CardId { get; }
        public object? State { get; }

        /// <summary>Null when the run was cancelled before this card got an answer.</summary>
        public BalanceResult? Result { get; internal set; }

        /// <summary>The card's query across its attempts; null until a worker first takes it.</summary>
        internal Resilience.CardCall? Call { get; set; }

        /// <summary>When the card came back from parking (client timestamp), until a worker takes it; 0 otherwise.</summary>
        internal long ReadyAt { get; set; }

        /// <summary>
        /// Set (after <see cref="Result"/>) when the worker is finished with this card. A flag and not
        /// a Task: an async method's Task completes only after its finally blocks, so a waiter woken
        /// from there could still see it running and go back to sleep.
        /// </summary>
        public bool IsDone
        {
            get => _isDone;
            internal set => _isDone = value;
        }
    }
}
