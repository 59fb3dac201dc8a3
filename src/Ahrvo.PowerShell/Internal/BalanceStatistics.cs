using System;
using System.Collections.Generic;
using System.Linq;

namespace Ahrvo.PowerShell.Internal
{
    /// <summary>The spec's balance distribution ranges: &lt;100, &lt;500, &lt;1000, &lt;5000, else.</summary>
    internal static class BalanceBuckets
    {
        // Negative balances (an overdrawn card) go to the first range: it is "the lowest balances",
        // and a sixth range the spec does not have would break reports that expect five.
        private static readonly (string Label, decimal? Minimum, decimal? Maximum)[] Ranges =
        {
            ("$0\u2013100", null, 100m),
            ("$100\u2013500", 100m, 500m),
            ("$500\u20131,000", 500m, 1000m),
            ("$1,000\u20135,000", 1000m, 5000m),
            ("$5,000+", 5000m, null),
        };

        public static int BucketCount => Ranges.Length;

        public static int IndexOf(decimal balance)
        {
            for (int i = 0; i < Ranges.Length - 1; i++)
                if (balance < Ranges[i].Maximum!.Value) return i;
            return Ranges.Length - 1;
        }

        public static BalanceBucket[] Build(int[] counts) =>
            Ranges.Select((r, i) => new BalanceBucket(r.Label, r.Minimum, r.Maximum, counts[i])).ToArray();
    }

    /// <summary>A card that could not be read, and why.</summary>
    internal sealed class FailedCard
    {
        public FailedCard(string cardId, string reason)
        {
            CardId = cardId;
            Reason = reason;
        }

        public string CardId { get; }
        public string Reason { get; }
    }

    /// <summary>
    /// Accumulates balances one at a time (so a million cards cost a few counters, unless the cards
    /// are kept for a report) and produces the summary.
    /// </summary>
    internal sealed class BalanceStatistics
    {
        private readonly bool _keepCards;
        private readonly List<CardBalance> _cards = new List<CardBalance>();
        private readonly List<FailedCard> _failures = new List<FailedCard>();
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
                _currencies.ToList());
        }

        /// <summary>The warning for mixed currencies, or null.</summary>
        public string? CurrencyWarning() => MixedCurrencies
            ? "The balances are in more than one currency (" + string.Join(", ", _currencies) + "): Total, Average, Minimum, Maximum and the distribution mix amounts of different currencies. Measure each currency on its own, e.g. with Group-Object Currency."
            : null;
    }
}
