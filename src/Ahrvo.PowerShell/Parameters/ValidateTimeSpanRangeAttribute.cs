using System;
using System.Globalization;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Parameters
{
    /// <summary>A TimeSpan from Minimum to Maximum, both included ("hh:mm:ss" text, as attributes take constants only).</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ValidateTimeSpanRangeAttribute : ValidateArgumentsAttribute
    {
        public ValidateTimeSpanRangeAttribute(string minimum, string maximum)
        {
            Minimum = TimeSpan.Parse(minimum, CultureInfo.InvariantCulture);
            Maximum = TimeSpan.Parse(maximum, CultureInfo.InvariantCulture);
        }

        public TimeSpan Minimum { get; }
        public TimeSpan Maximum { get; }

        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var value = arguments is PSObject ps ? ps.BaseObject : arguments;
            if (value is TimeSpan t && (t < Minimum || t > Maximum))
                throw new ValidationMetadataException(string.Format(CultureInfo.InvariantCulture,
                    "The time {0} is not between {1} and {2}. Give a TimeSpan in that range, for example (New-TimeSpan -Seconds 10).", t, Minimum, Maximum));
        }
    }
}
