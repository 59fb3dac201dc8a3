using System;

namespace Ahrvo.Client.Auth
{
    /// <summary>The token provider failed or returned nothing; its message never holds the token.</summary>
    public sealed class TokenProviderException : Exception
    {
        public TokenProviderException(string message, Exception? inner = null, bool didNotAnswer = false) : base(message, inner) => DidNotAnswer = didNotAnswer;

        /// <summary>The provider did not answer in time (or was stopped before it did), rather than failing.</summary>
        public bool DidNotAnswer { get; }
    }
}
