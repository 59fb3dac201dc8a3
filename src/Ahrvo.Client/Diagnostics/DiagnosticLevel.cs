using System;

namespace Ahrvo.Client.Diagnostics
{
    public enum DiagnosticLevel
    {
        Verbose,
        Debug,
    }
}
