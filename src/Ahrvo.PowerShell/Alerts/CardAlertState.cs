using System;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>What Watch-AhrvoCardBalance remembers of one card.</summary>
    internal sealed class CardAlertState
    {
        public CardAlertState(string cardId, BalanceLevel level, decimal balance, string currency,
            DateTimeOffset observedAt, DateTimeOffset levelSince, DateTimeOffset? lastAlertedAt)
        {
            CardId = cardId;
            Level = level;
            Balance = balance;
            Currency = currency;
            ObservedAt = observedAt;
            LevelSince = levelSince;
            LastAlertedAt = lastAlertedAt;
        }

        public string CardId { get; }
        public BalanceLevel Level { get; }
        public decimal Balance { get; }
        public string Currency { get; }

        /// <summary>When the balance was read.</summary>
        public DateTimeOffset ObservedAt { get; }

        /// <summary>When the card was first seen at <see cref="Level"/>.</summary>
        public DateTimeOffset LevelSince { get; }

        /// <summary>When the card last alerted; null when it never did (Normal since first seen).</summary>
        public DateTimeOffset? LastAlertedAt { get; }
    }
}
