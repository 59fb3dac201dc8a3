using System;
using System.Globalization;

namespace Ahrvo.PowerShell
{
    /// <summary>
    /// A card first seen below a threshold, or whose level changed since the last pass, as
    /// Watch-AhrvoCardBalance emits it: one object per change, so each is worth one notification.
    /// With -RepeatAfter, also a reminder for a card still below Normal (<see cref="IsRepeat"/>).
    /// </summary>
    public sealed class BalanceAlert
    {
        public BalanceAlert(string cardId, string? cardNumber, decimal availableBalance, string currency,
            BalanceLevel level, BalanceLevel? previousLevel, decimal? threshold, DateTimeOffset observedAt)
            : this(cardId, cardNumber, availableBalance, currency, level, previousLevel, threshold, observedAt, isRepeat: false)
        {
        }

        public BalanceAlert(string cardId, string? cardNumber, decimal availableBalance, string currency,
            BalanceLevel level, BalanceLevel? previousLevel, decimal? threshold, DateTimeOffset observedAt, bool isRepeat)
        {
            IsRepeat = isRepeat;
            CardId = cardId;
            CardNumber = cardNumber;
            AvailableBalance = availableBalance;
            Currency = currency;
            Level = level;
            PreviousLevel = previousLevel;
            Threshold = threshold;
            ObservedAt = observedAt;
        }

        public string CardId { get; }

        /// <summary>Masked: at most the first six and last four digits.</summary>
        public string? CardNumber { get; }

        public decimal AvailableBalance { get; }
        public string Currency { get; }
        public BalanceLevel Level { get; }

        /// <summary>The level at the card's last successful read; null the first time the card is seen.</summary>
        public BalanceLevel? PreviousLevel { get; }

        /// <summary>The threshold of <see cref="Level"/> (-Critical, -Warning or -Low); null for Normal.</summary>
        public decimal? Threshold { get; }

        /// <summary>When the balance was read.</summary>
        public DateTimeOffset ObservedAt { get; }

        /// <summary>
        /// True for a reminder: the level has not changed, but the card is still below Normal
        /// -RepeatAfter after its last alert. <see cref="PreviousLevel"/> is then the same level.
        /// </summary>
        public bool IsRepeat { get; }

        public override string ToString() =>
            string.Format(CultureInfo.InvariantCulture, "{0}: {1} {2} {3}{4}", CardId, Level, AvailableBalance, Currency,
                IsRepeat ? " (repeat)" : PreviousLevel is BalanceLevel p ? " (was " + p + ")" : "");
    }
}
