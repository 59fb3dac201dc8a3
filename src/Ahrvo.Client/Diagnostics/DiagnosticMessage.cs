using System;

namespace Ahrvo.Client.Diagnostics
{
    /// <summary>A message produced on a worker thread, to be written later on the pipeline thread.</summary>
    public readonly struct DiagnosticMessage
    {
        public DiagnosticMessage(DiagnosticLevel level, string text) { Level = level; Text = text; }
        public DiagnosticLevel Level { get; }
        public string Text { get; }
    }
}
