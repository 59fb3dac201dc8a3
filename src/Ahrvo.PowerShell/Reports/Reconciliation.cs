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

        public static BalanceReconciliation Failed(string cardId, decimal expected) =>
            new BalanceReconciliation(cardId, null, expected, null, null, ReconciliationStatus.Failed);
    }
}
