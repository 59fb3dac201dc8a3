using System.Globalization;

namespace Ahrvo.PowerShell
{
    /// <summary>One card reconciled against internal records, as Compare-AhrvoCardBalance emits it.</summary>
    public sealed class BalanceReconciliation
    {
        public BalanceReconciliation(string cardId, string? cardNumber, decimal expectedBalance, decimal? actualBalance,
            decimal? difference, ReconciliationStatus status)
        {
            CardId = cardId;
            CardNumber = cardNumber;
            ExpectedBalance = expectedBalance;
            ActualBalance = actualBalance;
            Difference = difference;
            Status = status;
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

        public override string ToString() =>
            string.Format(CultureInfo.InvariantCulture, "{0}: {1} (expected {2}, actual {3})", CardId, Status, ExpectedBalance,
                ActualBalance is decimal a ? a.ToString(CultureInfo.InvariantCulture) : "unknown");
    }
}
