using System;

namespace Ahrvo.PowerShell.Reports
{
    /// <summary>The spec's reconciliation rule: only a difference greater than the tolerance is a discrepancy.</summary>
    internal static class Reconciliation
    {
        public const decimal DefaultTolerance = 0.01m;

        public static BalanceReconciliation Compare(string cardId, string? cardNumber, decimal expected, decimal actual, decimal tolerance)
        {
            if (tolerance < 0) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance is negative.");
            var difference = actual - expected;
            // Exactly the tolerance off is still a match ("Math.abs(difference) > 0.01" in the spec).
            var status = Math.Abs(difference) > tolerance ? ReconciliationStatus.Discrepancy : ReconciliationStatus.Matched;
            return new BalanceReconciliation(cardId, cardNumber, expected, actual, difference, status);
        }

        /// <summary>
        /// A discrepancy read once more: Settled when the second reading is within the tolerance, else
        /// still a Discrepancy. The difference is the second reading's; the first is kept as FirstBalance.
        /// </summary>
        public static BalanceReconciliation Recheck(BalanceReconciliation first, string? cardNumber, decimal actual, decimal tolerance)
        {
            if (first == null) throw new ArgumentNullException(nameof(first));
            if (first.Status != ReconciliationStatus.Discrepancy || first.ActualBalance is not decimal firstBalance)
                throw new ArgumentException("Only a discrepancy is read again; this card is " + first.Status + ".", nameof(first));
            var second = Compare(first.CardId, cardNumber ?? first.CardNumber, first.ExpectedBalance, actual, tolerance);
            var status = second.Status == ReconciliationStatus.Matched ? ReconciliationStatus.Settled : ReconciliationStatus.Discrepancy;
            return new BalanceReconciliation(second.CardId, second.CardNumber, second.ExpectedBalance, actual, second.Difference, status, firstBalance);
        }

        public static BalanceReconciliation Failed(string cardId, decimal expected) =>
            new BalanceReconciliation(cardId, null, expected, null, null, ReconciliationStatus.Failed);
    }
}
