# Helpers shared by the benchmark scripts under bench/.
Set-StrictMode -Version Latest

function Get-Median([double[]] $Values) {
    $s = @($Values | Sort-Object)
    if ($s.Count -eq 0) { return [double]::NaN }
    if ($s.Count % 2) { return $s[($s.Count - 1) / 2] }
    return ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2
}

function Get-LoadAverage {
    if (Test-Path /proc/loadavg) { ((Get-Content /proc/loadavg -Raw) -split ' ')[0..2] -join ' ' } else { 'n/a' }
}

function Stop-Invocation {
    <#
    .SYNOPSIS
    Stops a PowerShell started with BeginInvoke, waits until it has ended, then disposes it; returns
    how long Stop() took, in milliseconds.
    .NOTES
    Stop() returns once the running pipeline has stopped, but a batch (commands joined with
    AddStatement) still ends on a thread-pool thread after that: it appends the
    PipelineStoppedException to the error stream and reads $ErrorActionPreference from the
    runspace. Disposing the PowerShell then, or starting the next one on the runspace, makes that
    thread throw ("Objects cannot be added to a closed buffer", "A pipeline is already running"),
    and an exception on a thread-pool thread ends the process. EndInvoke returns only once the batch
    has ended. tests/pester/StopInvocation.Tests.ps1 runs this in a loop.
    #>
    param(
        [Parameter(Mandatory)] [powershell] $PowerShell,
        [Parameter(Mandatory)] [System.IAsyncResult] $AsyncResult
    )
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $PowerShell.Stop()
    $ms = $sw.Elapsed.TotalMilliseconds
    try { $null = $PowerShell.EndInvoke($AsyncResult) }
    catch [System.Management.Automation.PipelineStoppedException] { } # what a stopped invocation ends with
    $PowerShell.Dispose()
    $ms
}

Export-ModuleMember -Function Get-Median, Get-LoadAverage, Stop-Invocation
