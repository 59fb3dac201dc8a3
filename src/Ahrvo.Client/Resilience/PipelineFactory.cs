using System;
using System.Globalization;
using System.Net.Http;
using System.Security.Authentication;
using System.Threading.Tasks;
using System.Threading.RateLimiting;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Builds the per-connection Polly pipeline, outermost first:
    /// total timeout → retry (backoff with jitter, Retry-After honoured and capped) → circuit breaker
    /// → optional client rate limit → server back-off gate → per-attempt timeout.
    /// </summary>
    internal static class PipelineFactory
    {
        public static readonly ResiliencePropertyKey<CallState> StateKey = new ResiliencePropertyKey<CallState>("ahrvo.call");

        // An explicit list: a 501 or 505 will not get better by asking again.
        public static bool IsTransientStatus(int status) =>
            status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;

        public static bool IsTransient(Outcome<AttemptResponse> outcome)
        {
            if (outcome.Exception != null)
                return (outcome.Exception is HttpRequestException && !IsTlsFailure(outcome.Exception))
                    || outcome.Exception is TimeoutRejectedException
                    || outcome.Exception is System.IO.IOException;
            return IsTransientStatus(outcome.Result!.StatusCode);
        }

        /// <summary>A certificate the platform does not trust will not become trusted by asking again.</summary>
        public static bool IsTlsFailure(Exception ex)
        {
            for (var e = ex; e != null; e = e.InnerException)
                if (e is AuthenticationException) return true;
            return false;
        }

        public static ResiliencePipeline<AttemptResponse> Build(AhrvoClientOptions options, ServerBackoffGate gate)
        {
            var builder = new ResiliencePipelineBuilder<AttemptResponse>();

            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.TotalTimeout });

            if (options.MaxRetries > 0)
            {
                builder.AddRetry(new RetryStrategyOptions<AttemptResponse>
                {
                    MaxRetryAttempts = options.MaxRetries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.RetryBaseDelay,
                    MaxDelay = options.MaxRetryDelay,
                    ShouldHandle = args => new ValueTask<bool>(IsTransient(args.Outcome)),
                    DelayGenerator = args =>
                    {
                        // Retry-After wins over our own backoff, capped so a hostile value cannot stall a
                        // run. "Retry-After: 0" is no reason to hammer: our own backoff applies then.
                        var hinted = args.Outcome.Result?.RetryAfter;
                        if (hinted is TimeSpan h && h > TimeSpan.Zero)
                            return new ValueTask<TimeSpan?>(h > options.MaxRetryDelay ? options.MaxRetryDelay : h);
                        return new ValueTask<TimeSpan?>((TimeSpan?)null);
                    },
                    OnRetry = args =>
                    {
                        var result = args.Outcome.Result;
                        bool serverPaced = result != null && (result.StatusCode == 429 || (result.StatusCode == 503 && result.RetryAfter is TimeSpan));
                        // The server asked this connection to slow down: every worker waits, not only this one.
                        if (serverPaced) gate.PushBack(args.RetryDelay);

                        if (args.Context.Properties.TryGetValue(StateKey, out var state))
                        {
                            var why = args.Outcome.Exception != null ? Describe(args.Outcome.Exception) : "HTTP " + result!.StatusCode.ToString(CultureInfo.InvariantCulture);
                            state.LastFailure = why;
                            if (state.Diagnostics != null && state.Diagnostics.VerboseEnabled)
                            {
                                string pacing = string.Empty;
                                if (result?.RetryAfter is TimeSpan ra && ra > TimeSpan.Zero)
                                    pacing = ra > options.MaxRetryDelay
                                        ? string.Format(CultureInfo.InvariantCulture, "; the server asked for {0:0.###} s (Retry-After), capped by -MaxRetryDelaySec", ra.TotalSeconds)
                                        : "; as the server asked (Retry-After)";
                                if (serverPaced) pacing += "; every request of this connection waits as long";
                                state.Diagnostics.Verbose(string.Format(CultureInfo.InvariantCulture,
                                    "Card {0}: attempt {1} failed ({2}); retrying in {3:0.###} s{4} (retry {5} of {6}).",
                                    state.CardId, args.AttemptNumber + 1, why, args.RetryDelay.TotalSeconds, pacing, args.AttemptNumber + 1, options.MaxRetries));
                            }
                        }
                        return default;
                    },
                });
            }

            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptResponse>
            {
                FailureRatio = options.CircuitBreakerFailureRatio,
                MinimumThroughput = options.CircuitBreakerMinimumThroughput,
                SamplingDuration = options.CircuitBreakerSamplingDuration,
                BreakDuration = options.CircuitBreakerBreakDuration,
                // A 429 is the server pacing us, not the server being down.
                ShouldHandle = args => new ValueTask<bool>(IsTransient(args.Outcome) && args.Outcome.Result?.StatusCode != 429),
            });

            if (options.MaxRequestsPerSecond is double rps && rps > 0)
            {
                // Spread tokens evenly; batch them above 100/s because timers are not finer than ~10 ms.
                int perPeriod = rps > 100 ? (int)Math.Ceiling(rps / 100) : 1;
                var period = TimeSpan.FromSeconds(perPeriod / rps);
                builder.AddRateLimiter(new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
                {
                    TokenLimit = perPeriod,
                    TokensPerPeriod = perPeriod,
                    ReplenishmentPeriod = period,
                    QueueLimit = int.MaxValue,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    AutoReplenishment = true,
                }));
            }

            // Innermost but outside the attempt timeout: waiting out a server's Retry-After is not the
            // attempt being slow, and must neither time the attempt out nor count against the breaker.
            builder.AddStrategy(_ => new ServerBackoffStrategy(gate), new ServerBackoffStrategyOptions());

            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.AttemptTimeout });
            return builder.Build();
        }

        internal static string Describe(Exception ex) => ex switch
        {
            TimeoutRejectedException t => "no answer within " + t.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s",
            HttpRequestException h => "network error: " + (h.InnerException?.Message ?? h.Message),
            System.IO.IOException io => "connection dropped: " + io.Message,
            _ => ex.GetType().Name + ": " + ex.Message,
        };

        private sealed class ServerBackoffStrategyOptions : ResilienceStrategyOptions
        {
            public ServerBackoffStrategyOptions() => Name = "ServerBackoff";
        }

        /// <summary>Holds an attempt back while the connection's <see cref="ServerBackoffGate"/> is closed.</summary>
        private sealed class ServerBackoffStrategy : ResilienceStrategy
        {
            private readonly ServerBackoffGate _gate;

            public ServerBackoffStrategy(ServerBackoffGate gate) => _gate = gate;

            // Not async when the gate is open (nearly always): the attempt's own task is returned as it
            // is, with no state machine of this layer allocated per attempt.
            protected override ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
                Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state) =>
                _gate.Remaining > TimeSpan.Zero ? WaitThenExecute(callback, context, state) : callback(context, state);

            private async ValueTask<Outcome<TResult>> WaitThenExecute<TResult, TState>(
                Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
            {
                try
                {
                    await _gate.WaitAsync(context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
                }
                catch (OperationCanceledException ex)
                {
                    return Outcome.FromException<TResult>(ex);
                }
                return await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
            }
        }
    }
}
