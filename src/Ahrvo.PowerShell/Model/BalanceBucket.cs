using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ahrvo.PowerShell
{
    /// <summary>
    /// One range of the balance distribution: balances from <see cref="Minimum"/> (inclusive) to
    /// <see cref="Maximum"/> (exclusive), the spec's "$0-$100" ... "$5,000+".
    /// </summary>
    public sealed class BalanceBucket
    {
        public BalanceBucket(string label, decimal? minimum, decimal? maximum, int count)
        {
            Label = label;
            Minimum = minimum;
            Maximum = maximum;
            Count = count;
        }

        public string Label { get; }

        /// <summary>Inclusive lower bound; null for the first bucket, which also holds negative balances.</summary>
        public decimal? Minimum { get; }

        /// <summary>Exclusive upper bound; null for the last bucket.</summary>
        public decimal? Maximum { get; }

        public int Count { get; }

        public override string ToString() => string.Format(CultureInfo.InvariantCulture, "{0}: {1}", Label, Count);
    }
}
