using System;
using System.Management.Automation;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Parameters
{
    /// <summary>
    /// An empty, white-space, over-long or control-character card id is a parameter error. Only
    /// strings are checked here (white space around them is trimmed later, and said under -Verbose);
    /// objects are resolved, and refused if they hold no id, by <see cref="CardIdInput"/>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ValidateCardIdAttribute : ValidateEnumeratedArgumentsAttribute
    {
        protected override void ValidateElement(object element)
        {
            var value = element is PSObject ps ? ps.BaseObject : element;
            if (value != null && !(value is string)) return;
            var text = (string?)value;
            var problem = CardIdRules.Check(text == null ? null : CardIdRules.Trim(text));
            if (problem != null)
                throw new ValidationMetadataException(problem + " " + Errors.ErrorRecords.RefusedIdAction);
        }
    }
}
