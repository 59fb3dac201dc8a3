using System;
using Ahrvo.Client;

namespace Ahrvo.PowerShell
{
    /// <summary>The exception behind every Ahrvo ErrorRecord: catch [Ahrvo.PowerShell.AhrvoException].</summary>
    public sealed class AhrvoException : Exception
    {
        public AhrvoException(string message, AhrvoErrorKind kind, string? cardId, int? httpStatus, string? apiCode, Exception? inner = null)
            : base(message, inner)
        {
            Kind = kind;
            CardId = cardId;
            HttpStatus = httpStatus;
            ApiCode = apiCode;
        }

        public AhrvoErrorKind Kind { get; }
        public string? CardId { get; }
        public int? HttpStatus { get; }
        public string? ApiCode { get; }
    }
}
