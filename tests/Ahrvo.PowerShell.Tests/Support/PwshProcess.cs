using System.Diagnostics;
using System.Text;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// Runs a script in a separate pwsh 7.6.9 process (the repo's tool), for what a hosted runspace
/// cannot show: transcripts, process-wide proxy settings read from the environment, several
/// processes appending to one file.
/// </summary>
public static class PwshProcess
{
    /// <summary>The module to import: build.ps1's laid-out module when set, else this build's dll.</summary>
    public static string ModulePath =>
        Environment.GetEnvironmentVariable("AHRVO_MODULE_PATH") is { Length: > 0 } p && File.Exists(p) ? p : PowerShellHost.ModuleAssemblyPath;

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Ahrvo.PowerShell.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("Ahrvo.PowerShell.sln not found above the test folder.");
        }
    }

    /// <summary>Starts the script; <paramref name="env"/> is added to a copy of this process's environment without proxy or Ahrvo variables.</summary>
    public static Process Start(string script, IDictionary<string, string?>? env, out string scriptFile)
    {
        scriptFile = Path.Combine(Path.GetTempPath(), "ahrvo-test-" + Guid.NewGuid().ToString("N") + ".ps1");
        File.WriteAllText(scriptFile, script, new UTF8Encoding(false));
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = RepoRoot,
        };
        foreach (var a in new[] { "tool", "run", "pwsh", "-NoProfile", "-NonInteractive", "-NoLogo", "-File", scriptFile }) psi.ArgumentList.Add(a);
        // A CI machine's proxy or credentials must not leak into what a test controls.
        foreach (var name in psi.Environment.Keys.ToList())
            if (name.EndsWith("_PROXY", StringComparison.OrdinalIgnoreCase) || name.StartsWith("AHRVO_", StringComparison.OrdinalIgnoreCase))
                psi.Environment.Remove(name);
        psi.Environment["AHRVO_TEST_MODULE"] = ModulePath;
        psi.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["POWERSHELL_UPDATECHECK"] = "Off";
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi) ?? throw new InvalidOperationException("Could not start pwsh.");
    }

    public static async Task<PwshResult> RunAsync(string script, IDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        var sw = Stopwatch.StartNew();
        using var p = Start(script, env, out var file);
        try
        {
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"pwsh did not finish in time.\n{await stdout}\n{await stderr}");
            }
            return new PwshResult(p.ExitCode, await stdout, await stderr, sw.Elapsed);
        }
        finally
        {
            try { File.Delete(file); } catch (IOException) { }
        }
    }
}
