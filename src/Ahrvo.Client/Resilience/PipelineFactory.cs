using System;
using System.Globalization;
using System.Net.Http;
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
    /// → optional client rate limit → per-attempt timeout.
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
                return outcome.Exception is HttpRequestException
                    || outcome.Exception is TimeoutRejectedException
                    || outcome.Exception is System.IO.IOException;
            return IsTransientStatus(outcome.Result!.StatusCode);
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
                        // Retry-After wins over our own backoff, capped so a hostile value cannot stall a run.
                        var hinted = args.Outcome.Result?.RetryAfter;
                        if (hinted is TimeSpan h)
                        {
                            var wait = h > options.MaxRetryDelay ? options.MaxRetryDelay : h;
                            return new ValueTask<TimeSpan?>(wait);
                        }
                        return new ValueTask<TimeSpan?>((TimeSpan?)null);
                    },
                    OnRetry = args =>
                    {
                        var result = args.Outcome.Result;
                        if (result != null && result.RetryAfter is TimeSpan && (result.StatusCode == 429 || result.StatusCode == 503))
                            gate.PushBack(args.RetryDelay); // every worker of this connection waits, not only this one
                        else if (result != null && result.StatusCode == 429)
                            gate.PushBack(args.RetryDelay);

                        if (args.Context.Properties.TryGetValue(StateKey, out var state) && state.Diagnostics != null)
                        {
                            var why = args.Outcome.Exception != null ? Describe(args.Outcome.Exception) : "HTTP " + result!.StatusCode.ToString(CultureInfo.InvariantCulture);
                            state.Diagnostics.Verbose(string.Format(CultureInfo.InvariantCulture,
                                "Card {0}: attempt {1} failed ({2}); retrying in {3:0.###} s ({4} of {5} retries).",
                                state.CardId, args.AttemptNumber + 1, why, args.RetryDelay.TotalSeconds, args.AttemptNumber + 1, options.MaxRetries));
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
    }
}
