using System.Collections.ObjectModel;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>What one hosted script produced, stream by stream.</summary>
public sealed class ScriptResult
{
    public required Collection<PSObject> Output { get; init; }
    public required IReadOnlyList<ErrorRecord> Errors { get; init; }
    public required IReadOnlyList<string> Verbose { get; init; }
    public required IReadOnlyList<string> Debug { get; init; }
    public required IReadOnlyList<string> Warning { get; init; }
    public required IReadOnlyList<ProgressRecord> Progress { get; init; }
    public required IReadOnlyList<string> Information { get; init; }

    /// <summary>A terminating error, if the script threw one.</summary>
    public Exception? Terminating { get; init; }

    /// <summary>Every stream as text, for scanning for secrets.</summary>
    public string AllText() => string.Join("\n",
        Output.Select(o => o?.ToString() ?? "")
        .Concat(Errors.Select(e => e.ToString() + " " + e.Exception + " " + e.ErrorDetails?.Message + " " + e.ErrorDetails?.RecommendedAction))
        .Concat(Verbose).Concat(Debug).Concat(Warning).Concat(Information)
        .Concat(Progress.Select(p => p.Activity + " " + p.StatusDescription))
        .Append(Terminating?.ToString() ?? ""));
}
