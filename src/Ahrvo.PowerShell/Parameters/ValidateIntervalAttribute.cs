using System;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Parameters
{
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
}
