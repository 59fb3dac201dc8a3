using System;

namespace Ahrvo.Client.Auth
{
    /// <summary>The token provider failed or returned nothing; its message never holds the token.</summary>
    public sealed class TokenProviderException : Exception
    {
        public TokenProviderException(string message, Exception? inner = null) : base(message, inner) { }
    }
}
