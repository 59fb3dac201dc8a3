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
    public sealed partial class AhrvoClient : IDisposable
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
        private long _requests;
        private long _retries;
        private int _disposed;
        private readonly ServerText _text;

        public AhrvoClient(AhrvoClientOptions options)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            options.Validate();
            // First: a log that cannot be opened fails (an AuditLogException) before anything that would need disposing exists.
            if (!string.IsNullOrEmpty(options.AuditLogPath)) _audit = new AuditLog(options.AuditLogPath!);
            _time = options.Time;
            _tokens = new AccessTokens(options.AccessToken, options.AccessTokenProvider, _time, options.TokenProviderTimeout);
            var text = _text = new ServerText(options.ApiKey, () => _tokens.Now.Token);
            _transport = new ApiTransport(options, text);
            _interpreter = new ResponseInterpreter(text, options);
            _pacer = new AdaptiveRateLimiter(_time, options.MaxRequestsPerSecond, slowStart: true, options.Scheduler);
            _health = new ServiceHealth(_time, options.AttemptTimeout, budget: options.TotalTimeout, scheduler: options.Scheduler);
            _health.HangDetected = RelayHang;
            // Polly times each attempt: the usual one gets -AttemptTimeoutSec (or less, below), a
            // probe of a service that looks down its probe timeout, and neither outlives the card's budget.
            _attemptTimeout = new ResiliencePipelineBuilder { TimeProvider = _time }
                .AddTimeout(new TimeoutStrategyOptions
                {
                    TimeoutGenerator = args =>
                    {
                        // A request (not a probe) is cut at one and a half hang thresholds (ten
                        // answers' time, 2 s at least, a third of the budget at most): one worker's
                        // request swallowed by a 2.4 s hang otherwise waited for its card's whole
                        // budget (-TimeoutSec 5), and nothing else was asked meanwhile. Not at the
                        // threshold itself: with two requests in flight, each was cut just before
                        // the hang check would have seen both silent, and the hang was never seen.
                        var limit = args.Context.Properties.GetValue(ProbeKey, false) ? _health.ProbeTimeout : TimeSpan.FromTicks(_health.HangThreshold.Ticks * 3 / 2);
                        if (limit > options.AttemptTimeout) limit = options.AttemptTimeout;
                        var left = Clock.Until(_time, args.Context.Properties.GetValue(DeadlineKey, Clock.Never));
                        if (left < limit) limit = left > MinPause ? left : MinPause;
                        return new ValueTask<TimeSpan>(limit);
                    },
                })
                .Build();
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

        /// <summary>
        /// Opens the audit log at <paramref name="path"/>, or creates it readable by its owner only,
        /// and closes it again: an <see cref="AuditLogException"/> when that cannot be done, so a
        /// caller can fail when the path is given rather than at the first query.
        /// </summary>
        public static void CheckAuditLog(string path) => AuditLog.Check(path);

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
                var step = await StepAsync(call!, cancellationToken).ConfigureAwait(false);
                if (step.Result != null) return step.Result;
                await DelayUntilAsync(step.At, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// One query whose answer says whether the credentials work (Test-AhrvoConnection): a
        /// transient failure or a 429 is not retried but is the result, so the check costs one
        /// request (two when a token from the provider is renewed after a 401) and one audit line.
        /// </summary>
        public async Task<BalanceResult> CheckAccessAsync(string cardId, RequestDiagnostics? diagnostics = null, CancellationToken cancellationToken = default)
        {
            var call = StartCall(cardId, diagnostics, BeginRun(), out var refused);
            if (refused != null) return refused;
            call!.SingleAttempt = true;
            while (true)
            {
                var step = await StepAsync(call, cancellationToken).ConfigureAwait(false);
                if (step.Result != null) return step.Result;
                await DelayUntilAsync(step.At, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>A bulk run's backlog, for the pace (see <see cref="AdaptiveRateLimiter.Track"/>); dispose when the run ends.</summary>
        internal IDisposable TrackBacklog(IBacklog backlog) => _pacer.Track(backlog);

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
            return new CardCall(cardId, diagnostics, runStart);
        }

        /// <summary>A card's (or request's) budget starts with its first step: -TimeoutSec from now.</summary>
        private void StartBudget(CardCall call)
        {
            if (call.Started != 0) return;
            call.Started = _time.GetTimestamp();
            call.Deadline = Clock.Add(call.Started, Clock.Ticks(_time, _options.TotalTimeout));
        }

        /// <summary>How long the service has been down (zero when it is up), for an outage's error.</summary>
        private TimeSpan DownFor() => _health.DownSince is DateTimeOffset d ? _time.GetUtcNow() - d : TimeSpan.Zero;

        /// <summary>This client's clock, as a timestamp.</summary>
        internal long Now => _time.GetTimestamp();

        /// <summary>Where this connection's work runs (a bulk run starts its workers there).</summary>
        internal WorkScheduler Scheduler => _options.Scheduler;

        /// <summary>
        /// A card whose retry time came at <paramref name="readyAt"/> waited for a free worker until
        /// now: its budget stands still for that wait, as it does while it waits for its send slot.
        /// </summary>
        internal void Requeued(CardCall call, long readyAt)
        {
            long now = _time.GetTimestamp();
            if (now > readyAt && call.Deadline != 0) call.Deadline = Clock.Add(call.Deadline, now - readyAt);
        }

        /// <summary>Waits until a timestamp of this client's clock.</summary>
        internal Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
        {
            var wait = Clock.Until(_time, timestamp);
            return wait < MinPause ? Task.CompletedTask : _time.Delay(wait, cancellationToken);
        }

        /// <summary>
        /// The time a request needs left to be worth sending: the usual answer time (at least
        /// 100 ms), but never more than half the budget, so a card's first request always goes.
        /// </summary>
        internal TimeSpan MinTimeToAnswer
        {
            get
            {
                var usual = _health.TypicalAnswer;
                var need = usual > MinAnswerTime ? usual : MinAnswerTime;
                var half = TimeSpan.FromTicks(_options.TotalTimeout.Ticks / 2);
                return need < half ? need : half;
            }
        }

        private static readonly TimeSpan MinAnswerTime = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan MaxSlotWait = TimeSpan.FromSeconds(1);

        /// <summary>
        /// One step of a card: waits while the service is down (until it answers or the card's time
        /// is up), waits for its send slot, sends one attempt. Returns the card's result, or when it
        /// goes on (a retry at a time, or a wait for the service). The decision after an attempt is
        /// <see cref="RetryDecision.Decide"/>'s, a pure function.
        /// </summary>
        /// <remarks>
        /// The card's budget (-TimeoutSec) does not run while it waits for its send slot: the pace is
        /// the connection's, and a card queued behind 64 others at 10 requests/s has done nothing
        /// wrong. So every request leaves with its card's time intact (docs/reliability.md says why
        /// this and not "do not take a card whose slot lies past its budget").
        /// </remarks>
        internal async Task<StepOutcome> StepAsync(CardCall call, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(AhrvoClient), "This client was disposed: create a new one to query again.");
            // Stopped (Ctrl+C, Select-Object -First) before this card's turn came: send nothing.
            cancellationToken.ThrowIfCancellationRequested();
            StartBudget(call);

            var minLeft = MinTimeToAnswer;
            var slot = await TakeSendSlotAsync(call, minLeft, cancellationToken).ConfigureAwait(false);
            if (slot == null)
                return StepOutcome.Answered(Audit(BalanceResult.Failed(call.CardId, _interpreter.ServiceDown(call.CardId, call.Attempts, call.LastFailure, DownFor(), _health.DownReason), null, Spent(call), call.Attempts)));
            bool probe = slot.Value.Probe;
            long ticket = slot.Value.Ticket;

            // The token to send: a provider's is renewed shortly before it expires.
            AccessTokens.Current token;
            try
            {
                token = await _tokens.GetAsync(Clock.Until(_time, call.Deadline), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                if (probe) _health.ReleaseProbe();
                return StepOutcome.Answered(Audit(BalanceResult.Failed(call.CardId, _interpreter.TokenProviderFailed(call.CardId, ex, call.Attempts, null), null, Spent(call), call.Attempts)));
            }
            catch (OperationCanceledException)
            {
                if (probe) _health.ReleaseProbe();
                throw;
            }

            // No request goes out that cannot be answered in time (a renewal or an outage wait may
            // have used the card's time): its last answer is its result.
            if (call.Attempts > 0 && call.Deadline - _time.GetTimestamp() < Clock.Ticks(_time, minLeft))
            {
                if (probe) _health.ReleaseProbe();
                return StepOutcome.Answered(Audit(Final(call, call.LastAnswer, call.LastException, AhrvoLimit.TotalTimeout)));
            }

            // 3. One attempt.
            var (response, failure, sentAt) = await AttemptAsync(call, probe,
                static (ctx, s) => new ValueTask<AttemptResponse>(s.transport.SendAsync(s.call.CardId, s.token, s.call.Diagnostics, ctx.CancellationToken)),
                // The request went out, so the API saw a query: it gets its audit line.
                static s => s.self._audit?.WriteCancelled(s.call.CardId, s.self.Spent(s.call), s.call.Attempts),
                (transport: _transport, call, token, self: this), cancellationToken, staleAfterRecovery: true).ConfigureAwait(false);
            // A probe's time is the outage's, as the wait for the service is: with one worker the
            // same card probed a 113 s hang again and again, its probes used up its own budget,
            // and it was lost although the service came back within the budget.
            if (probe) call.Extend(_time.GetTimestamp() - sentAt);

            // 4. What the answer means for this card and for the connection.
            // Hung (the service was seen to hang, or has recovered since): back to the queue at no
            // cost, to wait for the service or be sent again.
            if (failure is StaleAttemptException) return StepOutcome.RetryAt(_time.GetTimestamp());
            // The pace hears of the API's answers only: a gateway's 5xx or a dropped connection says
            // nothing about the rate the account allows (in a 530 window at a 2/s limit, the search
            // took them for accepted requests and doubled the pace to 32/s before the window ended).
            if (failure == null && response!.StatusCode != 429 && !Transience.IsTransientStatus(response.StatusCode))
            {
                Relay(call, _pacer.OnAnswer(ticket, sentAt));
                Accepted();
            }
            if (failure != null)
            {
                // Not mended by asking again: a TLS failure, a host name that has never resolved.
                if (!Transience.IsTransient(failure, _transport.HasAnswered))
                {
                    _health.OnAttemptEnd(sentAt, AttemptHealth.Abandoned, probe);
                    return StepOutcome.Answered(Audit(Final(call, null, failure)));
                }
                // An exception's text may quote what the network or a proxy sent: cleaned like server text.
                var why = _text.Clean(Transience.Describe(failure), 300)!;
                Relay(call, _health.OnAttemptEnd(sentAt, failure is TimeoutRejectedException ? AttemptHealth.TimedOut : AttemptHealth.Failed, probe, why));
                return AfterFailure(call, why, null, probe, null, failure, sentAt);
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
                    await _tokens.RenewAsync(token.Generation, Clock.Until(_time, call.Deadline), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
                {
                    return StepOutcome.Answered(Audit(BalanceResult.Failed(call.CardId, _interpreter.TokenProviderFailed(call.CardId, ex, call.Attempts, 401), 401, Spent(call), call.Attempts)));
                }
                call.Diagnostics?.Verbose(string.Format(CultureInfo.InvariantCulture,
                    "Card {0}: the API refused the access token (HTTP 401); a new one came from the token provider; trying once more.", call.CardId));
                call.LastAnswer = answer;
                return StepOutcome.RetryAt(_time.GetTimestamp());
            }
            if (answer.StatusCode == 429)
            {
                // The request's own time, too, is the account's pace and not the card's (see ThrottleAllowance).
                long answeredAt = _time.GetTimestamp();
                if (ThrottleAllowance(answeredAt) > 0) call.Extend(answeredAt - sentAt);
                Relay(call, _pacer.OnThrottled(ticket, sentAt));
                Relay(call, _health.OnAttemptEnd(sentAt, AttemptHealth.Throttled, probe));
                call.Throttles++;
                call.LastFailure = "HTTP 429";
                return Next(call, throttled: true, "HTTP 429", answer.RetryAfter, outageFailure: false, answer, null);
            }
            if (Transience.IsTransientStatus(answer.StatusCode))
            {
                var why = "HTTP " + answer.StatusCode.ToString(CultureInfo.InvariantCulture);
                Relay(call, _health.OnAttemptEnd(sentAt, AttemptHealth.Failed, probe, why));
                return AfterFailure(call, why, answer.StatusCode == 503 ? answer.RetryAfter : null, probe, answer, null, sentAt);
            }
            _health.OnAttemptEnd(sentAt, AttemptHealth.Up, probe);
            return StepOutcome.Answered(Audit(Final(call, answer, null)));
        }

        /// <summary>
        /// Steps 1 and 2 of every request of this connection (a card's, or an
        /// <see cref="SendAsync(ApiRequest, RequestDiagnostics?, CancellationToken)"/> call's): waits
        /// while the service is down, then for the call's send slot in the connection's one pace.
        /// Null when the service has been down longer than the call's time allows.
        /// </summary>
        private async Task<(bool Probe, long Ticket)?> TakeSendSlotAsync(CardCall call, TimeSpan minLeft, CancellationToken cancellationToken)
        {
            bool probe;
            long ticket;
            while (true)
            {
                // 1. The service: while it is down only one probe goes out; the other cards wait.
                while (true)
                {
                    // The probe gets its probe timeout to answer: a card with less time left would
                    // probe with a timeout of its own, learn nothing and delay the recovery.
                    var probeNeeds = _health.ProbeTimeout;
                    if (probeNeeds.Ticks > _options.TotalTimeout.Ticks / 2) probeNeeds = TimeSpan.FromTicks(_options.TotalTimeout.Ticks / 2);
                    var admission = _health.Admit(call.Deadline - Clock.Ticks(_time, minLeft), call.RunStart, _options.TotalTimeout, probeNeeds, out long waitUntil, out var changed);
                    if (admission == Admission.Send || admission == Admission.Probe)
                    {
                        probe = admission == Admission.Probe;
                        break;
                    }
                    if (admission == Admission.GiveUp) return null;
                    var wait = Clock.Until(_time, waitUntil);
                    long waitedFrom = _time.GetTimestamp();
                    // Always a real wait, however short: a loop that only re-asks would spin until then.
                    using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                    {
                        var timer = _time.Delay(wait > MinPause ? wait : MinPause, stop.Token);
                        await Task.WhenAny(changed, timer).ConfigureAwait(false);
                        stop.Cancel(); // the timer, when the change came first
                    }
                    cancellationToken.ThrowIfCancellationRequested();
                    // The wait for the service is the outage's, not the card's: its budget stands
                    // still, and the outage's own age (its start plus -TimeoutSec, see Admit) ends
                    // the wait. Else a card that had used part of its time before a window shorter
                    // than -TimeoutSec (a 429's wait, a slow answer) ran out in it: a 2.5 s window of
                    // resets with -TimeoutSec 5 and 500 ms answers lost cards that still had 0.6 s.
                    call.Deadline = Clock.Add(call.Deadline, _time.GetTimestamp() - waitedFrom);
                }

                // 2. The pace: this card's own send slot, spaced from every other request of the
                // connection. Its budget stands still meanwhile; a cut of the pace while it waited
                // voids the slot, and it takes a new one. Not for a probe: it is the one request
                // while the service is down, and the slots taken before the outage by the cards now
                // waiting lie ahead of it (at 2/s, 22 cards held the probe back 11 s).
                if (probe)
                {
                    ticket = _pacer.Ticket;
                    break;
                }
                try
                {
                    while (true)
                    {
                        var pause = _pacer.Reserve(out var paceMessage, out ticket, out long schedule, out var rescheduled, call.Order);
                        if (paceMessage != null) call.Diagnostics?.Verbose(paceMessage);
                        if (pause < MinPause) break;
                        long before = _time.GetTimestamp(), slotAt = before + Clock.Ticks(_time, pause);
                        // Woken early when the slots are respaced (a cut, or a pace grown by a
                        // quarter): a slot taken at a slow pace must not hold a worker for long.
                        while (_pacer.Schedule == schedule && _time.GetTimestamp() < slotAt)
                        {
                            var left = Clock.Until(_time, slotAt);
                            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                            {
                                var timer = _time.Delay(left < MaxSlotWait ? (left > MinPause ? left : MinPause) : MaxSlotWait, stop.Token);
                                await Task.WhenAny(rescheduled, timer).ConfigureAwait(false);
                                stop.Cancel();
                            }
                            cancellationToken.ThrowIfCancellationRequested();
                            _pacer.Refresh();
                        }
                        call.Deadline = Clock.Add(call.Deadline, _time.GetTimestamp() - before);
                        if (_pacer.Schedule == schedule) break;
                    }
                }
                catch (OperationCanceledException)
                {
                    if (probe) _health.ReleaseProbe();
                    throw;
                }
                // The service went down while this card waited for its slot: back to the queue.
                if (probe || !_health.IsDown) break;
            }
            return (probe, ticket);
        }

        /// <summary>
        /// One attempt, with the bookkeeping every attempt shares (balance queries and
        /// <see cref="SendAsync(ApiRequest, CancellationToken)"/> alike): the counters, the outage
        /// detector, -Debug's in-flight count, and the attempt timeout. Returns the answer or the
        /// failure. When the command is stopped while the request is on its way, the request is
        /// audited by <paramref name="onCancelled"/> (it reached the API) and the stop goes on.
        /// </summary>
        /// <remarks>
        /// <paramref name="staleAfterRecovery"/>: when true (a query that is safe to send again), the
        /// attempt is abandoned when the service is seen to hang, or answers again after an outage
        /// the attempt was sent before: a request that hung would otherwise hold its worker and card
        /// for the whole attempt timeout (30 s by default). It then ends as a
        /// <see cref="StaleAttemptException"/>, which is nobody's failure.
        /// </remarks>
        private async Task<(T? Answer, Exception? Failure, long SentAt)> AttemptAsync<T, TState>(CardCall call, bool probe,
            Func<ResilienceContext, TState, ValueTask<T>> send, Action<TState> onCancelled, TState state, CancellationToken cancellationToken,
            bool staleAfterRecovery = false)
            where T : class
        {
            var stale = staleAfterRecovery ? _health.UntilRecovery : CancellationToken.None;
            var linked = stale.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stale) : null;
            var context = ResilienceContextPool.Shared.Get(linked?.Token ?? cancellationToken);
            context.Properties.Set(ProbeKey, probe);
            context.Properties.Set(DeadlineKey, call.Deadline);
            call.Attempts++;
            Interlocked.Increment(ref _requests);
            if (call.Attempts > 1) Interlocked.Increment(ref _retries);
            long sentAt = _time.GetTimestamp();
            SentObserver?.Invoke(call.CardId, Clock.Until(_time, call.Deadline));

            _health.OnAttemptStart();
            var diagnostics = call.Diagnostics;
            if (diagnostics != null) EnterFlight(diagnostics);
            try
            {
                var answer = await _attemptTimeout.ExecuteAsync(send, context, state).ConfigureAwait(false);
                return (answer, null, sentAt);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _health.OnAttemptEnd(sentAt, AttemptHealth.Abandoned, probe);
                try { onCancelled(state); }
                catch (AuditLogException) { } // the command is stopping anyway
                throw;
            }
            catch (OperationCanceledException) when (stale.IsCancellationRequested)
            {
                _health.OnAttemptEnd(sentAt, AttemptHealth.Abandoned, probe);
                return (null, new StaleAttemptException(), sentAt);
            }
            catch (Exception ex)
            {
                return (null, ex, sentAt);
            }
            finally
            {
                if (diagnostics != null) LeaveFlight(diagnostics);
                ResilienceContextPool.Shared.Return(context);
                linked?.Dispose();
            }
        }

        /// <summary>Tests only: called as each request is sent, with its card and the time its card has left.</summary>
        internal Action<string, TimeSpan>? SentObserver { get; set; }

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
                    : BalanceResult.Failed(call.CardId, _interpreter.MapException(call.CardId, failure ?? new TimeoutRejectedException("The card's time ran out before its request could be sent."), call.Attempts, limit), null, Spent(call), call.Attempts);
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
        private StepOutcome AfterFailure(CardCall call, string why, TimeSpan? retryAfter, bool probe, AttemptResponse? answer, Exception? failure, long sentAt)
        {
            call.LastFailure = why;
            bool outage = probe || _health.IsDown;
            if (!outage && call.Failures == 0) call.FailingSince = sentAt;
            // From the second failure in a row (the first, when it got no answer at all: one
            // worker's request cut in a hang is half the budget gone), or the last (out of retries,
            // or of time for another).
            int from = failure is TimeoutRejectedException ? 0 : Math.Min(1, _options.MaxRetries);
            if (!outage && (call.Failures >= from || OutOfTimeAfter(call)) && (answer == null || Transience.IsGatewayStatus(answer.StatusCode)))
            {
                // A gateway's failures (or no answer at all): when nothing of
                // this connection was answered since this card began failing, the service is down,
                // not this card (a card alone at a run's end met a gateway's 48 s of 530s with four
                // attempts, too few for the outage detector, and was lost). It then waits for the
                // service as every card does in an outage. A 500 is the API's own answer, perhaps
                // about this card: it still ends the card after its retries.
                var down = _health.OpenIfSilentSince(call.FailingSince, why);
                if (down != null)
                {
                    Relay(call, down);
                    outage = true;
                }
            }
            var next = Next(call, throttled: false, why, retryAfter, outage, answer, failure);
            if (!outage && next.Kind == StepKind.RetryAt) call.Failures++;
            return next;
        }

        /// <summary>
        /// The card's next backoff (at its longest) would leave it less than twice the answer time:
        /// its next failure is its last. A card alone at a run's end (one worker, 500 ms answers)
        /// met a 2.5 s window with -TimeoutSec 5 and ran out of time before it ran out of retries.
        /// </summary>
        private bool OutOfTimeAfter(CardCall call)
        {
            var longest = Jitter.Backoff(call.Failures + 1, _options.RetryBaseDelay, _options.MaxRetryDelay, 1.0);
            return call.Deadline - _time.GetTimestamp() < Clock.Ticks(_time, longest) + 2 * Clock.Ticks(_time, MinTimeToAnswer);
        }

        private long _lastAcceptedAt = long.MinValue; // when the API last answered a request of this connection with anything but a 429

        /// <summary>The API answered a request (not 429, not a gateway's failure).</summary>
        private void Accepted()
        {
            long now = _time.GetTimestamp();
            if (Volatile.Read(ref _lastAcceptedAt) < now) Volatile.Write(ref _lastAcceptedAt, now); // races only make it a little older
        }

        /// <summary>
        /// How much of a 429's wait (and of the throttled request's time) stands the card's budget still: all of it while the API accepted
        /// a request of this connection within the last budget (the throttling is the account's
        /// pace, which the card waits out: at 2/s, a card of a -TimeoutSec 5 run met 429s five
        /// times and was lost while the others were read), none once nothing has been accepted for
        /// that long (a server that throttles everything ends each card after its budget).
        /// </summary>
        private long ThrottleAllowance(long now)
        {
            long accepted = Volatile.Read(ref _lastAcceptedAt);
            return accepted != long.MinValue && now - accepted <= Clock.Ticks(_time, _options.TotalTimeout) ? long.MaxValue : 0;
        }

        /// <summary>Applies <see cref="RetryDecision.Decide"/> to the card and says so under -Verbose.</summary>
        private StepOutcome Next(CardCall call, bool throttled, string why, TimeSpan? retryAfter, bool outageFailure, AttemptResponse? answer, Exception? failure)
        {
            if (call.SingleAttempt) return StepOutcome.Answered(Audit(Final(call, answer, failure, AhrvoLimit.MaxRetries)));
            call.LastAnswer = answer;
            call.LastException = failure;
            long now = _time.GetTimestamp();
            var d = RetryDecision.Decide(throttled, retryAfter, call.Throttles, call.Failures, outageFailure, now, call.Deadline,
                Clock.Ticks(_time, MinTimeToAnswer), _time.TimestampFrequency, _options.MaxRetries, _options.RetryBaseDelay, _options.MaxRetryDelay, _options.Scheduler.NextDouble(),
                ThrottleAllowance(now));
            call.Extend(d.Extension);
            switch (d.Step)
            {
                case NextStep.Finish:
                    return StepOutcome.Answered(Audit(Final(call, answer, failure, d.Limit)));
                case NextStep.WaitForService:
                    return StepOutcome.WaitForService(d.At);
            }
            var diag = call.Diagnostics;
            if (diag != null && diag.VerboseEnabled && d.Wait > TimeSpan.Zero)
            {
                string hint = string.Empty;
                if (retryAfter is TimeSpan ra && ra > TimeSpan.Zero)
                    hint = ra > _options.MaxRetryDelay
                        ? string.Format(CultureInfo.InvariantCulture, "; the server asked for {0:0.###} s (Retry-After), capped at {1:0.###} s (MaxRetryDelay)", ra.TotalSeconds, _options.MaxRetryDelay.TotalSeconds)
                        : "; as the server asked (Retry-After)";
                else hint = UnreadRetryAfter(answer);
                diag.Verbose(string.Format(CultureInfo.InvariantCulture,
                    "Card {0}: attempt {1} failed ({2}); retrying in {3:0.###} s{4} ({5} of {6} retries for failures used; {7:0} s of its {8:0} s left).",
                    call.CardId, call.Attempts, why, d.Wait.TotalSeconds, hint, call.Failures + (throttled ? 0 : 1), _options.MaxRetries,
                    Clock.Until(_time, call.Deadline).TotalSeconds, _options.TotalTimeout.TotalSeconds));
            }
            return StepOutcome.RetryAt(d.At);
        }

        /// <summary>-Verbose's note on a 429's or 503's Retry-After that could not be read, so an odd header is seen, not silently replaced by a backoff.</summary>
        private string UnreadRetryAfter(AttemptResponse? answer) =>
            answer?.RetryAfterUnread is string raw && (answer.StatusCode == 429 || answer.StatusCode == 503)
                ? "; the server's Retry-After '" + _text.Clean(raw, 60) + "' is neither a number of seconds nor an HTTP date, so it was not followed"
                : string.Empty;

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

        private TimeSpan Spent(CardCall call) => Clock.Since(_time, call.Started);

        // Hang messages go to the commands whose requests are in flight, not to whichever started last.
        private readonly System.Collections.Concurrent.ConcurrentDictionary<RequestDiagnostics, StrongBox> _flying =
            new System.Collections.Concurrent.ConcurrentDictionary<RequestDiagnostics, StrongBox>();

        private sealed class StrongBox { public int Count; }

        private void EnterFlight(RequestDiagnostics d)
        {
            if (!d.VerboseEnabled) return; // hang messages are Verbose: nobody to tell
            var box = _flying.GetOrAdd(d, _ => new StrongBox());
            Interlocked.Increment(ref box.Count);
        }

        private void LeaveFlight(RequestDiagnostics d)
        {
            if (!d.VerboseEnabled) return;
            if (_flying.TryGetValue(d, out var box) && Interlocked.Decrement(ref box.Count) <= 0)
                ((System.Collections.Generic.ICollection<System.Collections.Generic.KeyValuePair<RequestDiagnostics, StrongBox>>)_flying)
                    .Remove(new System.Collections.Generic.KeyValuePair<RequestDiagnostics, StrongBox>(d, box));
        }

        private void RelayHang(string message)
        {
            foreach (var pair in _flying)
                if (Volatile.Read(ref pair.Value.Count) > 0) pair.Key.Verbose(message);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _health.Dispose();
            _transport.Dispose();
            _audit?.Dispose();
        }
    }
}
