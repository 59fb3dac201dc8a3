using System;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Internal
{
    /// <summary>
    /// Money from text (a CSV ledger) is parsed culture-invariantly and strictly, as balances from the
    /// API are: PowerShell's own conversion takes "1,5" as 15, which would turn a de-DE ledger's 1.50
    /// into a silent discrepancy. Numbers pass through (PowerShell converts them to decimal).
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class MoneyTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject ps ? ps.BaseObject : inputData;
            switch (value)
            {
                case string s:
                    if (MoneyParser.TryParse(s, out var parsed, out var reason)) return parsed;
                    throw new ArgumentTransformationMetadataException(
                        "Cannot use '" + s + "' as an amount: " + reason + ". Write amounts as plain numbers with '.' as the decimal point, e.g. 1468.87.");
                case double d when double.IsNaN(d) || double.IsInfinity(d):
                    throw new ArgumentTransformationMetadataException("Cannot use " + d.ToString(CultureInfo.InvariantCulture) + " as an amount.");
                case float f when float.IsNaN(f) || float.IsInfinity(f):
                    throw new ArgumentTransformationMetadataException("Cannot use " + f.ToString(CultureInfo.InvariantCulture) + " as an amount.");
                default:
                    return inputData;
            }
        }
    }

    /// <summary>
    /// A bare number given for a TimeSpan means seconds: PowerShell would otherwise read
    /// -Interval 30 as 30 ticks (3 microseconds). TimeSpans and "hh:mm:ss" text pass through.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class SecondsTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject ps ? ps.BaseObject : inputData;
            switch (value)
            {
                case int i: return TimeSpan.FromSeconds(i);
                case long l: return TimeSpan.FromSeconds(l);
                case double d when !double.IsNaN(d) && !double.IsInfinity(d): return TimeSpan.FromSeconds(d);
                case decimal m: return TimeSpan.FromSeconds((double)m);
                case string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var secs):
                    return TimeSpan.FromSeconds(secs);
                default: return inputData;
            }
        }
    }

    /// <summary>A TimeSpan must be positive and at most a day (a wait beyond that is surely a mistake).</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ValidateIntervalAttribute : ValidateArgumentsAttribute
    {
        internal static readonly TimeSpan Maximum = TimeSpan.FromDays(1);

        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var value = arguments is PSObject ps ? ps.BaseObject : arguments;
            if (value is TimeSpan t && (t <= TimeSpan.Zero || t > Maximum))
                throw new ValidationMetadataException($"The interval {t} is not between 0 and 1 day. Give a positive interval such as 00:05:00 or 300 (seconds).");
        }
    }

    /// <summary>A TimeSpan must be more than zero, with no upper bound (a reminder once a week is fine).</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ValidatePositiveTimeSpanAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var value = arguments is PSObject ps ? ps.BaseObject : arguments;
            if (value is TimeSpan t && t <= TimeSpan.Zero)
                throw new ValidationMetadataException($"The time {t} is not positive. Give a TimeSpan such as 04:00:00, or a number of seconds.");
        }
    }

    /// <summary>A tolerance must be zero or more: a negative one would make every card a discrepancy.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ValidateToleranceAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var value = arguments is PSObject ps ? ps.BaseObject : arguments;
            if (value is decimal d && d < 0)
                throw new ValidationMetadataException(
                    "The tolerance " + d.ToString(CultureInfo.InvariantCulture) + " is negative. Give zero or more, e.g. 0.01 for one cent.");
        }
    }
}
