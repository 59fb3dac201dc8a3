using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using Ahrvo.Client;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Requests;
using Ahrvo.PowerShell.Completion;
using Ahrvo.PowerShell.Errors;
using Ahrvo.PowerShell.Requests;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// Calls any endpoint of the vendor's API through the connection, as Invoke-MgGraphRequest does
    /// for Graph: the connection's headers and token renewal, its pace (shared with balance queries),
    /// its outage state, its audit log and its secrecy. A write is never sent twice when it may have
    /// been applied (docs/reliability.md).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "AhrvoRequest", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(PSObject), typeof(string), typeof(System.Collections.Specialized.OrderedDictionary))]
    public sealed class InvokeAhrvoRequestCommand : AhrvoCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateSet("GET", "POST", "PUT", "PATCH", "DELETE", IgnoreCase = true)]
        public string Method { get; set; } = "GET";

        /// <summary>Relative to the connection's base URI, or absolute on its own scheme, host and port.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(RequestPathCompleter))]
        [Alias("Uri")]
        public string Path { get; set; } = string.Empty;

        [Parameter(ValueFromPipelineByPropertyName = true)]
        public IDictionary? Query { get; set; }

        /// <summary>A string is sent as it is; any other object as JSON. Either way as UTF-8, with the charset stated.</summary>
        // By property name only: bound by value, any piped object (one with Method and Path too) would become a body.
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public object? Body { get; set; }

        [Parameter]
        public IDictionary? Headers { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ContentType { get; set; }

        [Parameter]
        [ValidateSet("PSObject", "Hashtable", "Json", "Raw", IgnoreCase = true)]
        public string OutputType { get; set; } = "PSObject";

        /// <summary>The Idempotency-Key header (IETF draft): a write carrying one may be retried like a read, with the same key.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? IdempotencyKey { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? StatusCodeVariable { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ResponseHeadersVariable { get; set; }

        [Parameter]
        public SwitchParameter SkipHttpErrorCheck { get; set; }

        protected override void ProcessRecord()
        {
            var connection = ResolveConnection();
            var method = Method.ToUpperInvariant();
            var request = Build(method, connection);
            var target = RequestTarget.Resolve(connection.BaseUri, request.Path, request.Query, out var problem);
            if (target == null)
                ThrowTerminatingError(Invalid(new ArgumentException(problem), "Give -Path relative to the connection's base URI (" + connection.BaseUri + "), such as " + RequestTargetExample + "."));

            bool write = request.IsWrite;
            // A write asks first (ConfirmImpact High: scripts pass -Confirm:$false); a read asks only
            // under -WhatIf, so that a GET never prompts but -WhatIf still sends nothing.
            if (write || IsOn("WhatIf", "WhatIfPreference"))
            {
                var action = method + (request.Body != null ? " with a " + System.Text.Encoding.UTF8.GetByteCount(request.Body) + "-byte body" : string.Empty)
                    + (request.IdempotencyKey != null ? " (Idempotency-Key " + request.IdempotencyKey + ")" : string.Empty);
                if (!ShouldProcess(target!.GetLeftPart(UriPartial.Path), action)) return;
            }

            AhrvoConnection.Lease? lease = null;
            try
            {
                lease = connection.Acquire();
            }
            catch (AuditLogException ex)
            {
                ThrowTerminatingError(ErrorRecords.AuditLogFailed(ex));
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is ArgumentException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "Ahrvo.ConnectionUnusable", ErrorCategory.ConnectionError, connection));
            }
            using (lease)
            {
                WriteVerbose(string.Format(CultureInfo.InvariantCulture, "{0} {1}{2}{3}", method, target!.AbsoluteUri,
                    request.Body != null ? " with a body of " + System.Text.Encoding.UTF8.GetByteCount(request.Body) + " bytes (" + request.ContentType + ", UTF-8)" : string.Empty,
                    !write ? "; retried like a balance query."
                    : request.IdempotencyKey != null ? "; Idempotency-Key given: retried like a read, with the same key."
                    : "; a write: sent again only after a 429 or a connection refused before sending, never once it may have reached the server."));
                var messages = new ConcurrentQueue<DiagnosticMessage>();
                var diagnostics = new RequestDiagnostics(IsOn("Verbose", "VerbosePreference"), IsOn("Debug", "DebugPreference"), messages.Enqueue);
                ApiResponse response;
                try
                {
                    response = lease!.Client.SendAsync(request, diagnostics, _stopping.Token).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    Flush(messages);
                    throw new PipelineStoppedException();
                }
                catch (ArgumentException ex)
                {
                    Flush(messages);
                    ThrowTerminatingError(Invalid(ex, "Headers of the connection (Authorization, x-api-key) are its own; give an Idempotency-Key with -IdempotencyKey."));
                    return;
                }
                Flush(messages);
                Report(response);
            }
        }

        private const string RequestTargetExample = RequestPathCompleter.BalancePath;

        private ApiRequest Build(string method, AhrvoConnection connection)
        {
            ApiRequest request;
            try
            {
                request = new ApiRequest(method, Path);
            }
            catch (ArgumentException ex)
            {
                ThrowTerminatingError(Invalid(ex, "Give -Method GET, POST, PUT, PATCH or DELETE."));
                throw; // unreachable
            }
            if (Query != null)
                foreach (DictionaryEntry e in Query)
                {
                    var key = Convert.ToString(Unwrap(e.Key), CultureInfo.InvariantCulture) ?? string.Empty;
                    var value = Unwrap(e.Value);
                    // A list value repeats the name (card_id=a&card_id=b), each value encoded on its own.
                    if (value is IEnumerable list && !(value is string))
                        foreach (var item in list) request.Query.Add(new KeyValuePair<string, string>(key, QueryText(item)));
                    else request.Query.Add(new KeyValuePair<string, string>(key, QueryText(value)));
                }
            if (Headers != null)
                foreach (DictionaryEntry e in Headers)
                {
                    var name = Convert.ToString(Unwrap(e.Key), CultureInfo.InvariantCulture) ?? string.Empty;
                    if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && ContentType == null)
                    {
                        ContentType = QueryText(e.Value);
                        continue;
                    }
                    request.Headers.Add(new KeyValuePair<string, string>(name, QueryText(e.Value)));
                }
            var body = Unwrap(Body);
            if (body != null)
            {
                try
                {
                    request.Body = body is string s ? s : JsonBody.Write(Body);
                }
                catch (ArgumentException ex)
                {
                    ThrowTerminatingError(Invalid(ex, "Give -Body as a hashtable, an object or a JSON string."));
                }
            }
            request.ContentType = ContentType ?? (request.Body != null ? "application/json" : null);
            request.IdempotencyKey = IdempotencyKey;
            return request;
        }

        private static object? Unwrap(object? o) => o is PSObject ps ? ps.BaseObject : o;

        // Query values are text: numbers and dates culture-invariant, so 10.5 never becomes "10,5".
        private static string QueryText(object? value)
        {
            value = Unwrap(value);
            switch (value)
            {
                case null: return string.Empty;
                case bool b: return b ? "true" : "false";
                case DateTime dt: return dt.ToString("o", CultureInfo.InvariantCulture);
                case DateTimeOffset dto: return dto.ToString("o", CultureInfo.InvariantCulture);
                case IFormattable f: return f.ToString(null, CultureInfo.InvariantCulture);
                default: return value.ToString() ?? string.Empty;
            }
        }

        private void Report(ApiResponse response)
        {
            // Set first, so that they hold the answer even when the error below stops the script.
            if (StatusCodeVariable != null) SessionState.PSVariable.Set(StatusCodeVariable, response.StatusCode ?? 0);
            if (ResponseHeadersVariable != null)
            {
                var headers = new Hashtable(StringComparer.OrdinalIgnoreCase);
                foreach (var h in response.Headers) headers[h.Key] = h.Value;
                SessionState.PSVariable.Set(ResponseHeadersVariable, headers);
            }
            WriteVerbose(string.Format(CultureInfo.InvariantCulture, "{0} {1}: {2} after {3} attempt(s) in {4:0} ms.",
                response.Method, response.Path, response.StatusCode is int s ? "HTTP " + s.ToString(CultureInfo.InvariantCulture) : "no answer", response.Attempts, response.Elapsed.TotalMilliseconds));

            var error = response.Error;
            if (error == null) RequestPathCompleter.Remember(response.Path);
            bool returnAnswer = error == null || (SkipHttpErrorCheck && response.StatusCode != null);
            if (returnAnswer) WriteAnswer(response);
            if (error == null) return;
            // The fate of a write is not an HTTP status: its error is written even with -SkipHttpErrorCheck.
            if (returnAnswer && error.Kind != AhrvoErrorKind.MayHaveBeenApplied && error.Kind != AhrvoErrorKind.AuditLogFailed) return;

            var record = ErrorRecordFor(response, error);
            if (error.Kind == AhrvoErrorKind.Unauthorized || error.Kind == AhrvoErrorKind.Forbidden || error.Kind == AhrvoErrorKind.AuditLogFailed)
                ThrowTerminatingError(record);
            WriteError(record);
        }

        private void WriteAnswer(ApiResponse response)
        {
            switch (OutputType.ToUpperInvariant())
            {
                case "RAW":
                    var raw = new PSObject();
                    var headers = new Hashtable(StringComparer.OrdinalIgnoreCase);
                    foreach (var h in response.Headers) headers[h.Key] = h.Value;
                    raw.Properties.Add(new PSNoteProperty("StatusCode", response.StatusCode));
                    raw.Properties.Add(new PSNoteProperty("Headers", headers));
                    raw.Properties.Add(new PSNoteProperty("ContentType", response.ContentType));
                    raw.Properties.Add(new PSNoteProperty("Content", response.Body));
                    raw.Properties.Add(new PSNoteProperty("Attempts", response.Attempts));
                    WriteObject(raw);
                    return;
                case "JSON":
                    if (!string.IsNullOrEmpty(response.Body)) WriteObject(response.Body);
                    return;
                default:
                    if (string.IsNullOrEmpty(response.Body)) return; // 204 and the like: nothing to output
                    if (!response.BodyIsJson)
                    {
                        WriteObject(response.Body); // text stays text: never a parse failure
                        return;
                    }
                    var value = ResponseObjects.Convert(JsonValues.Parse(response.Body!), OutputType.Equals("Hashtable", StringComparison.OrdinalIgnoreCase));
                    // A top-level array goes down the pipeline item by item, as Invoke-RestMethod does.
                    WriteObject(value, enumerateCollection: value is object[]);
                    return;
            }
        }

        private static ErrorRecord ErrorRecordFor(ApiResponse response, AhrvoError error)
        {
            var target = response.Method + " " + response.Path;
            var action = ErrorRecords.RecommendedAction(error); // the one table, in the module's terms (error.ForRequest words it for a request)
            var exception = new AhrvoException(error.Message + " " + action, error.Kind, null, error.HttpStatus, error.ApiCode, error.Exception);
            return new ErrorRecord(exception, ErrorRecords.ErrorId(error.Kind), ErrorRecords.Category(error.Kind), target)
            {
                ErrorDetails = new ErrorDetails(error.Message) { RecommendedAction = action },
            };
        }

        private static ErrorRecord Invalid(Exception ex, string action) =>
            new ErrorRecord(ex, "Ahrvo.InvalidRequest", ErrorCategory.InvalidArgument, null)
            {
                ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = action },
            };

        private void Flush(ConcurrentQueue<DiagnosticMessage> messages)
        {
            while (messages.TryDequeue(out var m))
            {
                if (m.Level == DiagnosticLevel.Debug) WriteDebug(m.Text);
                else WriteVerbose(m.Text);
            }
        }

        private bool IsOn(string switchName, string variable)
        {
            if (MyInvocation.BoundParameters.TryGetValue(switchName, out var v))
                return v is SwitchParameter sp ? sp.IsPresent : LanguagePrimitives.IsTrue(v);
            var pref = GetVariableValue(variable);
            var value = pref is PSObject ps ? ps.BaseObject : pref;
            if (value is bool b) return b; // $WhatIfPreference
            if (value is SwitchParameter swp) return swp.IsPresent;
            return value is ActionPreference ap ? ap != ActionPreference.SilentlyContinue && ap != ActionPreference.Ignore
                : value != null && Enum.TryParse<ActionPreference>(value.ToString(), true, out var parsed) && parsed != ActionPreference.SilentlyContinue && parsed != ActionPreference.Ignore;
        }

        protected override void StopProcessing() => _stopping.Cancel();

        public void Dispose() => _stopping.Dispose();
    }
}
