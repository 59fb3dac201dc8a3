using System;
using System.Collections.Generic;
using System.Linq;

namespace Ahrvo.PowerShell.Reports
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
}
