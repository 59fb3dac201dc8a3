using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>
    /// The spec's alert levels: a balance is at the first level whose threshold it is at or below,
    /// Critical, then Warning, then Low; else Normal. A threshold left out (null) is a level not used.
    /// </summary>
    internal sealed class AlertThresholds
    {
        public AlertThresholds(decimal? critical, decimal? warning, decimal? low)
        {
            var problem = Problem(critical, warning, low);
            if (problem != null) throw new ArgumentException(problem);
            Critical = critical;
            Warning = warning;
            Low = low;
        }

        public decimal? Critical { get; }
        public decimal? Warning { get; }
        public decimal? Low { get; }

        /// <summary>
        /// The thresholds a cmdlet was given, or its terminating Ahrvo.InvalidThresholds error naming
        /// the values. Called before connecting, so a mistake is reported even when offline.
        /// </summary>
        public static AlertThresholds FromParameters(PSCmdlet cmdlet, decimal? critical, decimal? warning, decimal? low)
        {
            var problem = Problem(critical, warning, low);
            if (problem != null)
                cmdlet.ThrowTerminatingError(new ErrorRecord(new ArgumentException(problem), "Ahrvo.InvalidThresholds", ErrorCategory.InvalidArgument,
                    new { Critical = critical, Warning = warning, Low = low }));
            return new AlertThresholds(critical, warning, low);
        }

        /// <summary>Why the thresholds cannot be used together, naming the values; null when they can.</summary>
        public static string? Problem(decimal? critical, decimal? warning, decimal? low)
        {
            if (critical == null && warning == null && low == null)
                return "Give at least one threshold: -Critical, -Warning or -Low.";
            // The levels are checked most severe first, so a higher Critical would hide Warning (and so on).
            var given = new List<(string Name, decimal Value)>();
            if (critical is decimal c) given.Add(("-Critical", c));
            if (warning is decimal w) given.Add(("-Warning", w));
            if (low is decimal l) given.Add(("-Low", l));
            var wrong = new List<string>();
            for (int i = 1; i < given.Count; i++)
            {
                if (given[i - 1].Value > given[i].Value)
                    wrong.Add(string.Format(CultureInfo.InvariantCulture, "{0} {1} is above {2} {3}",
                        given[i - 1].Name, given[i - 1].Value, given[i].Name, given[i].Value));
            }
            if (wrong.Count == 0) return null;
            return "The thresholds must be ordered Critical <= Warning <= Low, but " + string.Join(" and ", wrong) + ".";
        }

        public BalanceLevel Classify(decimal balance)
        {
            if (Critical is decimal c && balance <= c) return BalanceLevel.Critical;
            if (Warning is decimal w && balance <= w) return BalanceLevel.Warning;
            if (Low is decimal l && balance <= l) return BalanceLevel.Low;
            return BalanceLevel.Normal;
        }

        /// <summary>The threshold that puts a balance at <paramref name="level"/>; null for Normal.</summary>
        public decimal? ThresholdOf(BalanceLevel level) => level switch
        {
            BalanceLevel.Critical => Critical,
            BalanceLevel.Warning => Warning,
            BalanceLevel.Low => Low,
            _ => null,
        };
    }
}
