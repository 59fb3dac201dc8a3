using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Ahrvo.PowerShell.Tests;

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

    /// <summary>Runs a script; variables are set first. Never throws for script errors: see the result.</summary>
    public static ScriptResult Run(string script, IDictionary<string, object?>? variables = null, Runspace? runspace = null, Action<System.Management.Automation.PowerShell>? whileRunning = null)
    {
        var own = runspace == null;
        runspace ??= CreateRunspace();
        try
        {
            using var ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = runspace;
            if (variables != null)
                foreach (var (name, value) in variables)
                    runspace.SessionStateProxy.SetVariable(name, value);
            ps.AddScript(script);
            var output = new PSDataCollection<PSObject>();
            Exception? terminating = null;
            try
            {
                if (whileRunning == null)
                {
                    ps.Invoke(null, output);
                }
                else
                {
                    var async = ps.BeginInvoke<PSObject, PSObject>(null, output);
                    whileRunning(ps);
                    ps.EndInvoke(async);
                }
            }
            catch (Exception ex)
            {
                terminating = ex;
            }
            return new ScriptResult
            {
                Output = new Collection<PSObject>(output.ToList()),
                Errors = ps.Streams.Error.ToList(),
                Verbose = ps.Streams.Verbose.Select(v => v.Message).ToList(),
                Debug = ps.Streams.Debug.Select(v => v.Message).ToList(),
                Warning = ps.Streams.Warning.Select(v => v.Message).ToList(),
                Progress = ps.Streams.Progress.ToList(),
                Information = ps.Streams.Information.Select(i => i.MessageData?.ToString() ?? "").ToList(),
                Terminating = terminating,
            };
        }
        finally
        {
            if (own) runspace.Dispose();
        }
    }

    /// <summary>The script line that connects to an emulator given as $emuUri/$emuKey/$emuToken.</summary>
    public const string ConnectLine =
        "Connect-Ahrvo -BaseUri $emuUri -ApiKey (ConvertTo-SecureString $emuKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emuToken -AsPlainText -Force) -MaxRetries 0 | Out-Null\n";
}
