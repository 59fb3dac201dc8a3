using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ahrvo.Emulator;

namespace Ahrvo.TestSupport;

/// <summary>
/// Runs Ahrvo.Emulator as a child process on a free 127.0.0.1 port, and talks to its /_emulator/ admin API.
/// Test-framework agnostic: failures surface as exceptions.
/// </summary>
public sealed class EmulatorProcess : IAsyncDisposable, IDisposable
{
    public const string DllEnvironmentVariable = "AHRVO_EMULATOR_DLL";
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private readonly Process _process;
    private readonly HttpClient _admin;
    private readonly StringBuilder _stderr;
    private int _disposed;

    private EmulatorProcess(Process process, Uri baseUri, string apiKey, string accessToken, StringBuilder stderr)
    {
        _process = process;
        _stderr = stderr;
        BaseUri = baseUri;
        ApiKey = apiKey;
        AccessToken = accessToken;
        // No proxy (a CI proxy must not see loopback traffic) and no redirects (admin calls never redirect).
        _admin = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = baseUri,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>e.g. http://127.0.0.1:41234/</summary>
    public Uri BaseUri { get; }

    public string ApiKey { get; }
    public string AccessToken { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>What the emulator wrote to stderr so far (last 64 KB), for diagnosing failures.</summary>
    public string StandardError
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>The full balance URL for one card_id, escaped as a client should.</summary>
    public Uri BalanceUri(string cardId) =>
        new(BaseUri, EmulatorDefaults.BalancePath + "?card_id=" + Uri.EscapeDataString(cardId));

    public static Task<EmulatorProcess> StartAsync(params string[] args) => StartAsync(args, DefaultStartTimeout);

    /// <summary>Starts <c>dotnet Ahrvo.Emulator.dll --port 0 [args]</c> and waits for its ready line.</summary>
    public static async Task<EmulatorProcess> StartAsync(IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        string dll = LocateEmulatorDll();
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        psi.ArgumentList.Add(dll);
        // Defaults first: the emulator lets later flags win, so args may override the port.
        psi.ArgumentList.Add("--port");
        psi.ArgumentList.Add("0");
        psi.ArgumentList.Add("--parent-pid");
        psi.ArgumentList.Add(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Inherited URL settings would only produce an "overriding addresses" warning.
        foreach (var name in new[] { "ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS" })
        {
            psi.Environment.Remove(name);
        }

        var stderr = new StringBuilder();
        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith(EmulatorDefaults.ReadyLinePrefix, StringComparison.Ordinal))
            {
                ready.TrySetResult(new Uri(line[EmulatorDefaults.ReadyLinePrefix.Length..].Trim() + "/"));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
                if (stderr.Length > 64 * 1024) stderr.Remove(0, stderr.Length - 64 * 1024);
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("exited"));

        if (!process.Start()) throw new InvalidOperationException($"Could not start the emulator ({psi.FileName} {dll}).");
        // Both pipes are drained for the emulator's whole life so it can never block on a full pipe.
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        Uri baseUri;
        try
        {
            baseUri = await ready.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            string why = ex switch
            {
                TimeoutException => $"did not print {EmulatorDefaults.ReadyLinePrefix} within {timeout.TotalSeconds:0} s",
                OperationCanceledException => "start was cancelled",
                _ => "exited before it was ready",
            };
            KillQuietly(process);
            process.WaitForExit(5000);
            string exit = process.HasExited ? $" (exit code {process.ExitCode})" : "";
            string err;
            lock (stderr) err = stderr.ToString();
            process.Dispose();
            throw new InvalidOperationException(
                $"The Ahrvo emulator {why}{exit}.{Environment.NewLine}Command: {psi.FileName} {string.Join(' ', psi.ArgumentList)}{Environment.NewLine}stderr:{Environment.NewLine}{err}", ex);
        }

        return new EmulatorProcess(process, baseUri, FlagValue(args, "--api-key") ?? EmulatorDefaults.ApiKey,
            FlagValue(args, "--access-token") ?? EmulatorDefaults.AccessToken, stderr);
    }

    /// <summary>
    /// $AHRVO_EMULATOR_DLL if set; else, under the repo root (the folder holding Ahrvo.PowerShell.sln, found by walking up
    /// from <paramref name="startDirectory"/> or AppContext.BaseDirectory), out/emulator/Ahrvo.Emulator.dll, else the newest
    /// src/Ahrvo.Emulator/bin/{Debug,Release}/net10.0/Ahrvo.Emulator.dll.
    /// </summary>
    public static string LocateEmulatorDll(string? startDirectory = null)
    {
        if (Environment.GetEnvironmentVariable(DllEnvironmentVariable) is { Length: > 0 } fromEnv)
        {
            return File.Exists(fromEnv)
                ? Path.GetFullPath(fromEnv)
                : throw new FileNotFoundException($"{DllEnvironmentVariable} points to '{fromEnv}', which does not exist.", fromEnv);
        }

        var dir = new DirectoryInfo(startDirectory ?? AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ahrvo.PowerShell.sln")))
        {
            dir = dir.Parent;
        }
        if (dir is null)
        {
            throw new FileNotFoundException(
                $"Could not find Ahrvo.PowerShell.sln above '{startDirectory ?? AppContext.BaseDirectory}'; set {DllEnvironmentVariable} to the emulator dll.");
        }

        string published = Path.Combine(dir.FullName, "out", "emulator", "Ahrvo.Emulator.dll");
        if (File.Exists(published)) return published;

        var built = new[] { "Debug", "Release" }
            .Select(c => new FileInfo(Path.Combine(dir.FullName, "src", "Ahrvo.Emulator", "bin", c, "net10.0", "Ahrvo.Emulator.dll")))
            .Where(f => f.Exists)
            .OrderByDescending(f => f.LastWriteTimeUtc)
            .FirstOrDefault();
        return built?.FullName ?? throw new FileNotFoundException(
            $"The emulator is not built: no {published} and no src/Ahrvo.Emulator/bin/*/net10.0/Ahrvo.Emulator.dll. Run 'dotnet build src/Ahrvo.Emulator' or set {DllEnvironmentVariable}.");
    }

    // ---- admin API ------------------------------------------------------------------------------

    /// <param name="limit">Return only the last N request records (null: all, up to 100,000; 0: counters only).</param>
    public async Task<EmulatorStats> GetStatsAsync(int? limit = null, CancellationToken cancellationToken = default)
    {
        string url = limit is { } n ? $"_emulator/stats?limit={n}" : "_emulator/stats";
        return await GetJsonAsync<EmulatorStats>(url, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Polls the counters (not the request log) until <paramref name="condition"/> holds, and returns those
    /// stats. A handshake with the emulator instead of a sleep: it waits exactly as long as needed, and
    /// <paramref name="timeout"/> (default 60 s) only turns a hang into a failure naming <paramref name="what"/>.
    /// </summary>
    public async Task<EmulatorStats> WaitForStatsAsync(Func<EmulatorStats, bool> condition, string what, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? DefaultWaitTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var stats = await GetStatsAsync(limit: 0, cancellationToken).ConfigureAwait(false);
            if (condition(stats)) return stats;
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException(
                    $"The emulator did not get to: {what} (waited {limit.TotalSeconds:0} s; now {stats.BalanceRequests} balance requests, {stats.CurrentConcurrent} in flight, at most {stats.MaxConcurrent} at once).");
            }
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until no balance request is in flight: every request the emulator received has ended.</summary>
    public Task<EmulatorStats> WaitUntilIdleAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitForStatsAsync(s => s.CurrentConcurrent == 0, "no balance request in flight", timeout, cancellationToken);

    /// <summary>How long <see cref="WaitForStatsAsync"/> waits by default before it fails.</summary>
    public static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Zeroes counters and the request log; with <paramref name="includeConfig"/> also restores the command-line config.</summary>
    public async Task ResetAsync(bool includeConfig = false, CancellationToken cancellationToken = default)
    {
        using var response = await _admin.PostAsync(includeConfig ? "_emulator/reset?config=true" : "_emulator/reset", null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response).ConfigureAwait(false);
    }

    /// <summary>
    /// Patches the live config: properties present replace the current value (null clears), absent ones are kept.
    /// Accepts any object (serialized camelCase, e.g. <c>new { faults = new[] { new { kind = "503", firstAttempts = 1 } } }</c>),
    /// a JsonNode, or a raw JSON string. Throws InvalidOperationException with the emulator's message when it rejects the config.
    /// </summary>
    public async Task SetConfigAsync(object config, CancellationToken cancellationToken = default)
    {
        string json = config switch
        {
            string raw => raw,
            JsonNode node => node.ToJsonString(),
            _ => JsonSerializer.Serialize(config, JsonOptions),
        };
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _admin.PostAsync("_emulator/config", content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response).ConfigureAwait(false);
    }

    /// <summary>Replaces the route table (PUT /_emulator/routes) with a JSON array of routes; the emulator's message when it refuses it.</summary>
    public async Task SetRoutesAsync(string routesJson, CancellationToken cancellationToken = default)
    {
        using var content = new StringContent(routesJson, Encoding.UTF8, "application/json");
        using var response = await _admin.PutAsync("_emulator/routes", content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response).ConfigureAwait(false);
    }

    public async Task<JsonObject> GetConfigAsync(CancellationToken cancellationToken = default) =>
        await GetJsonAsync<JsonObject>("_emulator/config", cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<EmulatorCard>> GetCardsAsync(CancellationToken cancellationToken = default) =>
        await GetJsonAsync<List<EmulatorCard>>("_emulator/cards", cancellationToken).ConfigureAwait(false);

    /// <summary>Adds or replaces a card; the balance is stored verbatim, so odd values ("1,234.50", "NaN", null) can be planted.</summary>
    public async Task PutCardAsync(EmulatorCard card, CancellationToken cancellationToken = default)
    {
        using var response = await _admin.PutAsJsonAsync($"_emulator/cards/{Uri.EscapeDataString(card.Id)}", card, JsonOptions, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response).ConfigureAwait(false);
    }

    public Task PutCardAsync(string id, string? availableBalance, string type = EmulatorCard.Dedicated,
        string? cardNumber = "5157********0000", string? currency = "USD", CancellationToken cancellationToken = default) =>
        PutCardAsync(new EmulatorCard(id, cardNumber, availableBalance, type, currency), cancellationToken);

    /// <returns>false when there was no such card.</returns>
    public async Task<bool> DeleteCardAsync(string id, CancellationToken cancellationToken = default)
    {
        using var response = await _admin.DeleteAsync($"_emulator/cards/{Uri.EscapeDataString(id)}", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await EnsureSuccessAsync(response).ConfigureAwait(false);
        return true;
    }

    private async Task<T> GetJsonAsync<T>(string url, CancellationToken cancellationToken)
    {
        using var response = await _admin.GetAsync(url, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(JsonOptions, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The emulator returned an empty body for {url}.");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) return;
        string body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        throw new InvalidOperationException(
            $"Emulator admin call {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} failed with {(int)response.StatusCode}: {body}");
    }

    // ---- lifetime --------------------------------------------------------------------------------

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _admin.Dispose();
        KillQuietly(_process);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Gave it 10 s after SIGKILL; nothing more we can do.
        }
        _process.Dispose();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _admin.Dispose();
        KillQuietly(_process);
        _process.WaitForExit(10_000);
        _process.Dispose();
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exiting while we asked; also fine.
        }
    }

    /// <summary>The last value of a "--name value" or "--name=value" flag, matching the emulator's "later wins" rule.</summary>
    private static string? FlagValue(IReadOnlyList<string> args, string name)
    {
        string? value = null;
        for (int i = 0; i < args.Count; i++)
        {
            if (string.Equals(args[i], name, StringComparison.OrdinalIgnoreCase) && i + 1 < args.Count) value = args[++i];
            else if (args[i].StartsWith(name + "=", StringComparison.OrdinalIgnoreCase)) value = args[i][(name.Length + 1)..];
        }
        return value;
    }
}
