using System;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Ahrvo.Client.Auth;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Requests;
using Ahrvo.Client.Resilience;
using Polly;
using Polly.Timeout;

namespace Ahrvo.Client
{
    // Invoke-AhrvoRequest's path through the connection: the same outage state and send slots as
    // a card's (TakeSendSlotAsync), the same token, timeouts, counters and audit log; its own
    // decision after each attempt, since a write must never be sent twice when it may have been
    // applied (docs/reliability.md, "Requests other than balance queries").
    public sealed partial class AhrvoClient
    {
        private RequestInterpreter? _requestInterpreter;

        private RequestInterpreter RequestText => _requestInterpreter ??= new RequestInterpreter(_text, _options);

        /// <summary>
        /// Sends a request to any endpoint of the API through this connection. Never throws for the
        /// API's answer or a network failure: the <see cref="ApiResponse"/> carries it. Throws
        /// <see cref="ArgumentException"/> before anything is sent when the path leaves the
        /// connection's host or a header belongs to the connection; OperationCanceledException when cancelled.
        /// </summary>
        public async Task<ApiResponse> SendAsync(ApiRequest request, RequestDiagnostics? diagnostics = null, CancellationToken cancellationToken = default)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(AhrvoClient), "This client was disposed: create a new one to send again.");
            foreach (var h in request.Headers)
                foreach (var reserved in ApiRequest.ReservedHeaders)
                    if (string.Equals(h.Key, reserved, StringComparison.OrdinalIgnoreCase))
                        throw new ArgumentException("The header '" + reserved + "' is the connection's own (or the transport's): it cannot be set per request."
                            + (reserved == "Idempotency-Key" ? " Give the key as IdempotencyKey." : string.Empty), nameof(request));
            var target = RequestTarget.Resolve(_options.BaseUri, request.Path, request.Query, out var problem);
            if (target == null) throw new ArgumentException(problem, nameof(request));

            var rc = new RequestCall(request, target, new CardCall(request.Method + " " + target.AbsolutePath, diagnostics, BeginRun()));
            while (true)
            {
                var step = await RequestStepAsync(rc, cancellationToken).ConfigureAwait(false);
                if (step.Response != null) return step.Response;
                await DelayUntilAsync(step.At, cancellationToken).ConfigureAwait(false);
            }
        }

        private readonly struct RequestStep
        {
            public RequestStep(ApiResponse? response, long at) { Response = response; At = at; }
            public ApiResponse? Response { get; }
            public long At { get; }
        }

        private async Task<RequestStep> RequestStepAsync(RequestCall rc, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(AhrvoClient), "This client was disposed: create a new one to send again.");
            cancellationToken.ThrowIfCancellationRequested();
            var call = rc.Call;
            StartBudget(call);

            var minLeft = MinTimeToAnswer;
            var slot = await TakeSendSlotAsync(call, minLeft, cancellationToken).ConfigureAwait(false);
            if (slot == null)
                return Done(rc, null, null, AhrvoLimit.TotalTimeout, RequestText.ServiceDown(call.CardId, call.Attempts, DownFor(), _health.DownReason));
            bool probe = slot.Value.Probe;
            long ticket = slot.Value.Ticket;

            AccessTokens.Current token;
            try
            {
                token = await _tokens.GetAsync(Clock.Until(_time, call.Deadline), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                if (probe) _health.ReleaseProbe();
                return Done(rc, null, null, AhrvoLimit.None, RequestText.TokenProviderFailed(call.CardId, ex, call.Attempts, null));
            }
            catch (OperationCanceledException)
            {
                if (probe) _health.ReleaseProbe();
                throw;
            }

            if (call.Attempts > 0 && call.Deadline - _time.GetTimestamp() < Clock.Ticks(_time, minLeft))
            {
                if (probe) _health.ReleaseProbe();
                return Done(rc, rc.LastAnswer, call.LastException, AhrvoLimit.TotalTimeout);
            }

            var (answer, failure, sentAt) = await AttemptAsync(call, probe,
                static (ctx, s) => new ValueTask<RequestAnswer>(RequestTransport.SendAsync(s.Self._transport, s.Self._options, s.Self._text, s.Rc.Request, s.Rc.Target, s.Token, s.Rc.Call.Diagnostics, ctx.CancellationToken)),
                static s => s.Self._audit?.WriteRequest(s.Rc.Request.Method, s.Rc.Target.AbsolutePath, "Cancelled", null, Clock.Since(s.Self._time, s.Rc.Call.Started), s.Rc.Call.Attempts),
                (Self: this, Rc: rc, Token: token), cancellationToken).ConfigureAwait(false);
            if (probe) call.Extend(_time.GetTimestamp() - sentAt); // the outage's time, as a card's probe

            bool isWrite = rc.Request.IsWrite, hasKey = rc.Request.IdempotencyKey != null;
            if (failure == null && answer!.StatusCode != 429 && !Transience.IsTransientStatus(answer.StatusCode))
            {
                Relay(call, _pacer.OnAnswer(ticket)); // the API's answers only, as a card's
                Accepted();
            }
            if (failure != null)
            {
                if (!Transience.IsTransient(failure, _transport.HasAnswered))
                {
                    _health.OnAttemptEnd(sentAt, AttemptHealth.Abandoned, probe);
                    return Done(rc, null, failure, AhrvoLimit.None);
                }
                var why = _text.Clean(Transience.Describe(failure), 300)!;
                Relay(call, _health.OnAttemptEnd(sentAt, failure is TimeoutRejectedException ? AttemptHealth.TimedOut : AttemptHealth.Failed, probe, why));
                var reach = WriteSafety.OfFailure(failure);
                if (reach == Reach.Unknown) rc.MayHaveReached(why, null, failure, null);
                if (!WriteSafety.MayResend(isWrite, hasKey, reach)) return Done(rc, null, failure, AhrvoLimit.None);
                return AfterRequestFailure(rc, why, null, probe, null, failure);
            }

            int status = answer!.StatusCode;
            if (status == 401 && _tokens.CanRenew && !call.RenewedToken)
            {
                // A 401 is the credentials refused: nothing was processed, so even a write may try once more with a new token.
                _health.OnAttemptEnd(sentAt, AttemptHealth.Up, probe);
                call.RenewedToken = true;
                try
                {
                    await _tokens.RenewAsync(token.Generation, Clock.Until(_time, call.Deadline), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
                {
                    return Done(rc, answer, null, AhrvoLimit.None, RequestText.TokenProviderFailed(call.CardId, ex, call.Attempts, 401));
                }
                call.Diagnostics?.Verbose(call.CardId + ": the API refused the access token (HTTP 401); a new one came from the token provider; trying once more.");
                rc.LastAnswer = answer;
                return new RequestStep(null, _time.GetTimestamp());
            }
            if (status == 429)
            {
                long answeredAt = _time.GetTimestamp(); // its time is the account's pace, as a card's
                if (ThrottleAllowance(answeredAt) > 0) call.Extend(answeredAt - sentAt);
                // Throttled: not processed, so a write may be sent again, after the wait asked for.
                Relay(call, _pacer.OnThrottled(ticket));
                Relay(call, _health.OnAttemptEnd(sentAt, AttemptHealth.Throttled, probe));
                call.Throttles++;
                call.LastFailure = "HTTP 429";
                return NextRequest(rc, throttled: true, "HTTP 429", answer.Attempt.RetryAfter, outageFailure: false, answer, null);
            }
            if (WriteSafety.OfStatus(status) == Reach.Unknown)
            {
                var why = "HTTP " + status.ToString(CultureInfo.InvariantCulture);
                bool transient = Transience.IsTransientStatus(status);
                if (transient) Relay(call, _health.OnAttemptEnd(sentAt, AttemptHealth.Failed, probe, why));
                else _health.OnAttemptEnd(sentAt, AttemptHealth.Up, probe);
                rc.MayHaveReached(why, status, null, answer);
                if (!transient || !WriteSafety.MayResend(isWrite, hasKey, Reach.Unknown)) return Done(rc, answer, null, AhrvoLimit.None);
                return AfterRequestFailure(rc, why, status == 503 ? answer.Attempt.RetryAfter : null, probe, answer, null);
            }
            _health.OnAttemptEnd(sentAt, AttemptHealth.Up, probe);
            return Done(rc, answer, null, AhrvoLimit.None);
        }

        private RequestStep AfterRequestFailure(RequestCall rc, string why, TimeSpan? retryAfter, bool probe, RequestAnswer? answer, Exception? failure)
        {
            rc.Call.LastFailure = why;
            bool outage = probe || _health.IsDown;
            var next = NextRequest(rc, throttled: false, why, retryAfter, outage, answer, failure);
            if (!outage && next.Response == null) rc.Call.Failures++;
            return next;
        }

        private RequestStep NextRequest(RequestCall rc, bool throttled, string why, TimeSpan? retryAfter, bool outageFailure, RequestAnswer? answer, Exception? failure)
        {
            var call = rc.Call;
            rc.LastAnswer = answer;
            call.LastAnswer = answer?.Attempt;
            call.LastException = failure;
            long now = _time.GetTimestamp();
            var d = RetryDecision.Decide(throttled, retryAfter, call.Throttles, call.Failures, outageFailure, now, call.Deadline,
                Clock.Ticks(_time, MinTimeToAnswer), _time.TimestampFrequency, _options.MaxRetries, _options.RetryBaseDelay, _options.MaxRetryDelay, _options.Scheduler.NextDouble(),
                ThrottleAllowance(now));
            call.Extend(d.Extension);
            if (d.Step == NextStep.Finish) return Done(rc, answer, failure, d.Limit);
            var diag = call.Diagnostics;
            if (d.Step == NextStep.RetryAt && diag != null && diag.VerboseEnabled && d.Wait > TimeSpan.Zero)
                diag.Verbose(string.Format(CultureInfo.InvariantCulture,
                    "{0}: attempt {1} {2} ({3}); sending it again in {4:0.###} s{5} ({6:0} s of its {7:0} s left).",
                    call.CardId, call.Attempts, throttled ? "was throttled" : "failed", why, d.Wait.TotalSeconds,
                    retryAfter is TimeSpan ra && ra > TimeSpan.Zero ? (ra > _options.MaxRetryDelay ? "; the server asked for more (Retry-After), capped at MaxRetryDelay" : "; as the server asked (Retry-After)") : UnreadRetryAfter(answer?.Attempt),
                    Clock.Until(_time, call.Deadline).TotalSeconds, _options.TotalTimeout.TotalSeconds));
            return new RequestStep(null, d.At);
        }

        /// <summary>
        /// The request's result from its last answer or failure (or an error decided before sending),
        /// audited. A write that may have reached the server at any attempt and did not end in a 2xx
        /// ends as <see cref="AhrvoErrorKind.MayHaveBeenApplied"/>, whatever its last attempt was.
        /// </summary>
        private RequestStep Done(RequestCall rc, RequestAnswer? answer, Exception? failure, AhrvoLimit limit, AhrvoError? preset = null)
        {
            var call = rc.Call;
            var elapsed = Clock.Since(_time, call.Started);
            string? body = null;
            bool isJson = false;
            AhrvoError? error = preset;
            try
            {
                if (answer != null)
                {
                    var a = answer.Attempt;
                    if (error == null) error = RequestText.Answer(call.CardId, a, call.Attempts, limit);
                    if (a.BodyTooLarge || a.BodyUndecodable)
                    {
                        if (error == null)
                            error = new AhrvoError(AhrvoErrorKind.InvalidResponse,
                                call.CardId + "'s answer " + (a.BodyTooLarge ? "is larger than 32 MB and was not read." : "could not be decoded as its Content-Encoding says."),
                                a.StatusCode) { Attempts = call.Attempts, ForRequest = true };
                    }
                    else
                    {
                        body = _text.RedactSecrets(Decode(a.Body, a.BodyLength, answer.Charset)) ?? string.Empty;
                        isJson = JsonValues.IsJson(body);
                        if (isJson) body = CardFieldMasker.Mask(body);
                    }
                }
                else if (error == null)
                {
                    error = RequestText.Failure(call.CardId, failure ?? new TimeoutRejectedException("The request's time ran out before it could be sent."), call.Attempts, limit);
                }
                if (error != null && rc.Request.IsWrite && rc.Reached && error.Kind != AhrvoErrorKind.AuditLogFailed)
                    error = RequestText.MayHaveBeenApplied(call.CardId, rc.ReachWhy!, answer?.StatusCode ?? rc.ReachStatus, failure ?? rc.ReachException,
                        call.Attempts, rc.Request.IdempotencyKey != null, (answer ?? rc.ReachAnswer)?.Attempt);
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                // A request went out: it ends with a result and its audit line, whatever failed in reading it.
                error = RequestText.Failure(call.CardId, ex, call.Attempts, AhrvoLimit.None);
                if (rc.Request.IsWrite && (rc.Reached || answer != null))
                    error = RequestText.MayHaveBeenApplied(call.CardId, "its answer could not be read", answer?.StatusCode, ex, call.Attempts, rc.Request.IdempotencyKey != null, null);
            }
            if (_audit != null)
            {
                try
                {
                    _audit.WriteRequest(rc.Request.Method, rc.Target.AbsolutePath, error == null ? "Success" : error.Kind.ToString(), answer?.StatusCode, elapsed, call.Attempts);
                }
                catch (AuditLogException ex)
                {
                    error = RequestText.AuditFailed(call.CardId, ex, call.Attempts);
                }
            }
            return new RequestStep(new ApiResponse(rc.Request.Method, rc.Target.AbsolutePath, answer?.StatusCode,
                answer != null ? answer.Headers : ApiResponse.NoHeaders, answer?.Attempt.ContentType, body, isJson, error, call.Attempts, elapsed), 0);
        }

        private static string Decode(byte[] body, int length, string? charset)
        {
            Encoding encoding = Encoding.UTF8;
            if (!string.IsNullOrEmpty(charset))
            {
                try { encoding = Encoding.GetEncoding(charset!.Trim('"', '\'', ' ')); }
                catch (ArgumentException) { } // a charset .NET does not know: UTF-8, the API's own
            }
            var text = encoding.GetString(body, 0, length);
            return text.Length > 0 && text[0] == '\uFEFF' ? text.Substring(1) : text;
        }
    }
}
