using System;

namespace Ahrvo.Client.Diagnostics
{
    /// <summary>
    /// Where one run's diagnostics go. The client never writes to a host itself: it hands messages to
    /// this sink (which may be called from any thread) and the caller decides where they end up.
    /// </summary>
    public sealed class RequestDiagnostics
    {
        private readonly Action<DiagnosticMessage> _sink;

        public RequestDiagnostics(bool verbose, bool debug, Action<DiagnosticMessage> sink)
        {
            VerboseEnabled = verbose;
            DebugEnabled = debug;
            _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        }

        public bool VerboseEnabled { get; }
        public bool DebugEnabled { get; }

        public void Verbose(string text) { if (VerboseEnabled) _sink(new DiagnosticMessage(DiagnosticLevel.Verbose, text)); }
        public void Debug(string text) { if (DebugEnabled) _sink(new DiagnosticMessage(DiagnosticLevel.Debug, text)); }
    }
}
