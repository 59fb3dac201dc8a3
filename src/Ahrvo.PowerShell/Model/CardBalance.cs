using System;
using System.Globalization;

namespace Ahrvo.PowerShell
{
    /// <summary>One card's balance, as Get-AhrvoCardBalance emits it.</summary>
    public sealed class CardBalance
    {
        public CardBalance(string cardId, string? cardNumber, decimal availableBalance, string currency, DateTimeOffset retrievedAt)
        {
            CardId = cardId;
            CardNumber = cardNumber;
            AvailableBalance = availableBalance;
            Currency = currency;
            RetrievedAt = retrievedAt;
        }

        public string CardId { get; }

        /// <summary>Masked: at most the first six and last four digits.</summary>
        public string? CardNumber { get; }

        public decimal AvailableBalance { get; }
        public string Currency { get; }
        public DateTimeOffset RetrievedAt { get; }

        public override string ToString() =>
            string.Format(CultureInfo.InvariantCulture, "{0}: {1} {2}", CardId, AvailableBalance, Currency);
    }
}
