using System;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Parameters
{
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
}
