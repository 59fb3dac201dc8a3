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
            _kind = (int)kind;
            CardId = cardId;
            HttpStatus = httpStatus;
            ApiCode = apiCode;
        }

        // Stored as its number, as AhrvoConnection.Environment is: no field of a public type may be
        // an Ahrvo.Client value type (see Isolation/ModuleInitializer.cs).
        private readonly int _kind;

        public AhrvoErrorKind Kind => (AhrvoErrorKind)_kind;
        public string? CardId { get; }
        public int? HttpStatus { get; }
        public string? ApiCode { get; }
    }
}
