using System;
using System.Threading;
using Ahrvo.Client;

namespace Ahrvo.PowerShell
{
    /// <summary>
    /// A connection to one Ahrvo account and environment: what Connect-Ahrvo makes and every data
    /// cmdlet's -Connection takes. Shows where it points and how it behaves, never a secret. The
    /// HTTP client behind it is created at the first query, so connecting costs nothing.
    /// </summary>
    public sealed class AhrvoConnection
    {
        private readonly AhrvoClientOptions _options;
        private readonly object _gate = new object();
        private AhrvoClient? _client;
        private int _leases;
        private bool _idleRelease;
        private bool _closed;

        private readonly IDisposable? _tokenProvider; // the -TokenProvider script's runspace
        private readonly DateTimeOffset? _firstTokenExpiresAt;

        internal AhrvoConnection(AhrvoEnvironment environment, AhrvoClientOptions options, string credentialSource, IDisposable? tokenProvider = null)
        {
            _tokenProvider = tokenProvider;
            _firstTokenExpiresAt = AhrvoClient.TokenExpiry(options);
            _environment = (int)environment;
            _options = options;
            CredentialSource = credentialSource;
            // UTC, like every time the module shows (RetrievedAt, ObservedAt): one convention, the zone always said.
            ConnectedAt = DateTimeOffset.UtcNow;
            Id = Guid.NewGuid();
        }

        public Guid Id { get; }
        // The enum is stored as its number: PowerShell loads every public type of this assembly
        // before the module initializer runs, and a field of an Ahrvo.Client value type would make
        // that look for Ahrvo.Client before it can be found (see Isolation/ModuleInitializer.cs).
        private readonly int _environment;

        public AhrvoEnvironment Environment => (AhrvoEnvironment)_environment;
        public Uri BaseUri => _options.BaseUri;
        /// <summary>When Connect-Ahrvo made the connection, in UTC.</summary>
        public DateTimeOffset ConnectedAt { get; }

        /// <summary>Where the secrets came from (parameters or environment variables), never the secrets.</summary>
        public string CredentialSource { get; }

        public int MaxRetries => _options.MaxRetries;
        public TimeSpan AttemptTimeout => _options.AttemptTimeout;
        public TimeSpan Timeout => _options.TotalTimeout;
        public TimeSpan MaxRetryDelay => _options.MaxRetryDelay;
        public TimeSpan RetryBaseDelay => _options.RetryBaseDelay;
        public double? MaxRequestsPerSecond => _options.MaxRequestsPerSecond;
        public Uri? Proxy => _options.Proxy;
        public string? AuditLogPath => _options.AuditLogPath;

        /// <summary>How long one call to -TokenProvider may take before it is stopped and the cards waiting for it fail.</summary>
        public TimeSpan TokenProviderTimeout => _options.TokenProviderTimeout;

        public bool IsClosed { get { lock (_gate) return _closed; } }

        // What the connection has learned and done so far; zero or null before the first query.

        /// <summary>The pace learned from the API's 429s (requests/s); null while it has not throttled this connection.</summary>
        public double? LearnedRequestsPerSecond => RoundRate(Client?.LearnedRequestsPerSecond);

        /// <summary>The pace applied now: the learned one or -MaxRequestsPerSecond, the lower; null when unpaced.</summary>
        public double? PacedRequestsPerSecond => RoundRate(Client?.PacedRequestsPerSecond);

        /// <summary>When the service was seen to go down; null while it answers.</summary>
        public DateTimeOffset? ServiceDownSince => Client?.ServiceDownSince?.ToUniversalTime();

        /// <summary>When the access token expires, when it is a JWT with an exp claim; the provider is asked for a new one shortly before.</summary>
        public DateTimeOffset? AccessTokenExpiresAt => (Client is AhrvoClient c ? c.AccessTokenExpiresAt : _firstTokenExpiresAt)?.ToUniversalTime();

        /// <summary>Whether the token comes from -TokenProvider (renewed after a 401 and before it expires).</summary>
        public bool RenewsToken => _tokenProvider != null;

        /// <summary>New tokens obtained from -TokenProvider since the first query.</summary>
        public long TokenRenewals => Client?.TokenRenewals ?? 0;

        public long RequestsSent => Client?.RequestsSent ?? 0;
        public long Retries => Client?.Retries ?? 0;
        public long ThrottledResponses => Client?.ThrottledResponses ?? 0;

        private AhrvoClient? Client { get { lock (_gate) return _client; } }

        /// <summary>Whether the HTTP client exists now (tests: released connections hold none).</summary>
        internal bool HasClient => Client != null;

        private static double? RoundRate(double? rate) => rate is double r ? Math.Round(r, 1) : (double?)null;

        public override string ToString() => $"Ahrvo {Environment} ({BaseUri})";

        /// <summary>Borrows the client for one command; a Disconnect while it runs waits for the return.</summary>
        internal Lease Acquire()
        {
            lock (_gate)
            {
                if (_closed) throw new InvalidOperationException("This Ahrvo connection was closed by Disconnect-Ahrvo. Run Connect-Ahrvo again.");
                _idleRelease = false;
                _client ??= new AhrvoClient(_options);
                _leases++;
                return new Lease(this, _client);
            }
        }

        private void Release()
        {
            AhrvoClient? toDispose = null;
            lock (_gate)
            {
                _leases--;
                if ((_closed || _idleRelease) && _leases == 0) { toDispose = _client; _client = null; _idleRelease = false; }
            }
            toDispose?.Dispose();
            if (toDispose != null && IsClosed) _tokenProvider?.Dispose();
        }

        /// <summary>
        /// No longer the session's default: its HTTP client (sockets, the hang-check timer) goes once
        /// no command uses it. The connection stays open: a script that kept it (-PassThru) can go on
        /// using it, and a new client is made at its next query (what it learned of the pace is lost).
        /// </summary>
        internal void ReleaseWhenIdle()
        {
            AhrvoClient? toDispose = null;
            lock (_gate)
            {
                if (_closed) return;
                if (_leases == 0) { toDispose = _client; _client = null; }
                else _idleRelease = true;
            }
            toDispose?.Dispose();
        }

        /// <summary>Forgets the connection; the client goes once no command uses it any more.</summary>
        internal void Close()
        {
            AhrvoClient? toDispose = null;
            lock (_gate)
            {
                if (_closed) return;
                _closed = true;
                if (_leases == 0) { toDispose = _client; _client = null; }
            }
            toDispose?.Dispose();
            if (toDispose != null || !IsInUse()) _tokenProvider?.Dispose();
        }

        private bool IsInUse() { lock (_gate) return _leases > 0; }

        internal sealed class Lease : IDisposable
        {
            private AhrvoConnection? _owner;

            public Lease(AhrvoConnection owner, AhrvoClient client)
            {
                _owner = owner;
                Client = client;
            }

            public AhrvoClient Client { get; }

            public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release();
        }
    }
}
