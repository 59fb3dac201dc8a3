using System;
using System.Management.Automation;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Parameters
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
}
