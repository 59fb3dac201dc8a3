using System.Management.Automation.Runspaces;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// Runs scripts in an in-process runspace with the module imported from this test's output folder,
/// so the cmdlets run exactly as PowerShell drives them (binding, pipeline, streams).
/// </summary>
public static class PowerShellHost
{
    public static string ModuleAssemblyPath => typeof(Ahrvo.PowerShell.CardBalance).Assembly.Location;

    // The System.Management.Automation package has the engine only; Utility, Security and
    // Management (Select-Object, ConvertTo-SecureString, ...) come from the pwsh tool package that
    // the repo's tool manifest restores, same version 7.6.9.
    private static readonly string[] BuiltInModules = LocateBuiltInModules();

    private static string[] LocateBuiltInModules()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var dir = Path.Combine(packages, "powershell", "7.6.9", "tools", "net10.0", "any", OperatingSystem.IsWindows() ? "win" : "unix");
        if (!Directory.Exists(dir))
            throw new InvalidOperationException($"The pwsh 7.6.9 tool package is missing at {dir}: run 'dotnet tool restore' in the repo.");
        System.Runtime.Loader.AssemblyLoadContext.Default.Resolving += (ctx, name) =>
        {
            var candidate = Path.Combine(dir, name.Name + ".dll");
            return File.Exists(candidate) ? ctx.LoadFromAssemblyPath(candidate) : null;
        };
        return new[] { "Microsoft.PowerShell.Commands.Utility.dll", "Microsoft.PowerShell.Security.dll", "Microsoft.PowerShell.Commands.Management.dll" }
            .Select(f => Path.Combine(dir, f)).ToArray();
    }

    public static Runspace CreateRunspace()
    {
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(BuiltInModules);
        iss.ImportPSModule(new[] { ModuleAssemblyPath });
        var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        return runspace;
    }

    /// <summary>
    /// Runs a script to its end; variables are set first. Never throws for script errors: see the
    /// result. A script still running after <see cref="Liveness.Timeout"/> is stopped and fails the test.
    /// </summary>
    public static ScriptResult Run(string script, IDictionary<string, object?>? variables = null, Runspace? runspace = null)
    {
        using var run = new HostedRun(script, variables, runspace);
        return run.Finish();
    }

    /// <summary>Starts a script and returns at once, for tests that act while it runs (wait for output, Ctrl+C).</summary>
    public static HostedRun Start(string script, IDictionary<string, object?>? variables = null, Runspace? runspace = null) =>
        new(script, variables, runspace);

    /// <summary>The script line that connects to an emulator given as $emuUri/$emuKey/$emuToken.</summary>
    public const string ConnectLine =
        "Connect-Ahrvo -BaseUri $emuUri -ApiKey (ConvertTo-SecureString $emuKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emuToken -AsPlainText -Force) -MaxRetries 0 | Out-Null\n";
}
