# The real Prometheus tools the metrics and alert tests run (promtool, amtool, node_exporter):
# found on PATH, started on a free loopback port, and a missing one skipped with the reason,
# except in CI (CI=true), where a proof that silently does not run is a failure.

function Find-MetricsTool([string[]] $Names, [string] $Package) {
    $found = Get-Command $Names -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($found) { return @{ Path = $found.Source; Missing = $null } }
    @{ Path = $null; Missing = "$($Names[0]) is not installed (Debian package '$Package'; 'build.ps1 Test' installs it where apt-get runs as root)" }
}

# $true when the tool is there; else a skip that says why (a failure in CI).
function Assert-MetricsTool($Tool) {
    if (-not $Tool.Missing) { return $true }
    if ($env:CI -eq 'true') { throw "CI=true, but $($Tool.Missing)." }
    Set-ItResult -Skipped -Because $Tool.Missing
    return $false
}

# node_exporter with only its textfile collector on $Directory; returns the process and the first
# /metrics page it served. Waits for it to listen, not timing it: the deadline only ends a hung start.
function Start-NodeExporter([string] $Path, [string] $Directory) {
    $listener = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $psi = [System.Diagnostics.ProcessStartInfo]::new($Path)
    foreach ($a in '--collector.disable-defaults', '--collector.textfile', "--collector.textfile.directory=$Directory", "--web.listen-address=127.0.0.1:$port") { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardOutput = $true
    $process = [System.Diagnostics.Process]::Start($psi)
    $log = $process.StandardError.ReadToEndAsync()
    $metrics = $null
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (-not $metrics -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) {
        try { $metrics = (Invoke-WebRequest "http://127.0.0.1:$port/metrics" -NoProxy -TimeoutSec 5 -ErrorAction Stop).Content }
        catch { Start-Sleep -Milliseconds 200 }
    }
    if (-not $metrics) {
        Stop-NodeExporter $process
        throw "node_exporter did not serve /metrics on port $port. Its log:`n$($log.Result)"
    }
    [pscustomobject]@{ Process = $process; Metrics = $metrics; Log = $log }
}

function Stop-NodeExporter($Process) {
    if ($Process -and -not $Process.HasExited) { $Process.Kill(); [void] $Process.WaitForExit(5000) }
}

Export-ModuleMember -Function Find-MetricsTool, Assert-MetricsTool, Start-NodeExporter, Stop-NodeExporter
