using System;
using System.Globalization;

namespace Ahrvo.PowerShell
{
    /// <summary>Whether one card can cover an amount, as Test-AhrvoCardBalance -Detailed emits it.</summary>
    public sealed class BalanceCheck
    {
        public BalanceCheck(string cardId, string? cardNumber, decimal availableBalance, decimal amount, string currency)
        {
            CardId = cardId;
            CardNumber = cardNumber;
            AvailableBalance = availableBalance;
            Amount = amount;
            Currency = currency;
            Sufficient = availableBalance >= amount;
            if (Sufficient) RemainingAfter = availableBalance - amount;
            else Shortage = amount - availableBalance;
        }

        public string CardId { get; }
        public string? CardNumber { get; }
        public decimal AvailableBalance { get; }
        public decimal Amount { get; }
        public bool Sufficient { get; }

        /// <summary>The balance after the transaction, when it is sufficient; else null.</summary>
        public decimal? RemainingAfter { get; }

        /// <summary>The top-up needed, when the balance is not sufficient; else null.</summary>
        public decimal? Shortage { get; }

        public string Currency { get; }

        public override string ToString() =>
            string.Format(CultureInfo.InvariantCulture, "{0}: {1} {2} for {3}", CardId, Sufficient ? "sufficient" : "insufficient", AvailableBalance, Amount);
    }
}
