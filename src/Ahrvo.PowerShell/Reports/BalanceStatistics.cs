using System;
using System.Collections.Generic;
using System.Linq;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Reports
{
    /// <summary>
    /// Accumulates balances one at a time (so a million cards cost a few counters, unless the cards
    /// are kept for a report) and produces the summary.
    /// </summary>
    internal sealed class BalanceStatistics
    {
        private readonly bool _keepCards;
        private readonly List<CardBalance> _cards = new List<CardBalance>();
        private readonly List<FailedCard> _failures = new List<FailedCard>();
        private readonly List<BalanceReconciliation> _reconciliations = new List<BalanceReconciliation>();
        private readonly SortedSet<string> _currencies = new SortedSet<string>(StringComparer.Ordinal);
        private readonly int[] _bucketCounts = new int[BalanceBuckets.BucketCount];
        private int _count;
        private decimal _total;
        private decimal _minimum;
        private decimal _maximum;

        public BalanceStatistics(bool keepCards = false) { _keepCards = keepCards; }

        public int Count => _count;
        public IReadOnlyList<CardBalance> Cards => _cards;
        public IReadOnlyList<FailedCard> Failures => _failures;
        public IReadOnlyList<BalanceReconciliation> Reconciliations => _reconciliations;
        public IReadOnlyCollection<string> Currencies => _currencies;
        public bool MixedCurrencies => _currencies.Count > 1;

        public void Add(CardBalance card)
        {
            if (card == null) throw new ArgumentNullException(nameof(card));
            var b = card.AvailableBalance;
            if (_count == 0) { _minimum = b; _maximum = b; }
            else
            {
                if (b < _minimum) _minimum = b;
                if (b > _maximum) _maximum = b;
            }
            _count++;
            _total += b;
            _bucketCounts[BalanceBuckets.IndexOf(b)]++;
            if (!string.IsNullOrEmpty(card.Currency)) _currencies.Add(card.Currency);
            if (_keepCards) _cards.Add(card);
        }

        public void AddFailure(string cardId, string reason) => _failures.Add(new FailedCard(cardId, reason));

        private readonly List<string> _refused = new List<string>();

        /// <summary>Inputs refused before any request (no card id, not a card): why, one per input.</summary>
        public IReadOnlyList<string> Refused => _refused;

        public void AddRefused(string reason) => _refused.Add(reason);

        /// <summary>Whether any card object or card result came in: without one there is nothing to write over a previous file.</summary>
        public bool HasCards => _count > 0 || _failures.Count > 0;

        /// <summary>
        /// One card of Compare-AhrvoCardBalance: its balance (the last reading) counts as any card's;
        /// an unread one is a failed card. Reconciliations carry no currency.
        /// </summary>
        public void Add(BalanceReconciliation reconciliation)
        {
            if (reconciliation == null) throw new ArgumentNullException(nameof(reconciliation));
            if (reconciliation.ActualBalance is decimal balance)
                Add(new CardBalance(reconciliation.CardId, reconciliation.CardNumber, balance, "", DateTimeOffset.MinValue));
            // With 2>&1 the card's error record came just before and is the failure already, with its reason.
            else if (_failures.Count == 0 || _failures[_failures.Count - 1].CardId != reconciliation.CardId)
                AddFailure(reconciliation.CardId, "Compare-AhrvoCardBalance could not read its balance; the error it wrote then says why.");
            if (_keepCards) _reconciliations.Add(reconciliation);
        }

        public BalanceSummary ToSummary()
        {
            var any = _count > 0;
            return new BalanceSummary(
                _count,
                _total,
                any ? _total / _count : (decimal?)null,
                any ? _minimum : (decimal?)null,
                any ? _maximum : (decimal?)null,
                BalanceBuckets.Build(_bucketCounts),
                _failures.Select(f => f.CardId).ToList(),
                _currencies.Count == 1 ? _currencies.Min : null,
                _currencies.ToList(),
                // Refused inputs count as failed, never as nothing (as the export's ahrvo_inputs_refused).
                _refused.Count);
        }

        /// <summary>The warning for mixed currencies, or null.</summary>
        public string? CurrencyWarning() => MixedCurrencies
            ? "The balances are in more than one currency (" + string.Join(", ", _currencies) + "): Total, Average, Minimum, Maximum and the distribution mix amounts of different currencies. Measure each currency on its own, e.g. with Group-Object Currency."
            : null;
    }
}
