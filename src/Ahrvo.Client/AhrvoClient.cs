using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Ahrvo.Client.Auth;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Http;
using Ahrvo.Client.Parsing;
using Ahrvo.Client.Resilience;
using Polly;
using Polly.Timeout;

namespace Ahrvo.Client
{
    /// <summary>
    /// The Ahrvo balance API client for one connection, shared by every call and thread: one HTTP
    /// transport (pooled connections), one adaptive pace, one view of the service's health. Calls
    /// never throw for a card's failure: they return a <see cref="BalanceResult"/> carrying an
    /// <see cref="AhrvoError"/>. Only cancellation by the caller throws (OperationCanceledException).
    /// </summary>
    /// <remarks>
    /// A card goes through steps (<see cref="StepAsync"/>): wait while the service is down, take a
    /// send slot from the pace, send one attempt, then either finish or name the time it may try
    /// again. A bulk run parks a card between steps without holding a worker; a single call awaits.
    /// Design and reasons: docs/reliability.md.
    /// </remarks>
    public sealed class AhrvoClient : IDisposable
    {
        private static readonly ResiliencePropertyKey<bool> ProbeKey = new ResiliencePropertyKey<bool>("ahrvo.probe");
        private static readonly ResiliencePropertyKey<long> DeadlineKey = new ResiliencePropertyKey<long>("ahrvo.deadline");
        private static readonly TimeSpan MinPause = TimeSpan.FromMilliseconds(1);

        private readonly AhrvoClientOptions _options;
        private readonly TimeProvider _time;
        private readonly ApiTransport _transport;
        private readonly ResponseInterpreter _interpreter;
        private readonly ResiliencePipeline _attemptTimeout;
        private readonly AdaptiveRateLimiter _pacer;
        private readonly ServiceHealth _health;
        private readonly AuditLog? _audit;
        private readonly AccessTokens _tokens;
        private RequestDiagnostics? _lastDiagnostics; // where messages not tied to a card go (a hang seen by the timer)
        private long _requests;
        private long _retries;
        private int _disposed;
        private readonly ServerText _text;

        public AhrvoClient(AhrvoClientOptions options)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            options.Validate();
            _time = options.Time;
            _tokens = new AccessTokens(options.AccessToken, options.AccessTokenProvider, _time, options.TokenProviderTimeout);
            var text = _text = new ServerText(options.ApiKey, () => _tokens.Now.Token);
            _transport = new ApiTransport(options, text);
            _interpreter = new ResponseInterpreter(text, options);
            _pacer = new AdaptiveRateLimiter(_time, options.MaxRequestsPerSecond);
            _health = new ServiceHealth(_time, options.AttemptTimeout, budget: options.TotalTimeout);
            _health.HangDetected = m => Volatile.Read(ref _lastDiagnostics)?.Verbose(m);
            // Polly times each attempt: the usual one gets -AttemptTimeoutSec, a probe of a service
            // that looks down gets the hang threshold, and neither outlives the card's budget.
            _attemptTimeout = new ResiliencePipelineBuilder { TimeProvider = _time }
                .AddTimeout(new TimeoutStrategyOptions
                {
                    TimeoutGenerator = args =>
                    {
                        var limit = args.Context.Properties.GetValue(ProbeKey, false) ? _health.HangThreshold : options.AttemptTimeout;
                        var left = Elapsed(args.Context.Properties.GetValue(DeadlineKey, long.MaxValue) - _time.GetTimestamp());
                        if (left < limit) limit = left > MinPause ? left : MinPause;
                        return new ValueTask<TimeSpan>(limit);
                    },
                })
                .Build();
            if (!string.IsNullOrEmpty(options.AuditLogPath)) _audit = new AuditLog(options.AuditLogPath!);
        }

        public AhrvoClientOptions Options => _options;

        /// <summary>Requests sent by this connection (every attempt).</summary>
        public long RequestsSent => Interlocked.Read(ref _requests);

        /// <summary>Requests that were a card's second or later attempt.</summary>
        public long Retries => Interlocked.Read(ref _retries);

        /// <summary>429 answers received.</summary>
        public long ThrottledResponses => _pacer.Throttled;

        /// <summary>The pace learned from the server's 429s, in requests per second; null while the server has not throttled.</summary>
        public double? LearnedRequestsPerSecond => _pacer.LearnedRate;

        /// <summary>The pace applied now (the learned one or -MaxRequestsPerSecond, the lower); null when requests are not paced.</summary>
        public double? PacedRequestsPerSecond => _pacer.CurrentRate;

        /// <summary>When the service was seen to go down, or null while it answers.</summary>
        public DateTimeOffset? ServiceDownSince => _health.DownSince;

        /// <summary>When the current access token expires, when it is a JWT with an exp claim; else null.</summary>
        public DateTimeOffset? AccessTokenExpiresAt => _tokens.Now.ExpiresAt;

        /// <summary>The exp of the options' access token, when it is a JWT; null otherwise.</summary>
        public static DateTimeOffset? TokenExpiry(AhrvoClientOptions options) => AccessTokens.ReadJwtExpiry(options.AccessToken);

        /// <summary>Tokens obtained from the token provider since the connection was made (the first included).</summary>
        public long TokenRenewals => _tokens.Now.Generation;

        /// <summary>The HttpClient an attempt uses; for tests of its configuration.</summary>
        internal System.Net.Http.HttpClient CreateHttpClient() => _transport.CreateHttpClient();

        internal ServiceHealth Health => _health;

        /// <summary>Reads one card's balance, with retries, pacing, outage waits and error mapping.</summary>
        public async Task<BalanceResult> GetBalanceAsync(string cardId, RequestDiagnostics? diagnostics = null, CancellationToken cancellationToken = default)
        {
            var call = StartCall(cardId, diagnostics, BeginRun(), out var refused);
            if (refused != null) return refused;
            while (true)
            {
                var result = await StepAsync(call!, cancellationToken).ConfigureAwait(false);
                if (result != null) return result;
                await DelayUntilAsync(call!.RetryAt, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>A command starts: its timestamp, for the cards' outage budget; a service seen down is probed at once.</summary>
        internal long BeginRun()
        {
            _health.OnRunStart();
            return _time.GetTimestamp();
        }

        /// <summary>A card's query, or its result at once when the id cannot be sent.</summary>
        internal CardCall? StartCall(string cardId, RequestDiagnostics? diagnostics, long runStart, out BalanceResult? refused)
        {
            if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(AhrvoClient), "This client was disposed: create a new one to query again.");
            var problem = CardIdRules.Check(cardId);
            if (problem != null)
            {
                refused = Audit(BalanceResult.Failed(cardId ?? string.Empty, _interpreter.RefusedId(cardId ?? string.Empty, problem), null, TimeSpan.Zero, 0));
                return null;
            }
            refused = null;
            if (diagnostics != null) Volatile.Write(ref _lastDiagnostics, diagnostics);
            return new CardCall(cardId, diagnostics, runStart);
        }

        /// <summary>Waits until a timestamp of this client's clock.</summary>
        internal Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
        {
            var wait = Elapsed(timestamp - _time.GetTimestamp());
            return wait < MinPause ? Task.CompletedTask : _time.Delay(wait, cancellationToken);
        }

        /// <summary>
        /// One step of a card: waits while the service is down (until it answers or the card's time
        /// is up), waits for its send slot, sends one attempt. Returns the card's final result, or
        /// null when it must try again at <see cref="CardCall.RetryAt"/>.
        /// </summary>
        internal async Task<BalanceResult?> StepAsync(CardCall call, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(AhrvoClient), "This client was disposed: create a new one to query again.");
            // Stopped (Ctrl+C, Select-Object -First) before this card's turn came: send nothing.
            cancellationToken.ThrowIfCancellationRequested();
            if (call.Started == 0)
            {
                call.Started = _time.GetTimestamp();
                call.Deadline = call.Started + Ticks(_options.TotalTimeout);
            }

            // 1. The service: while it is down only one probe goes out; the other cards wait.
            bool probe;
            while (true)
            {
                var admission = _health.Admit(call.Deadline, call.RunStart, _options.TotalTimeout, out long waitUntil);
                if (admission == Admission.Send || admission == Admission.Probe)
                {
                    probe = admission == Admission.Probe;
                    break;
                }
                if (admission == Admission.GiveUp)
                {
                    var since = _health.DownSince;
                    var downFor = since is DateTimeOffset d ? _time.GetUtcNow() - d : TimeSpan.Zero;
                    return Audit(BalanceResult.Failed(call.CardId, _interpreter.ServiceDown(call.CardId, call.Attempts, call.LastFailure, downFor, _health.DownReason), null, Spent(call), call.Attempts));
                }
                var changed = _health.Changed;
                var wait = Elapsed(waitUntil - _time.GetTimestamp());
                // Always a real wait, however short: a loop that only re-asks would spin until then.
                using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    var timer = _time.Delay(wait > MinPause ? wait : MinPause, stop.Token);
                    await Task.WhenAny(changed, timer).ConfigureAwait(false);
                    stop.Cancel(); // the timer, when the change came first
                }
                cancellationToken.ThrowIfCancellationRequested();
            }

            // The token to send: a provider's is renewed shortly before it expires.
            AccessTokens.Current token;
            try
            {
                token = await _tokens.GetAsync(Elapsed(call.Deadline - _time.GetTimestamp()), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                if (probe) _health.OnAttemptEnd(_time.GetTimestamp(), AttemptHealth.Abandoned, wasProbe: true, why: null);
                return Audit(BalanceResult.Failed(call.CardId, _interpreter.TokenProviderFailed(call.CardId, ex, call.Attempts, null), null, Spent(call), call.Attempts));
            }

            long sentAt, ticket;
            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            try
            {
                // 2. The pace: this card's own send slot, spaced from every other request of the connection.
                var pause = _pacer.Reserve(out var paceMessage, out ticket);
                if (paceMessage != null) call.Diagnostics?.Verbose(paceMessage);
                if (pause >= MinPause) await _time.Delay(pause, cancellationToken).ConfigureAwait(false);

                // 3. One attempt.
                context.Properties.Set(ProbeKey, probe);
                context.Properties.Set(DeadlineKey, call.Deadline);
                call.Attempts++;
                Interlocked.Increment(ref _requests);
                if (call.Attempts > 1) Interlocked.Increment(ref _retries);
                sentAt = _time.GetTimestamp();
            }
            catch (OperationCanceledException)
            {
                ResilienceContextPool.Shared.Return(context);
                if (probe) _health.OnAttemptEnd(_time.GetTimestamp(), AttemptHealth.Abandoned, wasProbe: true, why: null);
                throw;
            }

            _health.OnAttemptStart();
            AttemptResponse? response = null;
            Exception? failure = null;
            try
            {
                response = await _attemptTimeout.ExecuteAsync(
                    static (ctx, s) => new ValueTask<AttemptResponse>(s.transport.SendAsync(s.call.CardId, s.token, s.call.Diagnostics, ctx.CancellationToken)),
                    context, (transport: _transport, call, token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _health.OnAttemptEnd(sentAt, AttemptHealth.Abandoned, probe);
                // The request went out, so the API saw a query: it gets its audit line.
                try { _audit?.WriteCancelled(call.CardId, Spent(call), call.Attempts); }
                catch (AuditLogException) { } // the command is stopping anyway
                throw;
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }

            // 4. What the answer means for this card and for the connection.
            if (failure != null || response!.StatusCode != 429) _pacer.OnAnswer();
            if (failure != null)
            {
                if (!Transience.IsTransient(failure))
                {
                    _health.OnAttemptEnd(sentAt, AttemptHealth.Abandoned, probe);
                    return Audit(Final(call, null, failure));
                }
                // An exception's text may quote what the network or a proxy sent: cleaned like server text.
                var why = _text.Clean(Transience.Describe(failure), 300)!;
                Relay(call, _health.OnAttemptEnd(sentAt, AttemptHealth.Failed, probe, why));
                return Retry(call, why, null, probe, null, failure);
            }

            var answer = response!;
            if (answer.StatusCode == 401 && _tokens.CanRenew && !call.RenewedToken)
            {
                // The token may have expired: one new token for every card refused with this one,
                // and this card tries once more; a 401 after that is the account's answer.
                _health.OnAttemptEnd(sentAt, AttemptHealth.Up, probe);
                call.RenewedToken = true;
                try
                {
                    await _tokens.RenewAsync(token.Generation, Elapsed(call.Deadline - _time.GetTimestamp()), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
                {
                    return Audit(BalanceResult.Failed(call.CardId, _interpreter.TokenProviderFailed(call.CardId, ex, call.Attempts, 401), 401, Spent(call), call.Attempts));
                }
                call.Diagnostics?.Verbose(string.Format(CultureInfo.InvariantCulture,
                    "Card {0}: the API refused the access token (HTTP 401); a new one came from the token provider; trying once more.", call.CardId));
                call.RetryAt = _time.GetTimestamp();
                return null;
            }
            if (answer.StatusCode == 429)
            {
                Relay(call, _pacer.OnThrottled(ticket));
                Relay(call, _health.OnAttemptEnd(sentAt, AttemptHealth.Throttled, probe));
                call.Throttles++;
                call.LastFailure = "HTTP 429";
                // Being throttled is not a failure: no -MaxRetries, only the card's time limits it.
                var wait = Jitter.AfterThrottle(answer.RetryAfter, call.Throttles, _options.RetryBaseDelay, _options.MaxRetryDelay, Jitter.NextDouble());
                return Schedule(call, wait, "HTTP 429", answer.RetryAfter, answer, null);
            }
            if (Transience.IsTransientStatus(answer.StatusCode))
            {
                var why = "HTTP " + answer.StatusCode.ToString(CultureInfo.InvariantCulture);
                Relay(call, _health.OnAttemptEnd(sentAt, AttemptHealth.Failed, probe, why));
                return Retry(call, why, answer.StatusCode == 503 ? answer.RetryAfter : null, probe, answer, null);
            }
            _health.OnAttemptEnd(sentAt, AttemptHealth.Up, probe);
            return Audit(Final(call, answer, null));
        }

        /// <summary>
        /// The card's result from its last attempt: the answer's meaning, or the failure's;
        /// <paramref name="limit"/> is the limit that made it the last one, if one did.
        /// </summary>
        private BalanceResult Final(CardCall call, AttemptResponse? answer, Exception? failure, AhrvoLimit limit = AhrvoLimit.None)
        {
            try
            {
                return answer != null
                    ? _interpreter.Interpret(call.CardId, answer, Spent(call), call.Attempts, _time.GetUtcNow(), limit)
                    : BalanceResult.Failed(call.CardId, _interpreter.MapException(call.CardId, failure!, call.Attempts, limit), null, Spent(call), call.Attempts);
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                // A request went out, so the card must end with a result and with it its audit line
                // (the caller audits what this returns), whatever failed in reading the outcome.
                return BalanceResult.Failed(call.CardId, _interpreter.ClientFailure(call.CardId, ex, call.Attempts), answer?.StatusCode, Spent(call), call.Attempts);
            }
        }

        /// <summary>
        /// A transient failure. It counts against -MaxRetries only while the service is otherwise up:
        /// a failure during an outage (or of a probe) is the outage's, which the card waits out.
        /// </summary>
        private BalanceResult? Retry(CardCall call, string why, TimeSpan? retryAfter, bool probe, AttemptResponse? answer, Exception? failure)
        {
            call.LastFailure = why;
            bool counted = !probe && !_health.IsDown;
            if (counted && ++call.Failures > _options.MaxRetries) return Audit(Final(call, answer, failure, AhrvoLimit.MaxRetries));
            TimeSpan wait;
            if (!counted) wait = TimeSpan.Zero; // the card queues behind the probe; the outage paces it
            else
            {
                wait = Jitter.Backoff(call.Failures, _options.RetryBaseDelay, _options.MaxRetryDelay, Jitter.NextDouble());
                if (retryAfter is TimeSpan ra && ra > wait) wait = ra > _options.MaxRetryDelay ? _options.MaxRetryDelay : ra;
            }
            return Schedule(call, wait, why, retryAfter, answer, failure);
        }

        private BalanceResult? Schedule(CardCall call, TimeSpan wait, string why, TimeSpan? retryAfter, AttemptResponse? answer, Exception? failure)
        {
            long at = _time.GetTimestamp() + Ticks(wait);
            // The card's time would be up before it could try again: its last answer is its result.
            if (at >= call.Deadline) return Audit(Final(call, answer, failure, AhrvoLimit.TotalTimeout));
            call.RetryAt = at;
            var diag = call.Diagnostics;
            if (diag != null && diag.VerboseEnabled && wait > TimeSpan.Zero)
            {
                string hint = string.Empty;
                if (retryAfter is TimeSpan ra && ra > TimeSpan.Zero)
                    hint = ra > _options.MaxRetryDelay
                        ? string.Format(CultureInfo.InvariantCulture, "; the server asked for {0:0.###} s (Retry-After), capped at {1:0.###} s (MaxRetryDelay)", ra.TotalSeconds, _options.MaxRetryDelay.TotalSeconds)
                        : "; as the server asked (Retry-After)";
                diag.Verbose(string.Format(CultureInfo.InvariantCulture,
                    "Card {0}: attempt {1} failed ({2}); retrying in {3:0.###} s{4} ({5} of {6} retries for failures used; {7:0} s of its {8:0} s left).",
                    call.CardId, call.Attempts, why, wait.TotalSeconds, hint, call.Failures, _options.MaxRetries,
                    Elapsed(call.Deadline - _time.GetTimestamp()).TotalSeconds, _options.TotalTimeout.TotalSeconds));
            }
            return null;
        }

        private static void Relay(CardCall call, string? message)
        {
            if (message != null) call.Diagnostics?.Verbose(message);
        }

        /// <summary>
        /// Writes the card's audit line. When that fails, the card's result is that failure, which
        /// stops the run: no further query may go unaudited, and the disk is not the API's fault.
        /// </summary>
        private BalanceResult Audit(BalanceResult result)
        {
            if (_audit == null) return result;
            try
            {
                _audit.Write(result);
                return result;
            }
            catch (AuditLogException ex)
            {
                return BalanceResult.Failed(result.CardId, _interpreter.AuditFailed(result.CardId, ex, result.Attempts), result.HttpStatus, result.Elapsed, result.Attempts);
            }
        }

        private TimeSpan Spent(CardCall call) => Elapsed(_time.GetTimestamp() - call.Started);

        private long Ticks(TimeSpan span) => span == TimeSpan.MaxValue ? long.MaxValue / 2 : (long)(span.TotalSeconds * _time.TimestampFrequency);

        private TimeSpan Elapsed(long ticks) =>
            ticks <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Min(TimeSpan.MaxValue.Ticks / 2.0, ticks * (double)TimeSpan.TicksPerSecond / _time.TimestampFrequency));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _health.Dispose();
            _transport.Dispose();
            _audit?.Dispose();
        }
    }
}
