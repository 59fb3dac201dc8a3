using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ahrvo.PowerShell
{
    /// <summary>Statistics over many cards' balances, as Measure-AhrvoCardBalance emits them.</summary>
    public sealed class BalanceSummary
    {
        public BalanceSummary(int count, decimal total, decimal? average, decimal? minimum, decimal? maximum,
            IReadOnlyList<BalanceBucket> distribution, IReadOnlyList<string> failed, string? currency, IReadOnlyList<string> currencies, int refused = 0)
        {
            if (refused < 0) throw new ArgumentOutOfRangeException(nameof(refused));
            Refused = refused;
            Count = count;
            Total = total;
            Average = average;
            Minimum = minimum;
            Maximum = maximum;
            Distribution = ToArray(distribution);
            Failed = ToArray(failed);
            Currency = currency;
            Currencies = ToArray(currencies);
        }

        /// <summary>Cards whose balance was read (failed ones are not counted).</summary>
        public int Count { get; }

        /// <summary>The sum of the balances; 0 when Count is 0.</summary>
        public decimal Total { get; }

        /// <summary>Null when Count is 0. Not rounded.</summary>
        public decimal? Average { get; }

        /// <summary>Null when Count is 0.</summary>
        public decimal? Minimum { get; }

        /// <summary>Null when Count is 0.</summary>
        public decimal? Maximum { get; }

        /// <summary>The five ranges in ascending order, empty ones included.</summary>
        public BalanceBucket[] Distribution { get; }

        /// <summary>Ids of the cards that could not be read, in input order.</summary>
        public string[] Failed { get; }

        /// <summary>
        /// Inputs refused before any request (a row without a card id, an object that is not a card
        /// balance): they have no id to list in <see cref="Failed"/>, but were meant as cards.
        /// </summary>
        public int Refused { get; }

        /// <summary>What could not be measured: the failed cards plus the refused inputs, never fewer.</summary>
        public int FailedCount => Failed.Length + Refused;

        /// <summary>The balances' currency; null when there were none, or more than one (see Currencies).</summary>
        public string? Currency { get; }

        /// <summary>Every currency seen, sorted.</summary>
        public string[] Currencies { get; }

        public override string ToString() =>
            string.Format(CultureInfo.InvariantCulture, "{0} cards, total {1} {2}", Count, Total, Currency ?? string.Join("/", Currencies))
            + (FailedCount > 0 ? string.Format(CultureInfo.InvariantCulture, ", {0} failed", FailedCount) : string.Empty);

        private static T[] ToArray<T>(IReadOnlyList<T> list)
        {
            var array = new T[list.Count];
            for (int i = 0; i < array.Length; i++) array[i] = list[i];
            return array;
        }
    }
}
