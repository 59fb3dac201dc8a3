using System;
using System.Management.Automation;
using System.Net;
using System.Security;
using Ahrvo.Client;
using Ahrvo.PowerShell.Auth;

namespace Ahrvo.PowerShell.Cmdlets
{
    [Cmdlet(VerbsCommunications.Connect, "Ahrvo", DefaultParameterSetName = EnvironmentSet)]
    [OutputType(typeof(AhrvoConnection))]
    public sealed class ConnectAhrvoCommand : PSCmdlet
    {
        private const string EnvironmentSet = "Environment";
        private const string BaseUriSet = "BaseUri";
        internal const string ApiKeyVariable = "AHRVO_API_KEY";
        internal const string AccessTokenVariable = "AHRVO_ACCESS_TOKEN";

        [Parameter(Position = 0)]
        public SecureString? ApiKey { get; set; }

        [Parameter(Position = 1)]
        public SecureString? AccessToken { get; set; }

        [Parameter(ParameterSetName = EnvironmentSet)]
        [ValidateSet("Production", "Staging")]
        public string Environment { get; set; } = "Production";

        [Parameter(Mandatory = true, ParameterSetName = BaseUriSet)]
        [ValidateNotNull]
        public Uri? BaseUri { get; set; }

        [Parameter]
        [ValidateRange(0, 20)]
        public int MaxRetries { get; set; } = 3;

        [Parameter]
        [Alias("Timeout")]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 120;

        [Parameter]
        [ValidateRange(1, 3600)]
        public int AttemptTimeoutSec { get; set; } = 30;

        [Parameter]
        [ValidateRange(0, 3600)]
        public int MaxRetryDelaySec { get; set; } = 30;

        [Parameter]
        [ValidateRange(1, 60000)]
        public int RetryBaseDelayMs { get; set; } = 500;

        [Parameter]
        [ValidateRange(0.01, 100000.0)]
        public double MaxRequestsPerSecond { get; set; }

        [Parameter]
        public Uri? Proxy { get; set; }

        [Parameter]
        [Credential]
        public PSCredential? ProxyCredential { get; set; }

        [Parameter]
        public string? AuditLogPath { get; set; }

        [Parameter]
        [ValidateNotNull]
        public ScriptBlock? TokenProvider { get; set; }

        /// <summary>How long one call to -TokenProvider may take (at connect and at each renewal).</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TokenProviderTimeoutSec { get; set; } = 30;

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        // Ctrl+C while the token provider runs at connect.
        private readonly System.Threading.CancellationTokenSource _stop = new System.Threading.CancellationTokenSource();

        protected override void StopProcessing() => _stop.Cancel();

        protected override void EndProcessing()
        {
            string source = "parameters";
            var apiKey = ApiKey;
            var token = AccessToken;
            ScriptTokenProvider? provider = null;
            if (TokenProvider != null)
            {
                provider = new ScriptTokenProvider(TokenProvider);
                if (token == null)
                {
                    token = FirstToken(provider);
                }
            }
            if (apiKey == null || token == null)
            {
                var missing = new System.Collections.Generic.List<string>();
                if (apiKey == null) apiKey = FromEnvironment(ApiKeyVariable, "-ApiKey", missing);
                if (token == null) token = FromEnvironment(AccessTokenVariable, "-AccessToken (or -TokenProvider)", missing);
                if (missing.Count > 0)
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException($"Missing {string.Join(" and ", missing)}. Pass them as SecureString, e.g. -ApiKey (Read-Host -AsSecureString), or set the environment variables {ApiKeyVariable} and {AccessTokenVariable} for unattended scripts."),
                        "Ahrvo.MissingCredentials", ErrorCategory.InvalidArgument, null));
                }
                source = ApiKey == null && AccessToken == null && provider == null ? "environment" : "parameters and environment";
            }
            if (provider != null) source += ", token from -TokenProvider";

            AhrvoEnvironment environment;
            Uri baseUri;
            if (ParameterSetName == BaseUriSet)
            {
                environment = AhrvoEnvironment.Custom;
                baseUri = BaseUri!;
            }
            else
            {
                environment = string.Equals(Environment, "Staging", StringComparison.OrdinalIgnoreCase) ? AhrvoEnvironment.Staging : AhrvoEnvironment.Production;
                baseUri = environment == AhrvoEnvironment.Staging ? AhrvoClientOptions.StagingUri : AhrvoClientOptions.ProductionUri;
            }

            var options = new AhrvoClientOptions(baseUri, ReadOnlyCopy(apiKey!), ReadOnlyCopy(token!))
            {
                MaxRetries = MaxRetries,
                TotalTimeout = TimeSpan.FromSeconds(TimeoutSec),
                AttemptTimeout = TimeSpan.FromSeconds(Math.Min(AttemptTimeoutSec, TimeoutSec)),
                MaxRetryDelay = TimeSpan.FromSeconds(MaxRetryDelaySec),
                RetryBaseDelay = TimeSpan.FromMilliseconds(RetryBaseDelayMs),
                MaxRequestsPerSecond = MaxRequestsPerSecond > 0 ? MaxRequestsPerSecond : (double?)null,
                Proxy = Proxy,
                ProxyCredential = ProxyCredential?.GetNetworkCredential(),
                AuditLogPath = string.IsNullOrEmpty(AuditLogPath) ? null : GetUnresolvedProviderPathFromPSPath(AuditLogPath),
                AccessTokenProvider = provider == null ? null : provider.GetAsync,
                TokenProviderTimeout = TimeSpan.FromSeconds(TokenProviderTimeoutSec),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException ex)
            {
                ThrowTerminatingError(Errors.ErrorRecords.InvalidConnection(ex, options));
            }

            if (options.AuditLogPath != null)
            {
                // Opened (or created 0600) now: a path that cannot be written fails here, not at the first query.
                try
                {
                    AhrvoClient.CheckAuditLog(options.AuditLogPath);
                }
                catch (AuditLogException ex)
                {
                    provider?.Dispose();
                    ThrowTerminatingError(Errors.ErrorRecords.AuditLogFailed(ex));
                }
                WriteVerbose("Audit log: '" + options.AuditLogPath + "' (one line per balance query, readable by its owner only).");
            }

            var connection = new AhrvoConnection(environment, options, source, provider);
            AhrvoSession.Set(connection);
            WriteVerbose($"Connected to Ahrvo {environment} at {baseUri} (credentials from {source}); the HTTP client starts with the first query.");
            if (PassThru) WriteObject(connection);
        }

        /// <summary>
        /// The provider's first token, off the pipeline thread: the wait ends at -TokenProviderTimeoutSec
        /// or at Ctrl+C, which stop the script, so a provider that hangs never hangs Connect-Ahrvo.
        /// </summary>
        private SecureString FirstToken(ScriptTokenProvider provider)
        {
            using var limit = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var call = provider.GetAsync(limit.Token);
            Exception? failure = null;
            try
            {
                if (call.Wait(TokenProviderTimeoutSec * 1000, _stop.Token)) return call.Result;
                limit.Cancel(); // stops the script
                failure = new Ahrvo.Client.Auth.TokenProviderException(string.Format(System.Globalization.CultureInfo.InvariantCulture,
                    "The -TokenProvider script did not answer within {0} s (-TokenProviderTimeoutSec), so it was stopped.", TokenProviderTimeoutSec), didNotAnswer: true);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                limit.Cancel();
                provider.Dispose();
                throw new PipelineStoppedException();
            }
            catch (AggregateException ex) when (ex.InnerException is Ahrvo.Client.Auth.TokenProviderException)
            {
                failure = ex.InnerException;
            }
            catch (AggregateException ex) when (ex.InnerException is OperationCanceledException && _stop.IsCancellationRequested)
            {
                provider.Dispose();
                throw new PipelineStoppedException();
            }
            provider.Dispose();
            ThrowTerminatingError(new ErrorRecord(failure!, "Ahrvo.TokenProviderFailed", ErrorCategory.AuthenticationError, null)
            {
                ErrorDetails = new ErrorDetails(failure!.Message)
                {
                    RecommendedAction = ((Ahrvo.Client.Auth.TokenProviderException)failure).DidNotAnswer
                        ? "Run the -TokenProvider script by hand to see why it does not return; raise -TokenProviderTimeoutSec if it is only slow."
                        : "Run the -TokenProvider script by hand to see what it returns, or connect with -AccessToken.",
                },
            });
            throw new InvalidOperationException("unreachable");
        }

        private static SecureString? FromEnvironment(string variable, string parameter, System.Collections.Generic.List<string> missing)
        {
            var value = System.Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(value))
            {
                missing.Add($"{parameter} (or the {variable} environment variable)");
                return null;
            }
            var secure = new SecureString();
            foreach (var c in value!) secure.AppendChar(c);
            secure.MakeReadOnly();
            return secure;
        }

        // A private copy: the caller may dispose or change theirs later.
        private static SecureString ReadOnlyCopy(SecureString s)
        {
            var copy = s.Copy();
            copy.MakeReadOnly();
            return copy;
        }
    }
}
