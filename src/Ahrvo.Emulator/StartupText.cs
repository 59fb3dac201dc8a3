namespace Ahrvo.Emulator;

/// <summary>What the emulator tells a person once it listens: how to connect to it and drive it.</summary>
public static class StartupText
{
    /// <summary>Lines for stderr, ending with a newline.</summary>
    public static string ConnectHelp(string baseUri, EmulatorOptions options, string? exampleCardId)
    {
        string example = exampleCardId is null ? "" : $"Then e.g.: Get-AhrvoCardBalance {exampleCardId}\n";
        string key = Quote(options.ApiKey), token = Quote(options.AccessToken);
        return $"""
            Connect from PowerShell, with the Ahrvo.PowerShell module imported (from a clone after build.ps1 Build: Import-Module ./out/Ahrvo.PowerShell/{ModuleVersion}/Ahrvo.PowerShell.psd1):
              Connect-Ahrvo -BaseUri {baseUri} -ApiKey (ConvertTo-SecureString {key} -AsPlainText -Force) -AccessToken (ConvertTo-SecureString {token} -AsPlainText -Force)
            or with the environment variables:
              $env:AHRVO_API_KEY = {key}; $env:AHRVO_ACCESS_TOKEN = {token}; Connect-Ahrvo -BaseUri {baseUri}
            {example}Admin API (stats, config, faults, cards): {baseUri}/_emulator/  -  ahrvo-emulator --help lists the options. Ctrl+C stops it.

            """;
    }

    // The module is not published to a gallery: it is imported from a build, whose folder carries the
    // version this tool shares with it (Directory.Build.props).
    public static string ModuleVersion
    {
        get
        {
            var v = typeof(StartupText).Assembly.GetName().Version ?? new Version(0, 0, 0);
            return $"{v.Major}.{v.Minor}.{Math.Max(0, v.Build)}";
        }
    }

    // A PowerShell single-quoted string: nothing inside is expanded, and a quote is doubled.
    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
}
