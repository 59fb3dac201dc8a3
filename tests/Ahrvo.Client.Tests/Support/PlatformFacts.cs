using Xunit;

namespace Ahrvo.Client.Tests.Support;

// A test of behaviour that exists only on some systems is reported as skipped elsewhere, with the
// reason, instead of returning early and counting as passed without testing anything. (xunit 2 has
// no Assert.Skip; a Skip set when the attribute is built is a real skip.)

/// <summary>A fact that runs on Linux only.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(string reason)
    {
        if (!OperatingSystem.IsLinux()) Skip = "Linux only: " + reason;
    }
}

/// <summary>A fact that runs on Linux and macOS, not Windows.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute(string reason)
    {
        if (OperatingSystem.IsWindows()) Skip = "Not on Windows: " + reason;
    }
}
