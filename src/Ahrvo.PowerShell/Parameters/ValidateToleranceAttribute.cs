using System;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Parameters
{
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
