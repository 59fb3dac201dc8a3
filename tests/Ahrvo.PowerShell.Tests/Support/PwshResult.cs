namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>What one child pwsh produced.</summary>
public sealed record PwshResult(int ExitCode, string StdOut, string StdErr, TimeSpan Elapsed)
{
    public string All => StdOut + "\n" + StdErr;
}
