using System;
using Ahrvo.Client.Parsing;

namespace Ahrvo.Client.State
{
    /// <summary>
    /// One card in Watch-AhrvoCardBalance's state file. The level is text here: the levels are the
    /// module's type, and this assembly's public surface uses only its own types and the BCL.
    /// </summary>
    public sealed class AlertStateEntry
    {
        public AlertStateEntry(string cardId, string level, decimal balance, string currency,
            DateTimeOffset observedAt, DateTimeOffset levelSince, DateTimeOffset? lastAlertedAt, long generation = 0)
        {
            if (generation < 0) throw new ArgumentOutOfRangeException(nameof(generation));
            Generation = generation;
            CardId = cardId ?? throw new ArgumentNullException(nameof(cardId));
            Level = level ?? throw new ArgumentNullException(nameof(level));
            Balance = balance;
            Currency = currency ?? throw new ArgumentNullException(nameof(currency));
            ObservedAt = observedAt;
            LevelSince = levelSince;
            LastAlertedAt = lastAlertedAt;
        }

        public string CardId { get; }
        public string Level { get; }
        public decimal Balance { get; }
        public string Currency { get; }
        public DateTimeOffset ObservedAt { get; }
        public DateTimeOffset LevelSince { get; }
        public DateTimeOffset? LastAlertedAt { get; }

        /// <summary>The save (the file's generation) that stored this card's reading; 0 when the file does not say.</summary>
        public long Generation { get; }
    }
}
