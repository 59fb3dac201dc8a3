using System;
using System.Management.Automation;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Internal
{
    /// <summary>An empty, white-space, over-long or control-character card id is a parameter error.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ValidateCardIdAttribute : ValidateEnumeratedArgumentsAttribute
    {
        protected override void ValidateElement(object element)
        {
            var text = element is PSObject ps ? ps.BaseObject?.ToString() : element?.ToString();
            var problem = CardIdRules.Check(text);
            if (problem != null)
                throw new ValidationMetadataException(problem + " Give the card's id as issued, for example card201907021723076245.");
        }
    }

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
