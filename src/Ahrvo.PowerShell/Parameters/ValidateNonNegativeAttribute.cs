using System;
using System.Management.Automation;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Parameters
{
    /// <summary>An amount must be zero or more: a negative payment is a mistake.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ValidateNonNegativeAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var value = arguments is PSObject ps ? ps.BaseObject : arguments;
            if (value is decimal d && d < 0)
                throw new ValidationMetadataException($"The amount {d} is negative. Give the transaction amount as zero or more.");
        }
    }
}
