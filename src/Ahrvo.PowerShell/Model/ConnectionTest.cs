using System;

namespace Ahrvo.PowerShell
{
    /// <summary>What Test-AhrvoConnection found.</summary>
    public enum ConnectionTestOutcome
    {
        /// <summary>The API answered the query (400, 404 or 200): the API key and access token were accepted.</summary>
        CredentialsAccepted,
        /// <summary>HTTP 401: the access token or the API key was refused (or the token provider failed).</summary>
        CredentialsRefused,
        /// <summary>HTTP 403: the credentials were accepted, but card issuance is not enabled for the account.</summary>
        NotEnabled,
        /// <summary>No answer, a 5xx or a 429: the service could not be reached or was busy; the credentials were not checked.</summary>
        ServiceUnreachable,
        /// <summary>An answer this check cannot read (a redirect, a TLS failure, another status): the credentials were not checked.</summary>
        Inconclusive,
    }

    /// <summary>The result of Test-AhrvoConnection: whether the connection's credentials work, and why (never a secret).</summary>
    public sealed class ConnectionTest
    {
        internal ConnectionTest(ConnectionTestOutcome outcome, int? statusCode, string? apiCode, string message, string? recommendedAction,
            AhrvoConnection connection, string probeCardId, TimeSpan duration, DateTimeOffset testedAt)
        {
            Outcome = outcome;
            StatusCode = statusCode;
            ApiCode = apiCode;
            Message = message;
            RecommendedAction = recommendedAction;
            _environment = (int)connection.Environment;
            BaseUri = connection.BaseUri;
            ProbeCardId = probeCardId;
            Duration = duration;
            TestedAt = testedAt;
        }

        // The enum is stored as its number, as AhrvoConnection does (see Isolation/ModuleInitializer.cs).
        private readonly int _environment;

        /// <summary>True when the API accepted the credentials and the account can read balances (a 400 or 404 for the probe id).</summary>
        public bool Succeeded => Outcome == ConnectionTestOutcome.CredentialsAccepted;
        public ConnectionTestOutcome Outcome { get; }

        /// <summary>Whether the credentials were accepted: true or false when the API said, null when it could not be asked.</summary>
        public bool? CredentialsValid => Outcome switch
        {
            ConnectionTestOutcome.CredentialsAccepted => true,
            ConnectionTestOutcome.NotEnabled => true,
            ConnectionTestOutcome.CredentialsRefused => false,
            _ => (bool?)null,
        };

        /// <summary>The HTTP status of the answer; null when none came.</summary>
        public int? StatusCode { get; }
        public string? ApiCode { get; }
        public string Message { get; }
        public string? RecommendedAction { get; }
        public Ahrvo.Client.AhrvoEnvironment Environment => (Ahrvo.Client.AhrvoEnvironment)_environment;
        public Uri BaseUri { get; }

        /// <summary>The card id queried: one that cannot exist, so that the answer is about the credentials only.</summary>
        public string ProbeCardId { get; }
        public TimeSpan Duration { get; }

        /// <summary>When the check ran, in UTC.</summary>
        public DateTimeOffset TestedAt { get; }

        public override string ToString() => Outcome + ": " + Message;
    }
}
