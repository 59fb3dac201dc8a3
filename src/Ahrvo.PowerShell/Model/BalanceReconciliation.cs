using System.Globalization;

namespace Ahrvo.PowerShell
{
    /// <summary>One card reconciled against internal records, as Compare-AhrvoCardBalance emits it.</summary>
    public sealed class BalanceReconciliation
    {
        public BalanceReconciliation(string cardId, string? cardNumber, decimal expectedBalance, decimal? actualBalance,
            decimal? difference, ReconciliationStatus status)
            : this(cardId, cardNumber, expectedBalance, actualBalance, difference, status, actualBalance)
        {
        }

        /// <summary>With a first reading other than the last: a card read again by -RecheckAfter.</summary>
        public BalanceReconciliation(string cardId, string? cardNumber, decimal expectedBalance, decimal? actualBalance,
            decimal? difference, ReconciliationStatus status, decimal? firstBalance)
        {
            CardId = cardId;
            CardNumber = cardNumber;
            ExpectedBalance = expectedBalance;
            ActualBalance = actualBalance;
            Difference = difference;
            Status = status;
            FirstBalance = firstBalance;
        }

        public string CardId { get; }

        /// <summary>Masked; null when the card could not be read.</summary>
        public string? CardNumber { get; }

        public decimal ExpectedBalance { get; }

        /// <summary>The balance the API reports; null when Failed (never a zero standing in for it).</summary>
        public decimal? ActualBalance { get; }

        /// <summary>ActualBalance - ExpectedBalance: positive when the card holds more than the records say; null when Failed.</summary>
        public decimal? Difference { get; }

        public ReconciliationStatus Status { get; }

        /// <summary>
        /// The first reading. The same as ActualBalance unless -RecheckAfter read the card again, when
        /// ActualBalance is the second reading. Null when Failed. Last, so that columns of CSV files
        /// written before it existed keep their places.
        /// </summary>
        public decimal? FirstBalance { get; }

        public override string ToString() =>
            string.Format(CultureInfo.InvariantCulture, "{0}: {1} (expected {2}, actual {3})", CardId, Status, ExpectedBalance,
                ActualBalance is decimal a ? a.ToString(CultureInfo.InvariantCulture) : "unknown");
    }
}
