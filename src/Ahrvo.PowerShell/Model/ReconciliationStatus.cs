namespace Ahrvo.PowerShell
{
    /// <summary>The outcome of comparing one card's balance with the expected one.</summary>
    public enum ReconciliationStatus
    {
        /// <summary>Actual and expected differ by no more than the tolerance.</summary>
        Matched,
        /// <summary>They differ by more than the tolerance.</summary>
        Discrepancy,
        /// <summary>The balance could not be read; its error was written too.</summary>
        Failed,
        /// <summary>
        /// Out of tolerance at first, within it when read again after -RecheckAfter: the balance was
        /// still settling (pending transactions), not a real discrepancy.
        /// </summary>
        Settled,
    }
}
