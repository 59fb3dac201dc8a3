using System;
using System.Globalization;
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
        private readonly TimeSpan _providerTimeout;
        private readonly object _lock = new object();
        private Current _current;
        private Renewal? _renewing;

        public AccessTokens(SecureString initial, Func<CancellationToken, Task<SecureString>>? provider, TimeProvider time)
            : this(initial, provider, time, AhrvoClientOptions.DefaultTokenProviderTimeout) { }

        /// <param name="providerTimeout">How long one call to the provider may take; after it the call is cancelled and the renewal fails.</param>
        public AccessTokens(SecureString initial, Func<CancellationToken, Task<SecureString>>? provider, TimeProvider time, TimeSpan providerTimeout)
        {
            _provider = provider;
            _time = time;
            _providerTimeout = providerTimeout;
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

        /// <summary>One call to the provider, shared by the cards waiting for it.</summary>
        private sealed class Renewal
        {
            public readonly TaskCompletionSource<Current> Done = new TaskCompletionSource<Current>(TaskCreationOptions.RunContinuationsAsynchronously);
            public readonly CancellationTokenSource Stop = new CancellationTokenSource();
            public int Waiters;
            public bool Abandoned; // every card waiting for it stopped waiting
        }

        public bool CanRenew => _provider != null;

        public Current Now => Volatile.Read(ref _current);

        /// <summary>
        /// The token to send: renewed first when a provider is set and it is about to expire. The
        /// caller waits for a renewal at most <paramref name="wait"/> (what is left of its time).
        /// </summary>
        public ValueTask<Current> GetAsync(TimeSpan wait, CancellationToken cancellationToken)
        {
            var current = Volatile.Read(ref _current);
            if (_provider == null || current.ExpiresAt is not DateTimeOffset exp) return new ValueTask<Current>(current);
            var life = exp - current.ObtainedAt;
            var ahead = life > TimeSpan.FromTicks(RenewAhead.Ticks * 4) ? RenewAhead : TimeSpan.FromTicks(Math.Max(0, life.Ticks / 4));
            return _time.GetUtcNow() < exp - ahead ? new ValueTask<Current>(current) : new ValueTask<Current>(RenewAsync(current.Generation, wait, cancellationToken));
        }

        /// <summary>
        /// Replaces the token of generation <paramref name="refused"/>. Callers that saw the same
        /// generation share one call to the provider; one that saw an older generation gets the
        /// current token without a new call. Each caller waits at most <paramref name="wait"/> and
        /// until its <paramref name="cancellationToken"/>; the call itself is cancelled after the
        /// provider timeout, or when no caller waits for it any more (Ctrl+C), and the next caller
        /// after that asks the provider again.
        /// </summary>
        public Task<Current> RenewAsync(long refused, CancellationToken cancellationToken) => RenewAsync(refused, Timeout.InfiniteTimeSpan, cancellationToken);

        public ValueTask<Current> GetAsync(CancellationToken cancellationToken) => GetAsync(Timeout.InfiniteTimeSpan, cancellationToken);

        public Task<Current> RenewAsync(long refused, TimeSpan wait, CancellationToken cancellationToken)
        {
            if (_provider == null) throw new InvalidOperationException("No token provider.");
            Renewal renewal;
            bool start = false;
            lock (_lock)
            {
                if (_current.Generation != refused) return Task.FromResult(_current);
                if (_renewing == null)
                {
                    // Published before the provider runs, so a provider that finishes at once cannot
                    // leave a finished renewal behind for the next wave.
                    _renewing = new Renewal();
                    start = true;
                }
                renewal = _renewing;
                renewal.Waiters++;
            }
            if (start) _ = CallProviderAsync(refused + 1, renewal);
            return WaitForAsync(renewal, wait, cancellationToken);
        }

        private async Task<Current> WaitForAsync(Renewal renewal, TimeSpan wait, CancellationToken cancellationToken)
        {
            try
            {
                if (!renewal.Done.Task.IsCompleted)
                {
                    using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    // A wait as long as the provider's own limit needs no timer: that limit ends the renewal first.
                    var timer = wait >= _providerTimeout || wait == Timeout.InfiniteTimeSpan
                        ? Task.Delay(Timeout.Infinite, stop.Token)
                        : _time.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stop.Token);
                    var first = await Task.WhenAny(renewal.Done.Task, timer).ConfigureAwait(false);
                    stop.Cancel(); // the timer, when the token came first
                    if (first != renewal.Done.Task)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new TokenProviderException(string.Format(CultureInfo.InvariantCulture,
                            "The token provider did not answer in the {0:0.###} s the card had left (a call to it may take {1:0.###} s).",
                            wait.TotalSeconds, _providerTimeout.TotalSeconds), didNotAnswer: true);
                    }
                }
                return await renewal.Done.Task.ConfigureAwait(false);
            }
            finally
            {
                bool abandon;
                lock (_lock)
                {
                    abandon = --renewal.Waiters == 0 && !renewal.Done.Task.IsCompleted;
                    // Unpublished at once: the next wave must start a call of its own, not join this dying one.
                    if (abandon && _renewing == renewal) _renewing = null;
                }
                if (abandon)
                {
                    // Nobody waits for it any more: stop the provider (a script is stopped), so a
                    // Ctrl+C or cards out of time leave nothing running; the next wave asks again.
                    renewal.Abandoned = true;
                    try { renewal.Stop.Cancel(); } catch (ObjectDisposedException) { }
                }
            }
        }

        private async Task CallProviderAsync(long generation, Renewal renewal)
        {
            Current? issued = null;
            Exception? failure = null;
            try
            {
                // Not a caller's cancellation: the renewal is shared, and one card stopping must not
                // fail it for the others. Its own: the provider timeout, or no one waiting any more.
                var call = _provider!(renewal.Stop.Token);
                var limit = _time.Delay(_providerTimeout, renewal.Stop.Token);
                var first = await Task.WhenAny(call, limit).ConfigureAwait(false);
                if (first != call)
                {
                    bool abandoned = renewal.Abandoned;
                    try { renewal.Stop.Cancel(); } catch (ObjectDisposedException) { }
                    // A provider that ignores its cancellation is left to finish on its own; its token is not used.
                    _ = call.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    throw abandoned
                        ? new TokenProviderException("The token provider was stopped: no card was waiting for it any more.", didNotAnswer: true)
                        : new TokenProviderException(string.Format(CultureInfo.InvariantCulture,
                            "The token provider did not answer within {0:0.###} s, so it was stopped.", _providerTimeout.TotalSeconds), didNotAnswer: true);
                }
                var token = await call.ConfigureAwait(false);
                if (token == null || token.Length == 0) throw new TokenProviderException("The token provider returned no token.");
                issued = Issue(token, generation);
            }
            catch (Exception ex)
            {
                failure = ex is TokenProviderException ? ex
                    : ex is OperationCanceledException && renewal.Stop.IsCancellationRequested ? new TokenProviderException("The token provider was stopped before it answered.", ex, didNotAnswer: true)
                    : new TokenProviderException("The token provider failed (" + ex.GetType().Name + ").", ex);
            }
            lock (_lock)
            {
                if (issued != null) _current = issued;
                if (_renewing == renewal) _renewing = null;
            }
            if (issued != null) renewal.Done.SetResult(issued);
            else renewal.Done.SetException(failure!);
            _ = renewal.Done.Task.Exception; // observed: a renewal nobody waits for any more must not fault the process
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
