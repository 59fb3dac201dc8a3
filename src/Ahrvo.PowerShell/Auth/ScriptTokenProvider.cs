using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using Ahrvo.Client.Auth;

namespace Ahrvo.PowerShell.Auth
{
    /// <summary>
    /// Runs the script of Connect-Ahrvo -TokenProvider to get a fresh access token. A script block
    /// may only run in the runspace that made it, and the connection asks from worker threads and
    /// from other runspaces (ForEach-Object -Parallel), so the script's text runs in a runspace of
    /// its own, one call at a time. What it returns is a secret: it never reaches output, logs or
    /// errors (a failure names the line and the kind of error, not its message, which could
    /// quote the token).
    /// </summary>
    internal sealed class ScriptTokenProvider : IDisposable
    {
        private readonly string _script;
        // Guards the fields only: it is never held while the script runs, so Dispose (Disconnect-Ahrvo)
        // never waits for a script that hangs.
        private readonly object _lock = new object();
        // One call at a time (the runspace runs one pipeline); waiting for it can be cancelled.
        private readonly SemaphoreSlim _oneAtATime = new SemaphoreSlim(1, 1);
        private Runspace? _runspace;
        private System.Management.Automation.PowerShell? _running;
        private bool _disposed;

        public ScriptTokenProvider(ScriptBlock script) => _script = script.ToString();

        public Task<SecureString> GetAsync(CancellationToken cancellationToken) =>
            Task.Run(() => Get(cancellationToken), cancellationToken);

        public SecureString Get() => Get(CancellationToken.None);

        /// <summary>Runs the script; <paramref name="cancellationToken"/> stops it (as Ctrl+C would) and throws OperationCanceledException.</summary>
        public SecureString Get(CancellationToken cancellationToken)
        {
            _oneAtATime.Wait(cancellationToken);
            System.Management.Automation.PowerShell? ps = null;
            try
            {
                lock (_lock)
                {
                    if (_disposed) throw new ObjectDisposedException(nameof(ScriptTokenProvider), "The connection was closed.");
                    if (_runspace == null)
                    {
                        _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
                        _runspace.Open();
                    }
                    ps = System.Management.Automation.PowerShell.Create();
                    ps.Runspace = _runspace;
                    _running = ps;
                }
                ps.AddScript(_script);
                System.Collections.ObjectModel.Collection<PSObject> output;
                try
                {
                    using (cancellationToken.Register(s => StopQuietly((System.Management.Automation.PowerShell)s!), ps))
                        output = ps.Invoke();
                }
                catch (PipelineStoppedException)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new TokenProviderException("The -TokenProvider script was stopped before it returned a token (the connection was closed).", didNotAnswer: true);
                }
                catch (RuntimeException ex)
                {
                    throw new TokenProviderException(Describe(ex.ErrorRecord, ex));
                }
                cancellationToken.ThrowIfCancellationRequested();
                if (ps.InvocationStateInfo.State == PSInvocationState.Stopped)
                    throw new TokenProviderException("The -TokenProvider script was stopped before it returned a token (the connection was closed).", didNotAnswer: true);
                if (ps.HadErrors && ps.Streams.Error.Count > 0)
                    throw new TokenProviderException(Describe(ps.Streams.Error[0], ps.Streams.Error[0].Exception));

                for (int i = output.Count - 1; i >= 0; i--)
                {
                    switch (output[i]?.BaseObject)
                    {
                        case SecureString secure when secure.Length > 0:
                            var copy = secure.Copy();
                            copy.MakeReadOnly();
                            return copy;
                        case string text when !string.IsNullOrWhiteSpace(text):
                            var token = new SecureString();
                            foreach (var c in text.Trim()) token.AppendChar(c);
                            token.MakeReadOnly();
                            return token;
                        case null:
                            continue;
                        default:
                            throw new TokenProviderException($"The -TokenProvider script returned a {output[i].BaseObject.GetType().Name}; it must return the token as a string or a SecureString.");
                    }
                }
                throw new TokenProviderException("The -TokenProvider script returned no token; it must return the token as a string or a SecureString.");
            }
            finally
            {
                Runspace? orphan = null;
                lock (_lock)
                {
                    if (ReferenceEquals(_running, ps)) _running = null;
                    // Closed while the script ran: the runspace is disposed here, once the script has ended.
                    if (_disposed) { orphan = _runspace; _runspace = null; }
                }
                ps?.Dispose();
                orphan?.Dispose();
                _oneAtATime.Release();
            }
        }

        private static void StopQuietly(System.Management.Automation.PowerShell ps)
        {
            // BeginStop, not Stop: a script stuck in a call that cannot be interrupted must not hang the
            // thread that cancels (Ctrl+C, Disconnect-Ahrvo); its result is never used.
            try { ps.BeginStop(null, null); }
            catch (ObjectDisposedException) { }
            catch (InvalidOperationException) { }
        }

        private static string Describe(ErrorRecord? record, Exception ex)
        {
            var line = record?.InvocationInfo?.ScriptLineNumber is int n && n > 0 ? " at line " + n : string.Empty;
            return $"The -TokenProvider script failed{line} ({ex.GetType().Name}, {record?.CategoryInfo.Category}). Its message is not shown, since it could hold a secret: run the script by hand to see it.";
        }

        public void Dispose()
        {
            System.Management.Automation.PowerShell? running;
            Runspace? idle = null;
            lock (_lock)
            {
                if (_disposed) return;
                _disposed = true;
                running = _running;
                // While a script runs, the call that runs it disposes the runspace when it ends.
                if (running == null) { idle = _runspace; _runspace = null; }
            }
            if (running != null) StopQuietly(running);
            idle?.Dispose();
        }
    }
}
