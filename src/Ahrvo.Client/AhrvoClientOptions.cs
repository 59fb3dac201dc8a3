using System;
using System.Net;
using System.Security;

namespace Ahrvo.Client
{
    /// <summary>Everything a connection needs. Set it up before handing it to <see cref="AhrvoClient"/>, which reads it as it runs: change nothing afterwards.</summary>
    public sealed class AhrvoClientOptions
    {
        public static readonly Uri ProductionUri = new Uri("https://api.ahrvo.network");
        public static readonly Uri StagingUri = new Uri("https://gateway.ahrvo.network");

        public AhrvoClientOptions(Uri baseUri, SecureString apiKey, SecureString accessToken)
        {
            BaseUri = baseUri ?? throw new ArgumentNullException(nameof(baseUri));
            ApiKey = apiKey ?? throw new ArgumentNullException(nameof(apiKey));
            AccessToken = accessToken ?? throw new ArgumentNullException(nameof(accessToken));
        }

        public Uri BaseUri { get; }

        // Secrets stay SecureString (read-only copies) and are revealed per request only.
        internal SecureString ApiKey { get; }
        internal SecureString AccessToken { get; }

        /// <summary>
        /// Returns a fresh access token; called after a 401 (once per wave of 401s) and shortly
        /// before a JWT's exp. Null: the token is fixed.
        /// </summary>
        public Func<System.Threading.CancellationToken, System.Threading.Tasks.Task<SecureString>>? AccessTokenProvider { get; set; }

        /// <summary>The default of <see cref="TokenProviderTimeout"/>.</summary>
        public static readonly TimeSpan DefaultTokenProviderTimeout = TimeSpan.FromSeconds(30);

        /// <summary>
        /// How long one call to <see cref="AccessTokenProvider"/> may take: then it is cancelled and
        /// the cards waiting for it fail saying so (each card also waits no longer than its own time).
        /// </summary>
        public TimeSpan TokenProviderTimeout { get; set; } = DefaultTokenProviderTimeout;

        /// <summary>Retries after the first attempt for transient failures.</summary>
        public int MaxRetries { get; set; } = 3;

        /// <summary>Time one HTTP attempt may take.</summary>
        public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Time one card may take in all, retries and waits included.</summary>
        public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(120);

        /// <summary>Base of the exponential backoff.</summary>
        public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

        /// <summary>Cap on one wait between attempts, Retry-After included.</summary>
        public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Client-side rate limit; null or 0 means none.</summary>
        public double? MaxRequestsPerSecond { get; set; }

        /// <summary>Explicit proxy; null uses the system settings (HTTPS_PROXY / NO_PROXY).</summary>
        public Uri? Proxy { get; set; }

        public ICredentials? ProxyCredential { get; set; }

        /// <summary>Connections kept per server: the ceiling on useful concurrency.</summary>
        public int MaxConnectionsPerServer { get; set; } = 64;

        /// <summary>Optional JSON-lines audit log, one line per balance query.</summary>
        public string? AuditLogPath { get; set; }

        public string UserAgent { get; set; } = "Ahrvo.PowerShell";

        /// <summary>The clock behind every wait, budget and pace (tests pass a fake one).</summary>
        internal TimeProvider Time { get; set; } = TimeProvider.System;

        /// <summary>Replaces the HTTP handler (tests answer in memory); null for the real one.</summary>
        internal Func<System.Net.Http.HttpMessageHandler>? HandlerFactory { get; set; }

        /// <summary>Where the connection's work runs: the thread pool, or a test's simulation.</summary>
        internal Resilience.WorkScheduler Scheduler { get; set; } = Resilience.WorkScheduler.ThreadPool;

        /// <summary>Checks what can be checked before any request is sent.</summary>
        public void Validate()
        {
            if (!BaseUri.IsAbsoluteUri)
                throw new ArgumentException($"The base URI '{BaseUri}' is not absolute. Give a full URI such as https://api.ahrvo.network.");
            if (BaseUri.Scheme == Uri.UriSchemeHttp && !BaseUri.IsLoopback)
                throw new ArgumentException($"Plain http is refused for '{BaseUri.Host}': the API key and token would cross the network unencrypted. Use https, or http only for a loopback host such as 127.0.0.1.");
            if (BaseUri.Scheme != Uri.UriSchemeHttp && BaseUri.Scheme != Uri.UriSchemeHttps)
                throw new ArgumentException($"The base URI scheme '{BaseUri.Scheme}' is not supported. Use https.");
            if (!string.IsNullOrEmpty(BaseUri.Query) || !string.IsNullOrEmpty(BaseUri.Fragment))
                throw new ArgumentException($"The base URI '{BaseUri}' must not carry a query or fragment.");
            // Credentials in a URI end up in logs and in Get-AhrvoConnection: refuse them, without echoing them.
            if (!string.IsNullOrEmpty(BaseUri.UserInfo))
                throw new ArgumentException($"The base URI for '{BaseUri.Host}' carries a user name or password. Give only the address; the API key and token are separate parameters.");
            if (ApiKey.Length == 0)
                throw new ArgumentException("The API key is empty.");
            if (AccessToken.Length == 0)
                throw new ArgumentException("The access token is empty.");
            if (MaxRetries < 0 || MaxRetries > 20)
                throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "MaxRetries must be between 0 and 20.");
            if (AttemptTimeout <= TimeSpan.Zero || TotalTimeout <= TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), "Timeouts must be positive.");
            if (TokenProviderTimeout <= TimeSpan.Zero || TokenProviderTimeout > TimeSpan.FromHours(1))
                throw new ArgumentOutOfRangeException(nameof(TokenProviderTimeout), TokenProviderTimeout, "TokenProviderTimeout must be positive and at most an hour.");
            if (MaxRequestsPerSecond is double r && (r < 0 || double.IsNaN(r) || double.IsInfinity(r)))
                throw new ArgumentOutOfRangeException(nameof(MaxRequestsPerSecond), r, "MaxRequestsPerSecond must be zero (no ceiling) or a positive number.");
            if (Proxy != null)
            {
                if (!Proxy.IsAbsoluteUri)
                    throw new ArgumentException($"The proxy URI '{Proxy}' is not absolute.");
                if (!string.IsNullOrEmpty(Proxy.UserInfo))
                    throw new ArgumentException($"The proxy URI for '{Proxy.Host}' carries a user name or password. Give them as ProxyCredential instead, so they are never shown.");
                if (Proxy.Scheme != Uri.UriSchemeHttp && Proxy.Scheme != Uri.UriSchemeHttps)
                    throw new ArgumentException($"The proxy scheme '{Proxy.Scheme}' is not supported. Use an http:// proxy address.");
                // Over plain http the proxy sees the headers: only a loopback one may carry them.
                if (BaseUri.Scheme == Uri.UriSchemeHttp && !Proxy.IsLoopback)
                    throw new ArgumentException($"Plain http to '{BaseUri.Host}' through the proxy '{Proxy.Host}' is refused: the proxy would see the API key and token. Use https.");
            }
            if (RetryBaseDelay <= TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(RetryBaseDelay), "RetryBaseDelay must be positive.");
            if (MaxRetryDelay < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(MaxRetryDelay), "MaxRetryDelay must not be negative.");
        }
    }
}
