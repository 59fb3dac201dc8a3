using System;
using System.Collections.Generic;
using System.Linq;

namespace Ahrvo.PowerShell.Errors
{
    /// <summary>A card that could not be read, and why.</summary>
    internal sealed class FailedCard
    {
        public FailedCard(string cardId, string reason)
        {
            CardId = cardId;
            Reason = reason;
        }

        public string CardId { get; }
        public string Reason { get; }
    }
}
