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
        private readonly object _lock = new object();
        private Runspace? _runspace;
        private bool _disposed;

        public ScriptTokenProvider(ScriptBlock script) => _script = script.ToString();

        public Task<SecureString> GetAsync(CancellationToken cancellationToken) =>
            Task.Run(() => Get(), cancellationToken);

        public SecureString Get()
        {
            lock (_lock)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(ScriptTokenProvider), "The connection was closed.");
                if (_runspace == null)
                {
                    _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
                    _runspace.Open();
                }
                using var ps = System.Management.Automation.PowerShell.Create();
                ps.Runspace = _runspace;
                ps.AddScript(_script);
                System.Collections.ObjectModel.Collection<PSObject> output;
                try
                {
                    output = ps.Invoke();
                }
                catch (RuntimeException ex)
                {
                    throw new TokenProviderException(Describe(ex.ErrorRecord, ex));
                }
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
        }

        private static string Describe(ErrorRecord? record, Exception ex)
        {
            var line = record?.InvocationInfo?.ScriptLineNumber is int n && n > 0 ? " at line " + n : string.Empty;
            return $"The -TokenProvider script failed{line} ({ex.GetType().Name}, {record?.CategoryInfo.Category}). Its message is not shown, since it could hold a secret: run the script by hand to see it.";
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
                _runspace?.Dispose();
                _runspace = null;
            }
        }
    }
}
