using System;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Ahrvo.Client.Diagnostics;

namespace Ahrvo.Client.Auth
{
    /// <summary>
    /// The connection's access token. Fixed, or renewed through a provider (Connect-Ahrvo
    /// -TokenProvider): after a 401, at most once per wave of 401s (the renewal is shared by every
    /// card that saw the same token refused), and shortly before a JWT's <c>exp</c>. Each token has
    /// a generation, so a card can tell whether the token it was refused with is still current.
    /// </summary>
    internal sealed class AccessTokens
    {
        // A token is renewed this long before its exp at most (a quarter of its life when shorter).
        private static readonly TimeSpan RenewAhead = TimeSpan.FromSeconds(60);

        private readonly Func<CancellationToken, Task<SecureString>>? _provider;
        private readonly TimeProvider _time;
        private readonly object _lock = new object();
        private Current _current;
        private Task<Current>? _renewing;

        public AccessTokens(SecureString initial, Func<CancellationToken, Task<SecureString>>? provider, TimeProvider time)
        {
            _provider = provider;
            _time = time;
            _current = Issue(initial, 0);
        }

        /// <summary>A token and what is known of it.</summary>
        public sealed class Current
        {
            public Current(SecureString token, long generation, DateTimeOffset? expiresAt, DateTimeOffset obtainedAt)
            {
                Token = token;
                Generation = generation;
                ExpiresAt = expiresAt;
                ObtainedAt = obtainedAt;
            }

            public SecureString Token { get; }
            public long Generation { get; }
            public DateTimeOffset? ExpiresAt { get; }
            public DateTimeOffset ObtainedAt { get; }
        }

        public bool CanRenew => _provider != null;

        public Current Now => Volatile.Read(ref _current);

        /// <summary>The token to send: renewed first when a provider is set and it is about to expire.</summary>
        public ValueTask<Current> GetAsync(CancellationToken cancellationToken)
        {
            var current = Volatile.Read(ref _current);
            if (_provider == null || current.ExpiresAt is not DateTimeOffset exp) return new ValueTask<Current>(current);
            var life = exp - current.ObtainedAt;
            var ahead = life > TimeSpan.FromTicks(RenewAhead.Ticks * 4) ? RenewAhead : TimeSpan.FromTicks(Math.Max(0, life.Ticks / 4));
            return _time.GetUtcNow() < exp - ahead ? new ValueTask<Current>(current) : new ValueTask<Current>(RenewAsync(current.Generation, cancellationToken));
        }

        /// <summary>
        /// Replaces the token of generation <paramref name="refused"/>. Callers that saw the same
        /// generation share one call to the provider; one that saw an older generation gets the
        /// current token without a new call.
        /// </summary>
        public Task<Current> RenewAsync(long refused, CancellationToken cancellationToken)
        {
            if (_provider == null) throw new InvalidOperationException("No token provider.");
            TaskCompletionSource<Current> renewal;
            lock (_lock)
            {
                if (_current.Generation != refused) return Task.FromResult(_current);
                if (_renewing != null) return _renewing;
                // Published before the provider runs, so a provider that finishes at once cannot
                // leave a finished renewal behind for the next wave.
                renewal = new TaskCompletionSource<Current>(TaskCreationOptions.RunContinuationsAsynchronously);
                _renewing = renewal.Task;
            }
            _ = CallProviderAsync(refused + 1, renewal);
            return renewal.Task;
        }

        private async Task CallProviderAsync(long generation, TaskCompletionSource<Current> renewal)
        {
            Current? issued = null;
            Exception? failure = null;
            try
            {
                // Not the caller's cancellation: the renewal is shared, and one card stopping must not fail it for the others.
                var token = await _provider!(CancellationToken.None).ConfigureAwait(false);
                if (token == null || token.Length == 0) throw new TokenProviderException("The token provider returned no token.");
                issued = Issue(token, generation);
            }
            catch (Exception ex)
            {
                failure = ex is TokenProviderException ? ex : new TokenProviderException("The token provider failed (" + ex.GetType().Name + ").", ex);
            }
            lock (_lock)
            {
                if (issued != null) _current = issued;
                _renewing = null;
            }
            if (issued != null) renewal.SetResult(issued);
            else renewal.SetException(failure!);
        }

        private Current Issue(SecureString token, long generation)
        {
            var now = _time.GetUtcNow();
            return new Current(token, generation, ReadJwtExpiry(token), now);
        }

        /// <summary>The <c>exp</c> claim of a JWT (header.payload.signature, base64url JSON), or null for any other token.</summary>
        internal static DateTimeOffset? ReadJwtExpiry(SecureString token)
        {
            var text = SecretText.Reveal(token);
            int first = text.IndexOf('.');
            int second = first < 0 ? -1 : text.IndexOf('.', first + 1);
            if (first <= 0 || second < 0 || text.IndexOf('.', second + 1) >= 0) return null;
            try
            {
                var payload = text.Substring(first + 1, second - first - 1).Replace('-', '+').Replace('_', '/');
                payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
                using var doc = JsonDocument.Parse(Convert.FromBase64String(payload));
                if (doc.RootElement.ValueKind == JsonValueKind.Object
                    && doc.RootElement.TryGetProperty("exp", out var exp)
                    && exp.ValueKind == JsonValueKind.Number
                    && exp.TryGetInt64(out long seconds)
                    && seconds > 0 && seconds < 253402300799)
                    return DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
            catch (Exception ex) when (ex is FormatException || ex is JsonException || ex is ArgumentException)
            {
                // Not a JWT we can read: the token is used as it is, renewed only after a 401.
            }
            return null;
        }
    }

}
