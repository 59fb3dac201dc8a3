using System;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>What Watch-AhrvoCardBalance remembers of one card.</summary>
    internal sealed class CardAlertState
    {
        public CardAlertState(string cardId, BalanceLevel level, decimal balance, string currency,
            DateTimeOffset observedAt, DateTimeOffset levelSince, DateTimeOffset? lastAlertedAt, long generation = 0)
        {
            CardId = cardId;
            Level = level;
            Balance = balance;
            Currency = currency;
            ObservedAt = observedAt;
            LevelSince = levelSince;
            LastAlertedAt = lastAlertedAt;
            Generation = generation;
        }

        public string CardId { get; }
        public BalanceLevel Level { get; }
        public decimal Balance { get; }
        public string Currency { get; }

        /// <summary>When the balance was read (shown to people; never used to order readings).</summary>
        public DateTimeOffset ObservedAt { get; }

        /// <summary>When the card was first seen at <see cref="Level"/>.</summary>
        public DateTimeOffset LevelSince { get; }

        /// <summary>When the card last alerted; null when it never did (Normal since first seen).</summary>
        public DateTimeOffset? LastAlertedAt { get; }

        /// <summary>
        /// The save (the state file's generation) that stored this reading; 0 when unknown (a file from
        /// an older module, or the in-memory state). Orders readings without a clock: see <see cref="AlertState.Observe"/>.
        /// </summary>
        public long Generation { get; }
    }
}
