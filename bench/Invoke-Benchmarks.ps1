#requires -Version 7.2
<#
.SYNOPSIS
    Bulk-query benchmarks of Ahrvo.PowerShell against the local emulator: medians, ratios, targets.
.DESCRIPTION
    build.ps1 Bench runs this in a fresh pwsh with $env:AHRVO_MODULE_PATH (the built manifest) and
    $env:AHRVO_EMULATOR_DLL (the published emulator). Five measurements, each repeated and reported
    as a median, the competing methods interleaved within each repetition so that load from other
    processes on the machine falls on all of them alike:

      1. 20 ms latency, 1,000 cards: Get-AhrvoCardBalance -ThrottleLimit 16 vs ForEach-Object -Parallel
         -ThrottleLimit 16 with Invoke-RestMethod vs a plain Invoke-RestMethod loop (200 cards, scaled
         to 1,000) vs the ideal N x latency / 16.
      2. 0 ms latency, 10,000 cards: the cmdlet's cards per second vs a raw C# HttpClient loop at the
         same concurrency (bench/Ahrvo.Bench.RawHttp) against the same emulator.
      3. A cold one-card command in a new pwsh vs a cold Invoke-RestMethod one-liner in a new pwsh.
      4. Peak working set (VmHWM) of a pwsh piping 100,000 cards into Export-Csv vs 1,000 cards.
      5. The timing the xunit tests no longer assert (they check counts and order, never durations):
         how fast Ctrl+C and Select-Object -First 5 end a run (and how many requests the early stop
         cost), how evenly -MaxRequestsPerSecond spreads requests, how soon a hanging card fails.

    Timings are wall-clock on a shared machine: the emulator, the client and whatever else runs here
    share the same cores. The load average is printed before and after.
.PARAMETER Repeat
    Repetitions of measurements 1 and 3 (medians are reported); measurement 2, whose single runs last
    about half a second, gets at least 11. Default 7.
.PARAMETER Quick
    Smaller runs (for trying the script, not for figures): 3 repetitions (11 for measurement 2), 10,000
    cards for measurement 4.
.PARAMETER OutFile
    Where the results are written as JSON (default out/bench/results.json under the repo).
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 Bench
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 50)] [int] $Repeat = 7,
    [switch] $Quick,
    [string] $OutFile
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$Root = Split-Path -Parent $PSScriptRoot
if ($Quick) { $Repeat = [Math]::Min($Repeat, 3) }
if (-not $OutFile) { $OutFile = Join-Path $Root 'out/bench/results.json' }

$ModulePath = $env:AHRVO_MODULE_PATH
if (-not $ModulePath -or -not (Test-Path -LiteralPath $ModulePath)) { throw 'Set AHRVO_MODULE_PATH to the built Ahrvo.PowerShell.psd1 (build.ps1 Bench does).' }
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath

Import-Module (Join-Path $Root 'tests/pester/Emulator.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1') -Force

# The same pwsh that runs this script (the tool manifest's), launched the same way for every child.
$PwshHost = [Environment]::ProcessPath
$PwshArgs = @()
if ((Split-Path -Leaf $PwshHost) -match '^dotnet(\.exe)?$') { $PwshArgs = @((Join-Path $PSHOME 'pwsh.dll')) }

# ---- helpers ---------------------------------------------------------------------------------------

function Get-RawHttpDll {
    if ($env:AHRVO_RAWHTTP_DLL -and (Test-Path -LiteralPath $env:AHRVO_RAWHTTP_DLL)) { return $env:AHRVO_RAWHTTP_DLL }
    # Built with the solution (bench solution folder); built here when the solution was not.
    $project = Join-Path $Root 'bench/Ahrvo.Bench.RawHttp'
    $built = 'Release', 'Debug' | ForEach-Object { Join-Path $project "bin/$_/net10.0/Ahrvo.Bench.RawHttp.dll" } |
        Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
    if ($built) { return $built }
    Write-Host 'Building bench/Ahrvo.Bench.RawHttp (Release)...'
    & dotnet build $project --configuration Release --nologo --verbosity quiet | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "Building $project failed (exit $LASTEXITCODE)." }
    return (Join-Path $project 'bin/Release/net10.0/Ahrvo.Bench.RawHttp.dll')
}

function Invoke-Child([string] $Command, [hashtable] $Environment = @{}) {
    # A new pwsh, its wall time from process start to exit, and its stdout.
    $psi = [System.Diagnostics.ProcessStartInfo]::new($PwshHost)
    foreach ($a in $PwshArgs + @('-NoProfile', '-NonInteractive', '-Command', $Command)) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $sw = [System.Diagnostics.Stopwatch]::StartNew()
    $p = [System.Diagnostics.Process]::Start($psi)
    $errTask = $p.StandardError.ReadToEndAsync()
    $out = $p.StandardOutput.ReadToEnd()
    $p.WaitForExit()
    $sw.Stop()
    $err = $errTask.GetAwaiter().GetResult()
    if ($p.ExitCode -ne 0) { throw "Child pwsh failed (exit $($p.ExitCode)): $Command`n$out`n$err" }
    [pscustomobject]@{ Ms = $sw.Elapsed.TotalMilliseconds; Output = $out; Error = $err }
}

function Invoke-RawHttp([int] $Count, [int] $Warmup) {
    # The raw HttpClient loop in its own process (so its thread pool and JIT are its own), one timed run.
    $line = & dotnet $rawDll --base-uri $base --count $Count --concurrency $Throttle --runs 1 --warmup $Warmup --api-key $emu.ApiKey --access-token $emu.AccessToken
    if ($LASTEXITCODE -ne 0) { throw "The raw HttpClient benchmark failed (exit $LASTEXITCODE)." }
    $line | Select-Object -Last 1 | ConvertFrom-Json
}

function New-CardIds([int] $Count, [int] $Start = 0) {
    $ids = [string[]]::new($Count)
    for ($i = 0; $i -lt $Count; $i++) { $ids[$i] = 'card2019{0:D14}' -f ($i + $Start) }
    , $ids
}

# ---- setup ---------------------------------------------------------------------------------------------

$N1 = 1000; $Latency1 = 20; $Throttle = 16; $LoopCards = 200
$N2 = 10000; $Repeat2 = [Math]::Max($Repeat, 11)
$N4Big = if ($Quick) { 10000 } else { 100000 }; $N4Small = 1000
$generate = [Math]::Max($N4Big, $N2)

$loadBefore = Get-LoadAverage
Write-Host "Ahrvo.PowerShell benchmarks: $([Environment]::ProcessorCount) cores, load average $loadBefore, $Repeat repetitions" -ForegroundColor Cyan
Write-Host "pwsh $($PSVersionTable.PSVersion) ($PwshHost $($PwshArgs -join ' ')), module $ModulePath"

$emu = Start-AhrvoEmulator -ArgumentList '--generate', "$generate", '--latency-ms', "$Latency1"
$rawDll = Get-RawHttpDll
$results = [ordered]@{}
try {
    $base = $emu.BaseUri.AbsoluteUri
    $balancePath = 'card/issuance/api/issuing/card/v2/normal/balance?card_id='
    $headers = @{ Authorization = "Bearer $($emu.AccessToken)"; 'x-api-key' = $emu.ApiKey }
    $env:AHRVO_API_KEY = $emu.ApiKey
    $env:AHRVO_ACCESS_TOKEN = $emu.AccessToken

    Import-Module $ModulePath -Force
    Connect-Ahrvo -BaseUri $base -MaxRetries 0 | Out-Null

    # ---- 1. 20 ms latency, 1,000 cards ------------------------------------------------------------
    Write-Host "`n[1] $Latency1 ms latency, $N1 cards, throttle $Throttle" -ForegroundColor Cyan
    $ids1 = New-CardIds $N1
    $loopIds = New-CardIds $LoopCards
    $cmdletMs = @(); $parallelMs = @(); $loopMs = @(); $rawMs = @(); $serverMs = @(); $maxConc = @()
    $runCmdlet = { $script:out1 = $ids1 | Get-AhrvoCardBalance -ThrottleLimit $Throttle -ErrorAction SilentlyContinue }
    # The naive script from the issue: every failure silently becomes a balance of 0.
    $runParallel = {
        $script:out2 = $ids1 | ForEach-Object -ThrottleLimit $Throttle -Parallel {
            try {
                $resp = Invoke-RestMethod -Uri ($using:base + $using:balancePath + $_) -Headers $using:headers
                [pscustomobject]@{ CardId = $_; Balance = [decimal]$resp.data.available_balance }
            } catch { [pscustomobject]@{ CardId = $_; Balance = 0 } }
        }
    }
    $runLoop = {
        $script:out3 = foreach ($id in $loopIds) {
            try {
                $resp = Invoke-RestMethod -Uri ($base + $balancePath + $id) -Headers $headers
                [pscustomobject]@{ CardId = $id; Balance = [decimal]$resp.data.available_balance }
            } catch { [pscustomobject]@{ CardId = $id; Balance = 0 } }
        }
    }
    # Warm-up: JIT, connection pools, runspace pools.
    & $runCmdlet; & $runParallel; & $runLoop
    for ($rep = 1; $rep -le $Repeat; $rep++) {
        Reset-AhrvoEmulator $emu
        $cmdletMs += (Measure-Command $runCmdlet).TotalMilliseconds
        $s = Get-AhrvoEmulatorStats $emu -Limit $N1
        $serverMs += ($s.requests | Measure-Object -Property durationMs -Average).Average
        $maxConc += $s.maxConcurrent
        $parallelMs += (Measure-Command $runParallel).TotalMilliseconds
        $loopMs += (Measure-Command $runLoop).TotalMilliseconds * ($N1 / $LoopCards)
        $rawMs += (Invoke-RawHttp -Count $N1 -Warmup 2000).elapsedMs
        Write-Host ("  run {0}: cmdlet {1:N0} ms, ForEach-Object -Parallel {2:N0} ms, Invoke-RestMethod loop {3:N0} ms (scaled), raw HttpClient {4:N0} ms" -f $rep, $cmdletMs[-1], $parallelMs[-1], $loopMs[-1], $rawMs[-1])
    }
    $ideal = $N1 * $Latency1 / $Throttle
    $results.Latency = [ordered]@{
        Cards = $N1; LatencyMs = $Latency1; Throttle = $Throttle
        CmdletMs = Get-Median $cmdletMs; ParallelMs = Get-Median $parallelMs; LoopMs = Get-Median $loopMs; RawMs = Get-Median $rawMs; IdealMs = $ideal
        ServerMeanMs = Get-Median $serverMs; MaxConcurrent = ($maxConc | Measure-Object -Maximum).Maximum
        CmdletRuns = $cmdletMs; ParallelRuns = $parallelMs; LoopRuns = $loopMs; RawRuns = $rawMs
        CmdletOutput = @($out1).Count; ParallelOutput = @($out2).Count
    }
    Write-Host ("  cmdlet wrote {0} balances (the {1} Shared cards are errors); ForEach-Object -Parallel wrote {2} rows, {3} of them a made-up 0" -f @($out1).Count, ($N1 - @($out1).Count), @($out2).Count, @($out2 | Where-Object Balance -eq 0).Count)
    Write-Host ("  emulator: mean server-side time {0:N1} ms a request (configured {1}), max concurrent {2}" -f $results.Latency.ServerMeanMs, $Latency1, $results.Latency.MaxConcurrent)

    # ---- 2. 0 ms latency, 10,000 cards -----------------------------------------------------------------
    Write-Host "`n[2] 0 ms latency, $N2 cards, concurrency $Throttle" -ForegroundColor Cyan
    Set-AhrvoEmulatorConfig $emu @{ latencyMs = 0 } | Out-Null
    $ids2 = New-CardIds $N2
    $runCmdlet2 = { $null = $ids2 | Get-AhrvoCardBalance -ThrottleLimit $Throttle -ErrorAction SilentlyContinue }
    # Steady state on both sides: PowerShell's own code is still being JIT-compiled (tiered) during
    # the first runs (perf showed the JIT thread busy for several), and the raw loop gets 30,000
    # requests of warm-up in its process.
    1..5 | ForEach-Object { & $runCmdlet2 }
    $self = [System.Diagnostics.Process]::GetCurrentProcess()
    $cmdletRate = @(); $rawRate = @(); $cmdletCpu = @(); $rawCpu = @(); $emuCpu = @()
    for ($rep = 1; $rep -le $Repeat2; $rep++) {
        $self.Refresh(); $cpu0 = $self.TotalProcessorTime; $emu.Process.Refresh(); $emuCpu0 = $emu.Process.TotalProcessorTime
        $cmdletRate += $N2 / (Measure-Command $runCmdlet2).TotalSeconds
        $self.Refresh(); $cmdletCpu += ($self.TotalProcessorTime - $cpu0).TotalMilliseconds * 1000 / $N2
        $emu.Process.Refresh(); $emuCpu += ($emu.Process.TotalProcessorTime - $emuCpu0).TotalMilliseconds * 1000 / $N2
        $raw = Invoke-RawHttp -Count $N2 -Warmup 30000
        $rawRate += $raw.perSecond; $rawCpu += $raw.cpuMs * 1000 / $N2
        Write-Host ("  run {0}: cmdlet {1:N0} cards/s ({2:N0} us CPU a card), raw HttpClient {3:N0} requests/s ({4:N0} us CPU a request)" -f $rep, $cmdletRate[-1], $cmdletCpu[-1], $rawRate[-1], $rawCpu[-1])
    }
    # What a one-off script sees: the first 10,000 cards in a new pwsh, JIT and connections cold.
    $firstRun = @"
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$ModulePath'
Connect-Ahrvo -BaseUri '$base' -MaxRetries 0
`$ids = [string[]]::new($N2); for (`$i = 0; `$i -lt $N2; `$i++) { `$ids[`$i] = 'card2019{0:D14}' -f `$i }
`$t = Measure-Command { `$null = `$ids | Get-AhrvoCardBalance -ThrottleLimit $Throttle -ErrorAction SilentlyContinue }
[int]($N2 / `$t.TotalSeconds)
"@
    $firstRate = @(1..3 | ForEach-Object { [double]((Invoke-Child $firstRun @{ AHRVO_API_KEY = $emu.ApiKey; AHRVO_ACCESS_TOKEN = $emu.AccessToken }).Output.Trim()) })
    Write-Host ("  first run in a new pwsh: {0} cards/s" -f (($firstRate | ForEach-Object { '{0:N0}' -f $_ }) -join ', '))
    # Users get progress by default: the same runs with it on, to show it costs nothing noticeable.
    $runCmdlet2Progress = { $ProgressPreference = 'Continue'; $null = $ids2 | Get-AhrvoCardBalance -ThrottleLimit $Throttle -ErrorAction SilentlyContinue }
    $progressRate = @(1..3 | ForEach-Object { $N2 / (Measure-Command $runCmdlet2Progress).TotalSeconds })
    Write-Host ("  with `$ProgressPreference = 'Continue': {0} cards/s" -f (($progressRate | ForEach-Object { '{0:N0}' -f $_ }) -join ', '))
    $results.Throughput = [ordered]@{
        Cards = $N2; Concurrency = $Throttle; CmdletPerSecond = Get-Median $cmdletRate; RawPerSecond = Get-Median $rawRate
        CmdletWithProgressPerSecond = Get-Median $progressRate; CmdletFirstRunPerSecond = Get-Median $firstRate
        CmdletCpuUs = Get-Median $cmdletCpu; RawCpuUs = Get-Median $rawCpu; EmulatorCpuUs = Get-Median $emuCpu; CmdletRuns = $cmdletRate; RawRuns = $rawRate
    }

    # ---- 3. cold one-card command ------------------------------------------------------------------------
    Write-Host "`n[3] cold one-card command in a new pwsh" -ForegroundColor Cyan
    $card = 'card201900000000000000'
    $cmdletLine = "Import-Module '$ModulePath'; Connect-Ahrvo -BaseUri '$base'; Get-AhrvoCardBalance $card"
    $irmLine = "Invoke-RestMethod -Uri '$base$balancePath$card' -Headers @{ Authorization = 'Bearer $($emu.AccessToken)'; 'x-api-key' = '$($emu.ApiKey)' }"
    $childEnv = @{ AHRVO_API_KEY = $emu.ApiKey; AHRVO_ACCESS_TOKEN = $emu.AccessToken }
    $null = Invoke-Child $cmdletLine $childEnv; $null = Invoke-Child $irmLine $childEnv   # file cache warm-up
    $coldCmdlet = @(); $coldIrm = @()
    for ($rep = 1; $rep -le $Repeat; $rep++) {
        $c = Invoke-Child $cmdletLine $childEnv
        if ($c.Output -notmatch '5157') { throw "The cold cmdlet run printed no balance:`n$($c.Output)`n$($c.Error)" }
        $coldCmdlet += $c.Ms
        $coldIrm += (Invoke-Child $irmLine $childEnv).Ms
        Write-Host ("  run {0}: Get-AhrvoCardBalance {1:N0} ms, Invoke-RestMethod {2:N0} ms" -f $rep, $coldCmdlet[-1], $coldIrm[-1])
    }
    $results.Cold = [ordered]@{ CmdletMs = Get-Median $coldCmdlet; IrmMs = Get-Median $coldIrm; CmdletRuns = $coldCmdlet; IrmRuns = $coldIrm; Command = $cmdletLine -replace [regex]::Escape($ModulePath), '<module>' }

    # ---- 4. peak memory --------------------------------------------------------------------------------
    Write-Host "`n[4] peak working set, cards piped into Export-Csv" -ForegroundColor Cyan
    $csv = Join-Path ([IO.Path]::GetTempPath()) "ahrvo-bench-$PID.csv"
    $peak = @{}
    foreach ($n in $N4Small, $N4Big) {
        # Ids are generated as they are consumed, so the input itself takes no memory; VmHWM is the
        # process's peak resident set since it started.
        $script = @"
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$ModulePath'
Connect-Ahrvo -BaseUri '$base' -MaxRetries 0
& { for (`$i = 0; `$i -lt $n; `$i++) { 'card2019{0:D14}' -f `$i } } | Get-AhrvoCardBalance -ThrottleLimit $Throttle -ErrorAction Ignore | Export-Csv -LiteralPath '$csv' -NoTypeInformation
`$rows = [IO.File]::ReadLines('$csv') | Measure-Object | ForEach-Object Count
`$hwm = (Select-String -LiteralPath /proc/self/status -Pattern '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
"`$rows `$hwm"
"@
        $res = Invoke-Child $script $childEnv
        $parts = ($res.Output.Trim() -split '\s+')
        $peak[$n] = [ordered]@{ Rows = [int]$parts[0] - 1; PeakMB = [double]$parts[1] / 1024; Seconds = $res.Ms / 1000 }
        Write-Host ("  {0:N0} cards: {1:N0} rows in {2:N1} s, peak working set {3:N1} MB" -f $n, $peak[$n].Rows, $peak[$n].Seconds, $peak[$n].PeakMB)
    }
    Remove-Item -LiteralPath $csv -ErrorAction SilentlyContinue
    $results.Memory = [ordered]@{ SmallCards = $N4Small; BigCards = $N4Big; SmallPeakMB = $peak[$N4Small].PeakMB; BigPeakMB = $peak[$N4Big].PeakMB; BigRows = $peak[$N4Big].Rows; BigSeconds = $peak[$N4Big].Seconds }

    # ---- 5. timing the tests do not assert ------------------------------------------------------------
    # The xunit tests assert what happens (counts, order, nothing sent after a stop), never how fast:
    # these are the figures they used to bound with wall-clock limits, measured here instead.
    Write-Host "`n[5] stops, early stops, pacing and timeouts, timed" -ForegroundColor Cyan
    $timing = [ordered]@{ StopMs = @(); FirstFiveMs = @(); FirstFiveRequests = @(); PacedBusiestSecond = @(); PacedMs = @(); HangMs = @() }
    $ids5 = New-CardIds 1000
    # A runspace of its own, so that a run can be stopped from here; the module's session connection
    # is process-wide, so it uses the one made here.
    $stopRunspace = [runspacefactory]::CreateRunspace()
    $stopRunspace.Open()
    # The module is imported on its own, so that the run below is one statement, not a batch
    # (Stop-Invocation in BenchSupport.psm1 says why a stopped batch needs care).
    $import = [powershell]::Create(); $import.Runspace = $stopRunspace
    $null = $import.AddCommand('Import-Module').AddParameter('Name', $ModulePath).Invoke()
    $import.Dispose()
    for ($rep = 1; $rep -le $Repeat; $rep++) {
        Set-AhrvoEmulatorConfig $emu @{ latencyMs = 50 } | Out-Null
        # Ctrl+C a run in full flow (was: Stop() "within a second" in tests/Ahrvo.PowerShell.Tests).
        $ps = [powershell]::Create()
        $ps.Runspace = $stopRunspace
        $null = $ps.AddScript({ param($Ids) $Ids | Get-AhrvoCardBalance -ThrottleLimit 8 -ErrorAction SilentlyContinue }).AddArgument($ids5)
        $out = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $noInput = [System.Management.Automation.PSDataCollection[psobject]]::new(); $noInput.Complete() # open input would be waited for
        $async = $ps.BeginInvoke($noInput, $out)
        while ($out.Count -lt 100 -and -not $async.IsCompleted) { Start-Sleep -Milliseconds 10 }
        # Stop() timed; the invocation is ended before it is disposed (this crashed pwsh: issue 18).
        $timing.StopMs += Stop-Invocation -PowerShell $ps -AsyncResult $async
        # Select-Object -First 5 at even latency (was: "took < 2.5 s" and a request bound from the 5 ms hold-back).
        Start-Sleep -Milliseconds 300 # the stopped requests end at the server before the counters are reset
        Reset-AhrvoEmulator $emu
        $timing.FirstFiveMs += (Measure-Command { $null = $ids5 | Get-AhrvoCardBalance -ThrottleLimit 16 | Select-Object -First 5 }).TotalMilliseconds
        Start-Sleep -Milliseconds 300
        $timing.FirstFiveRequests += (Get-AhrvoEmulatorStats $emu -Limit 0).balanceRequests
        # -MaxRequestsPerSecond 20 over 40 cards (was: "at most 22 in any second" and "at least 1.8 s").
        Set-AhrvoEmulatorConfig $emu @{ latencyMs = 0 } | Out-Null
        Reset-AhrvoEmulator $emu
        Connect-Ahrvo -BaseUri $base -MaxRetries 0 -MaxRequestsPerSecond 20 | Out-Null
        $timing.PacedMs += (Measure-Command { $null = Get-AhrvoCardBalance -CardId $ids5[0..39] -ThrottleLimit 16 }).TotalMilliseconds
        $starts = @((Get-AhrvoEmulatorStats $emu -Limit 40).requests | ForEach-Object startedAt | Sort-Object)
        $timing.PacedBusiestSecond += ($starts | ForEach-Object { $t = $_; @($starts | Where-Object { $_ -ge $t -and $_ -lt $t + 1000 }).Count } | Measure-Object -Maximum).Maximum
        # A card that always hangs, -AttemptTimeoutSec 1 -TimeoutSec 3 (was: "fails within 4.5 s").
        Set-AhrvoEmulatorConfig $emu @{ faults = @(@{ kind = 'slow'; delayMs = 600000; cardIds = @($ids5[3]) }) } | Out-Null
        Connect-Ahrvo -BaseUri $base -MaxRetries 5 -RetryBaseDelayMs 50 -AttemptTimeoutSec 1 -TimeoutSec 3 | Out-Null
        $timing.HangMs += (Measure-Command { $null = Get-AhrvoCardBalance -CardId $ids5[0..9] -ErrorAction SilentlyContinue }).TotalMilliseconds
        Set-AhrvoEmulatorConfig $emu @{ faults = @() } | Out-Null
        Connect-Ahrvo -BaseUri $base -MaxRetries 0 | Out-Null
        Write-Host ("  run {0}: Stop() {1:N0} ms; -First 5 of 1,000 at 50 ms {2:N0} ms, {3} requests; 40 cards at 20/s {4:N0} ms, busiest second {5}; hanging card {6:N0} ms" -f $rep,
            $timing.StopMs[-1], $timing.FirstFiveMs[-1], $timing.FirstFiveRequests[-1], $timing.PacedMs[-1], $timing.PacedBusiestSecond[-1], $timing.HangMs[-1])
    }
    $stopRunspace.Dispose()
    $results.Timing = [ordered]@{
        StopMs = Get-Median $timing.StopMs; FirstFiveMs = Get-Median $timing.FirstFiveMs; FirstFiveRequests = Get-Median $timing.FirstFiveRequests
        FirstFiveMaxRequests = ($timing.FirstFiveRequests | Measure-Object -Maximum).Maximum
        PacedMs = Get-Median $timing.PacedMs; PacedBusiestSecond = ($timing.PacedBusiestSecond | Measure-Object -Maximum).Maximum; HangMs = Get-Median $timing.HangMs
    }
}
finally {
    Stop-AhrvoEmulator $emu
    Remove-Item Env:AHRVO_API_KEY, Env:AHRVO_ACCESS_TOKEN -ErrorAction SilentlyContinue
}

# ---- table -------------------------------------------------------------------------------------------
$L = $results.Latency; $T = $results.Throughput; $C = $results.Cold; $M = $results.Memory; $Tm = $results.Timing
$rows = @(
    [pscustomobject]@{ Measure = "1. $($L.Cards) cards @ $($L.LatencyMs) ms, Get-AhrvoCardBalance -ThrottleLimit 16"; Figure = '{0:N0} ms = {1:N2} ms/card' -f $L.CmdletMs, ($L.CmdletMs / $L.Cards); Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '   ForEach-Object -Parallel -ThrottleLimit 16 + Invoke-RestMethod'; Figure = '{0:N0} ms = {1:N2} ms/card' -f $L.ParallelMs, ($L.ParallelMs / $L.Cards); Target = ''; Result = '' }
    [pscustomobject]@{ Measure = "   Invoke-RestMethod loop ($LoopCards cards, scaled)"; Figure = '{0:N0} ms = {1:N2} ms/card' -f $L.LoopMs, ($L.LoopMs / $L.Cards); Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '   raw C# HttpClient loop, 16 at once (reference)'; Figure = '{0:N0} ms = {1:N2} ms/card' -f $L.RawMs, ($L.RawMs / $L.Cards); Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '   ideal N x latency / 16'; Figure = '{0:N0} ms = {1:N2} ms/card' -f $L.IdealMs, ($L.IdealMs / $L.Cards); Target = ''; Result = '' }
    [pscustomobject]@{ Measure = ('   floor N x measured server time ({0:N1} ms) / 16' -f $L.ServerMeanMs); Figure = '{0:N0} ms' -f ($L.Cards * $L.ServerMeanMs / $L.Throttle); Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '   cmdlet / ideal'; Figure = '{0:N2} x' -f ($L.CmdletMs / $L.IdealMs); Target = '<= 1.20 x'; Result = if ($L.CmdletMs / $L.IdealMs -le 1.2) { 'PASS' } else { 'MISS' } }
    # Issue 17 restated the ForEach-Object -Parallel target (>= 3 x, which depends on how fast pwsh
    # runs on the machine) as one against the raw HttpClient loop, in the same run: within 1.05 x at
    # 20 ms (below) and at least 0.9 x its rate at 0 ms (measure 2).
    [pscustomobject]@{ Measure = '   ForEach-Object -Parallel / cmdlet'; Figure = '{0:N2} x' -f ($L.ParallelMs / $L.CmdletMs); Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '   Invoke-RestMethod loop / cmdlet'; Figure = '{0:N1} x' -f ($L.LoopMs / $L.CmdletMs); Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '   cmdlet / raw HttpClient'; Figure = '{0:N2} x' -f ($L.CmdletMs / $L.RawMs); Target = '<= 1.05 x'; Result = if ($L.CmdletMs / $L.RawMs -le 1.05) { 'PASS' } else { 'MISS' } }
    [pscustomobject]@{ Measure = "2. $($T.Cards) cards @ 0 ms, cmdlet vs raw HttpClient (16)"; Figure = '{0:N0} vs {1:N0} cards/s = {2:N2}' -f $T.CmdletPerSecond, $T.RawPerSecond, ($T.CmdletPerSecond / $T.RawPerSecond); Target = '>= 0.90'; Result = if ($T.CmdletPerSecond / $T.RawPerSecond -ge 0.9) { 'PASS' } else { 'MISS' } }
    [pscustomobject]@{ Measure = '   cmdlet, first run in a new pwsh (3 runs)'; Figure = '{0:N0} cards/s' -f $T.CmdletFirstRunPerSecond; Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '   cmdlet with progress on (3 runs)'; Figure = '{0:N0} cards/s' -f $T.CmdletWithProgressPerSecond; Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '   CPU a card: cmdlet vs raw client (emulator)'; Figure = '{0:N0} vs {1:N0} us ({2:N0} us)' -f $T.CmdletCpuUs, $T.RawCpuUs, $T.EmulatorCpuUs; Target = ''; Result = '' }
    [pscustomobject]@{ Measure = '3. cold one-card: Import+Connect+Get vs Invoke-RestMethod'; Figure = '{0:N0} vs {1:N0} ms = {2:N2} x' -f $C.CmdletMs, $C.IrmMs, ($C.CmdletMs / $C.IrmMs); Target = '<= 1.20 x'; Result = if ($C.CmdletMs / $C.IrmMs -le 1.2) { 'PASS' } else { 'MISS' } }
    [pscustomobject]@{ Measure = "4. peak working set, $('{0:N0}' -f $M.BigCards) vs $('{0:N0}' -f $M.SmallCards) cards | Export-Csv"; Figure = '{0:N1} vs {1:N1} MB = +{2:N1} MB' -f $M.BigPeakMB, $M.SmallPeakMB, ($M.BigPeakMB - $M.SmallPeakMB); Target = '< +50 MB'; Result = if ($M.BigPeakMB - $M.SmallPeakMB -lt 50) { 'PASS' } else { 'MISS' } }
    [pscustomobject]@{ Measure = '5. Ctrl+C of 1,000 cards at 50 ms, throttle 8: Stop() returns'; Figure = '{0:N0} ms' -f $Tm.StopMs; Target = '< 1,000 ms'; Result = if ($Tm.StopMs -lt 1000) { 'PASS' } else { 'MISS' } }
    [pscustomobject]@{ Measure = '   Select-Object -First 5 of 1,000 at 50 ms, throttle 16'; Figure = '{0:N0} ms, {1} requests (most {2})' -f $Tm.FirstFiveMs, $Tm.FirstFiveRequests, $Tm.FirstFiveMaxRequests; Target = '< 2,500 ms, <= 27 requests'; Result = if ($Tm.FirstFiveMs -lt 2500 -and $Tm.FirstFiveMaxRequests -le 27) { 'PASS' } else { 'MISS' } }
    [pscustomobject]@{ Measure = '   40 cards at -MaxRequestsPerSecond 20'; Figure = '{0:N0} ms, at most {1} in a second' -f $Tm.PacedMs, $Tm.PacedBusiestSecond; Target = '>= 1,800 ms, <= 22'; Result = if ($Tm.PacedMs -ge 1800 -and $Tm.PacedBusiestSecond -le 22) { 'PASS' } else { 'MISS' } }
    [pscustomobject]@{ Measure = '   a card that always hangs, -AttemptTimeoutSec 1 -TimeoutSec 3'; Figure = '{0:N0} ms' -f $Tm.HangMs; Target = '< 4,500 ms'; Result = if ($Tm.HangMs -lt 4500) { 'PASS' } else { 'MISS' } }
)
$loadAfter = Get-LoadAverage
Write-Host "`nMedians of $Repeat runs ($Repeat2 for 2); load average before $loadBefore, after $loadAfter ($([Environment]::ProcessorCount) cores, shared)." -ForegroundColor Cyan
$rows | Format-Table -AutoSize -Wrap | Out-String -Width 200 | Write-Host

$results.Repeat = $Repeat
$results.LoadBefore = $loadBefore
$results.LoadAfter = $loadAfter
$results.Table = $rows
New-Item -ItemType Directory -Force (Split-Path -Parent $OutFile) | Out-Null
$results | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $OutFile
Write-Host "Results: $OutFile"
