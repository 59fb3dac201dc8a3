using System;

namespace Ahrvo.Client
{
    /// <summary>The outcome of one balance query: either a balance or an error, never both.</summary>
    public sealed class BalanceResult
    {
        private BalanceResult(string cardId) { CardId = cardId; }

        public string CardId { get; private set; }
        public bool Success => Error == null;
        public string? CardNumber { get; private set; }
        public decimal AvailableBalance { get; private set; }
        public string Currency { get; private set; } = "USD";
        public DateTimeOffset RetrievedAt { get; private set; }
        public int? HttpStatus { get; private set; }
        public TimeSpan Elapsed { get; private set; }
        public int Attempts { get; private set; }
        public AhrvoError? Error { get; private set; }

        public static BalanceResult Ok(string cardId, string? cardNumber, decimal balance, string currency, DateTimeOffset retrievedAt, int httpStatus, TimeSpan elapsed, int attempts) =>
            new BalanceResult(cardId)
            {
                CardNumber = cardNumber,
                AvailableBalance = balance,
                Currency = currency,
                RetrievedAt = retrievedAt,
                HttpStatus = httpStatus,
                Elapsed = elapsed,
                Attempts = attempts,
            };

        public static BalanceResult Failed(string cardId, AhrvoError error, int? httpStatus, TimeSpan elapsed, int attempts) =>
            new BalanceResult(cardId)
            {
                Error = error ?? throw new ArgumentNullException(nameof(error)),
                HttpStatus = httpStatus,
                Elapsed = elapsed,
                Attempts = attempts,
                RetrievedAt = DateTimeOffset.UtcNow,
            };
    }
}
