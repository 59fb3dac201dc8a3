#requires -Version 7.2
<#
.SYNOPSIS
    Bulk-query benchmarks "under pressure": Get-AhrvoCardBalance vs a naive ForEach-Object -Parallel
    script against the local emulator under rate limits, sporadic faults, outages and a hanging service.
.DESCRIPTION
    build.ps1 Bench runs this after bench/Invoke-Benchmarks.ps1 (build.ps1 Bench -BenchFilter Pressure
    runs only this), in a fresh pwsh with $env:AHRVO_MODULE_PATH (the built manifest) and
    $env:AHRVO_EMULATOR_DLL (the published emulator). Defaults: 20 ms emulator latency, -ThrottleLimit 16,
    default Connect-Ahrvo settings (retries on), a fresh connection per situation.

      1. Account rate limit 100 requests/s (429 + Retry-After: 1), 1,000 cards.
      2. The same at 200 requests/s.
      3. 5 % sporadic faults, each faulted card failing once (1 % each of 500, 502, 503, reset, 429 with
         Retry-After: 1), 1,000 cards; also the mix without the 429 rule and 5 % 429s alone.
      4. A 3-second 503 outage 40 % into a 4,000-card run.
      5. Down after a good run (-TimeoutSec 10): 3,000 cards, then a 503 outage (60 s) during a 2,000-card
         run, then the outage cleared and 1,000 cards, all on the same connection.
      6. The same with a hanging service (-TimeoutSec 10, and -TimeoutSec 10 -AttemptTimeoutSec 2).

    Every situation runs the cmdlet and the naive script (the one from the issue, with
    -MaximumRetryCount 5 -RetryIntervalSec 1), each -Repeat times, interleaved; medians are reported.
    In 5 and 6 the naive script runs in the first repetition only: its outage run always lasts until
    the bound (-OutageBoundSec), so repeating it would only cost time.

    The input cards are the emulator's generated cards without the Shared ones (every 50th, which
    legitimately fail with a 400 that the naive script would retry five times a second apart), so every
    input card has a balance to get.

    Figures per run: wall time, cards per second (input cards / wall time), requests the emulator
    received, 429s it sent (emulator stats), errors the cmdlet wrote, and cards lost: input cards
    without their correct balance in the output. The cmdlet's output is checked to hold every card at
    most once, in input order, and (unless a run was cut off) balances plus errors equal to the input.

    Every run is bounded: it runs in a PowerShell instance of its own that is stopped after
    -OutageBoundSec (outage runs) or -RunBoundSec (the others); a run cut off is reported as such.

    The emulator contract used (outage windows, firstAttemptOnly faults, token-bucket rate limit,
    rateLimited/statusCounts stats) is detected at start. On an emulator without it the script falls
    back, and says so: faults on 1 % of the card ids chosen here (cardIds + firstAttempts 1), outages
    timed by this script with failAll (503 then carries Retry-After: 1), a hang as a 60 s "slow" fault,
    429s counted from the request log; the rate limit is then the old fixed one-second window.
.PARAMETER Repeat
    Repetitions of each measurement (medians are reported). Default 3.
.PARAMETER Quick
    One repetition (for trying the script and "before" figures, not for final figures).
.PARAMETER Situation
    Run only these situations (1-8), for trying the script. 7 is issue 17's sweep: limits of 5, 10,
    20 and 50 requests/s (15 s of cards at each), random 429s (2,000 cards: once to 5 % and to 1 % of the
    cards, as issue 17 measured, and on 5 % of every attempt), a 3 s window of a CDN's 522; each row beside
    the naive script in the same run. 8: two pwsh processes sharing one account (limits of 20 and
    100 requests/s, 10 s of the limit's cards each), started together, as issue 17's last row measured.
.PARAMETER RunBoundSec
    The longest a run that should not hang may take before it is stopped. Default 120.
.PARAMETER OutageBoundSec
    The longest an outage run (situations 5 and 6) may take before it is stopped. Default 25 (the target is 15).
.PARAMETER OutFile
    Where the results are written as JSON (default out/bench/pressure.json under the repo).
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 Bench -BenchFilter Pressure
.EXAMPLE
    $env:AHRVO_MODULE_PATH = 'out/Ahrvo.PowerShell/0.2.0/Ahrvo.PowerShell.psd1'; $env:AHRVO_EMULATOR_DLL = 'out/emulator/Ahrvo.Emulator.dll'
    dotnet pwsh bench/Invoke-PressureBenchmarks.ps1 -Quick -Situation 1, 3
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 50)] [int] $Repeat = 3,
    [switch] $Quick,
    # Strings: from bash, -File passes "1,3" as one string (which [int[]] would read as 13).
    [string[]] $Situation = @('1', '2', '3', '4', '5', '6', '7', '8'),
    [ValidateRange(5, 3600)] [int] $RunBoundSec = 120,
    [ValidateRange(5, 3600)] [int] $OutageBoundSec = 25,
    [string] $OutFile
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$Root = Split-Path -Parent $PSScriptRoot
if ($Quick) { $Repeat = 1 }
$Situation = @($Situation | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ } | ForEach-Object { [int]$_ })
if (-not $Situation -or ($Situation | Where-Object { $_ -lt 1 -or $_ -gt 8 })) { throw '-Situation takes numbers from 1 to 8.' }
if (-not $OutFile) { $OutFile = Join-Path $Root 'out/bench/pressure.json' }

$ModulePath = $env:AHRVO_MODULE_PATH
if (-not $ModulePath -or -not (Test-Path -LiteralPath $ModulePath)) { throw 'Set AHRVO_MODULE_PATH to the built Ahrvo.PowerShell.psd1 (build.ps1 Bench does).' }
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath

Import-Module (Join-Path $Root 'tests/pester/Emulator.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1') -Force

# ---- helpers ---------------------------------------------------------------------------------------

function New-CardIds([int] $Count) {
    # The first $Count Dedicated generated cards: every 50th generated card (i + 1 a multiple of 50) is
    # Shared and legitimately fails, and the naive script retries that 400 five times a second apart,
    # which would swamp its figures; so every card of the input has a balance to get.
    $ids = [string[]]::new($Count)
    $i = 0
    for ($k = 0; $k -lt $Count; $i++) {
        if (($i + 1) % 50 -ne 0) { $ids[$k++] = 'card2019{0:D14}' -f $i }
    }
    , $ids
}

function Test-EmulatorConfig([System.Collections.IDictionary] $Config) {
    # The emulator answers 400 to a property (or fault-rule member) it does not know.
    try { $null = Set-AhrvoEmulatorConfig $emu $Config; $true } catch { $false }
}

function Set-Config([System.Collections.IDictionary] $Config) { $null = Set-AhrvoEmulatorConfig $emu $Config }

function Clear-Config {
    $c = [ordered]@{ rateLimitPerSecond = 0; faults = @(); failAll = $null; latencyMs = $Latency }
    if ($Features.Outages) { $c.outages = @() }
    if ($Features.Windows) { $c.rateLimitWindow = 'bucket' }
    Set-Config $c
}

function New-BenchRunspace {
    # Runs happen in this runspace, each in a PowerShell instance of its own, so that a run can be
    # stopped at its bound while this script goes on. The module is process-wide; the connections
    # made here are passed to each run with -Connection.
    $r = [runspacefactory]::CreateRunspace()
    $r.Open()
    $p = [powershell]::Create(); $p.Runspace = $r
    $null = $p.AddScript("`$ProgressPreference = 'SilentlyContinue'; Import-Module '$ModulePath'").Invoke()
    $p.Dispose()
    $r
}

function Invoke-InRunspace([string] $Script, [hashtable] $Parameters = @{}) {
    $p = [powershell]::Create(); $p.Runspace = $script:Runspace
    try {
        $null = $p.AddScript($Script)
        foreach ($k in $Parameters.Keys) { $null = $p.AddParameter($k, $Parameters[$k]) }
        $p.Invoke()
    } finally { $p.Dispose() }
}

function Invoke-Bounded([string] $Script, [hashtable] $Parameters, [double] $BoundSec, [scriptblock] $During) {
    # Runs $Script in the bench runspace; stops it after $BoundSec. Output and errors collected so far
    # survive a stop (the collections are filled as the run goes).
    $p = [powershell]::Create(); $p.Runspace = $script:Runspace
    $null = $p.AddScript($Script)
    foreach ($k in $Parameters.Keys) { $null = $p.AddParameter($k, $Parameters[$k]) }
    $in = [System.Management.Automation.PSDataCollection[psobject]]::new(); $in.Complete()
    $out = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $sw = [System.Diagnostics.Stopwatch]::StartNew()
    $h = $p.BeginInvoke($in, $out)
    if ($During) { & $During }
    $left = [Math]::Max(0, $BoundSec * 1000 - $sw.ElapsedMilliseconds)
    $finished = $h.AsyncWaitHandle.WaitOne([int]$left)
    $sw.Stop()
    $failure = $null; $abandoned = $false
    if ($finished) {
        try { $null = $p.EndInvoke($h) } catch { $failure = $_.Exception.Message }
    } else {
        $stop = $p.BeginStop($null, $null)
        if (-not $stop.AsyncWaitHandle.WaitOne(15000)) {
            # It did not stop: leave it running and go on in a new runspace.
            $abandoned = $true
            Write-Host "  (the run did not stop within 15 s of being told to; continuing in a new runspace)" -ForegroundColor Yellow
            $script:Runspace = New-BenchRunspace
        }
    }
    $r = [pscustomobject]@{ Ms = $sw.Elapsed.TotalMilliseconds; TimedOut = -not $finished; Abandoned = $abandoned; Failure = $failure; Output = @($out) }
    if (-not $abandoned) { $p.Dispose() }
    $r
}

$CmdletScript = {
    param([string[]] $Ids, $Connection, [int] $Throttle, [System.Collections.ArrayList] $ErrorSink)
    # -ErrorVariable +name appends to the ArrayList already in the variable, so the caller sees the
    # errors even when the run is stopped at its bound.
    $cardErrors = $ErrorSink
    $Ids | Get-AhrvoCardBalance -ThrottleLimit $Throttle -Connection $Connection -ErrorAction SilentlyContinue -ErrorVariable +cardErrors
}.ToString()

# The naive script, as users write it (the base URI ends with '/').
$NaiveScript = {
    param([string[]] $Ids, [string] $base, [hashtable] $headers, [int] $Throttle)
    $Ids | ForEach-Object -ThrottleLimit $Throttle -Parallel {
        try {
            $r = Invoke-RestMethod -Uri ($using:base + 'card/issuance/api/issuing/card/v2/normal/balance?card_id=' + $_) -Headers $using:headers -MaximumRetryCount 5 -RetryIntervalSec 1
            [pscustomobject]@{ CardId = $_; Balance = [decimal]$r.data.available_balance }
        } catch { [pscustomobject]@{ CardId = $_; Balance = $null; Error = $_.Exception.Message } }
    }
}.ToString()

function New-Connection([hashtable] $Settings = @{}) {
    # A fresh connection with default settings unless said, from AHRVO_API_KEY / AHRVO_ACCESS_TOKEN.
    $c = Invoke-InRunspace 'param($BaseUri, $Settings) Connect-Ahrvo -BaseUri $BaseUri @Settings -PassThru' @{ BaseUri = $base; Settings = $Settings }
    $c[0]
}

function Get-RunStats {
    $s = Get-AhrvoEmulatorStats $emu -Limit 0
    $counts = @{}
    if ($s.PSObject.Properties['statusCounts'] -and $null -ne $s.statusCounts) {
        foreach ($p in $s.statusCounts.PSObject.Properties) { $counts[[string]$p.Name] = [int]$p.Value }
        $rateLimited = if ($s.PSObject.Properties['rateLimited']) { [int]$s.rateLimited } else { 0 }
    } else {
        # An emulator without statusCounts: count from the request log.
        $full = Get-AhrvoEmulatorStats $emu -Limit 100000
        $rateLimited = 0
        foreach ($r in @($full.requests)) {
            $k = [string]$r.status
            $counts[$k] = 1 + $(if ($counts.ContainsKey($k)) { $counts[$k] } else { 0 })
            if ($r.fault -eq 'ratelimit') { $rateLimited++ }
        }
    }
    [pscustomobject]@{
        Requests = [int]$s.balanceRequests
        Status429 = $(if ($counts.ContainsKey('429')) { $counts['429'] } else { 0 })
        RateLimited = $rateLimited
        StatusCounts = $counts
        Late429 = Get-Late429
    }
}

function Get-Late429([double] $AfterMs = 3000) {
    # 429s to requests that reached the emulator more than 3 s after the run's first: what is left
    # once the limit is found (issue 17: "beyond the handful it takes to find an unpublished limit").
    # From the request log (whole milliseconds of wall clock); -1 when the log is not complete.
    $s = Get-AhrvoEmulatorStats $emu -Limit 100000
    $log = @($s.requests)
    if ($log.Count -eq 0 -or $log.Count -lt [int]$s.balanceRequests) { return -1 }
    $t0 = ($log | Measure-Object -Property startedAt -Minimum).Minimum
    @($log | Where-Object { [int]$_.status -eq 429 -and $_.startedAt - $t0 -gt $AfterMs }).Count
}

function Get-Lost([string[]] $Ids, [hashtable] $Got) {
    # Dedicated cards of the input without their correct balance.
    $lost = 0
    foreach ($id in $Ids) {
        if (-not $Expected.ContainsKey($id)) { continue }   # Shared: an error is the right answer
        if (-not $Got.ContainsKey($id) -or $null -eq $Got[$id] -or [decimal]$Got[$id] -ne $Expected[$id]) { $lost++ }
    }
    $lost
}

function Measure-CmdletRun([string] $Label, [string[]] $Ids, $Connection, [double] $BoundSec = $RunBoundSec, [scriptblock] $During) {
    Reset-AhrvoEmulator $emu
    $sink = [System.Collections.ArrayList]::new()
    $run = Invoke-Bounded $CmdletScript @{ Ids = $Ids; Connection = $Connection; Throttle = $Throttle; ErrorSink = $sink } $BoundSec $During
    $stats = Get-RunStats
    # Order and uniqueness: each balance's card id at a later input position than the one before.
    $index = @{}; for ($i = 0; $i -lt $Ids.Count; $i++) { $index[$Ids[$i]] = $i }
    $got = @{}; $last = -1; $orderOk = $true; $balances = 0
    foreach ($o in $run.Output) {
        if ($null -eq $o -or -not $o.PSObject.Properties['CardId']) { $orderOk = $false; continue }
        $balances++
        $id = [string]$o.CardId
        if ($got.ContainsKey($id) -or -not $index.ContainsKey($id) -or $index[$id] -le $last) { $orderOk = $false }
        if ($index.ContainsKey($id)) { $last = $index[$id] }
        $got[$id] = $o.AvailableBalance
    }
    $errors = $sink.Count
    $complete = -not $run.TimedOut -and -not $run.Failure -and ($balances + $errors -eq $Ids.Count)
    if (-not $run.TimedOut -and -not $complete) { $orderOk = $false }
    $rec = [ordered]@{
        Method = 'cmdlet'; Label = $Label; Cards = $Ids.Count; Ms = $run.Ms; PerSecond = $Ids.Count / ($run.Ms / 1000)
        Requests = $stats.Requests; Status429 = $stats.Status429; RateLimited = $stats.RateLimited; Late429 = $stats.Late429
        Lost = Get-Lost $Ids $got; Errors = $errors; Balances = $balances; OrderOk = $orderOk; TimedOut = $run.TimedOut
        Failure = $run.Failure; StatusCounts = $stats.StatusCounts
    }
    Write-RunLine $rec
    $rec
}

function Measure-NaiveRun([string] $Label, [string[]] $Ids, [double] $BoundSec = $RunBoundSec, [scriptblock] $During) {
    Reset-AhrvoEmulator $emu
    $run = Invoke-Bounded $NaiveScript @{ Ids = $Ids; base = $base; headers = $headers; Throttle = $Throttle } $BoundSec $During
    $stats = Get-RunStats
    $got = @{}; $rows = 0; $failed = 0
    foreach ($o in $run.Output) {
        if ($null -eq $o -or -not $o.PSObject.Properties['CardId']) { continue }
        $rows++
        if ($null -eq $o.Balance) { $failed++ }
        $got[[string]$o.CardId] = $o.Balance
    }
    $rec = [ordered]@{
        Method = 'naive'; Label = $Label; Cards = $Ids.Count; Ms = $run.Ms; PerSecond = $Ids.Count / ($run.Ms / 1000)
        Requests = $stats.Requests; Status429 = $stats.Status429; RateLimited = $stats.RateLimited
        Lost = Get-Lost $Ids $got; Errors = $failed; Balances = $rows - $failed; OrderOk = $null; TimedOut = $run.TimedOut
        Failure = $run.Failure; StatusCounts = $stats.StatusCounts
    }
    Write-RunLine $rec
    $rec
}

function Write-RunLine($r) {
    $cut = if ($r.TimedOut) { ' (STOPPED at the bound)' } else { '' }
    $order = if ($r.Method -eq 'cmdlet' -and -not $r.OrderOk) { ', ORDER/COUNT WRONG' } else { '' }
    $fail = if ($r.Failure) { ", failed: $($r.Failure)" } else { '' }
    Write-Host ("    {0,-6} {1,-28} {2,8:N0} ms{3}, {4,6:N0} cards/s, {5,5} requests, {6,4} 429s, {7,4} errors, {8,4} lost{9}{10}" -f $r.Method, $r.Label, $r.Ms, $cut, $r.PerSecond, $r.Requests, $r.Status429, $r.Errors, $r.Lost, $order, $fail)
}

function Get-Summary($Runs) {
    # Medians over the repetitions; lost and order over all of them (one loss or misordering is a miss).
    $Runs = @($Runs)
    if ($Runs.Count -eq 0) { return $null }
    [ordered]@{
        Runs = $Runs.Count; Cards = $Runs[0].Cards
        Ms = Get-Median ($Runs | ForEach-Object Ms); PerSecond = Get-Median ($Runs | ForEach-Object PerSecond)
        Requests = Get-Median ($Runs | ForEach-Object Requests); Status429 = Get-Median ($Runs | ForEach-Object Status429); Late429 = Get-Median ($Runs | ForEach-Object { if ($_.Contains("Late429")) { $_.Late429 } else { -1 } })
        RateLimited = Get-Median ($Runs | ForEach-Object RateLimited); Errors = Get-Median ($Runs | ForEach-Object Errors)
        Lost = Get-Median ($Runs | ForEach-Object Lost); LostMax = ($Runs | ForEach-Object Lost | Measure-Object -Maximum).Maximum
        OrderOk = -not ($Runs | Where-Object { $_.Method -eq 'cmdlet' -and -not $_.OrderOk })
        TimedOut = [bool]($Runs | Where-Object TimedOut)
    }
}

function Invoke-SharedAccountPair([int] $Limit, [int] $Each) {
    # Two separate pwsh processes (bench/Invoke-SharedAccountRun.ps1), each with its own connection
    # and half of the cards, told to begin at the same moment (after both have started and loaded
    # the module). Each prints one line of JSON: counts only.
    $child = Join-Path $PSScriptRoot 'Invoke-SharedAccountRun.ps1'
    $dotnet = if ([Environment]::ProcessPath -match '(?i)[\\/]dotnet(\.exe)?$') { [Environment]::ProcessPath } else { 'dotnet' }
    $startAt = [DateTime]::UtcNow.AddSeconds(10).Ticks
    $procs = foreach ($k in 0, 1) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($dotnet)
        foreach ($a in 'pwsh', '-NoProfile', '-NonInteractive', '-File', $child, '-ModulePath', $ModulePath, '-BaseUri', $base,
            '-Start', ($k * $Each), '-Count', $Each, '-StartAtTicks', $startAt, '-Throttle', $Throttle) { $psi.ArgumentList.Add([string]$a) }
        $psi.WorkingDirectory = Split-Path -Parent $PSScriptRoot   # the repo: its tool manifest has pwsh
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
    }
    foreach ($c in $procs) {
        if (-not $c.Process.WaitForExit([int](($RunBoundSec + 30) * 1000))) { $c.Process.Kill($true) }
        $line = ($c.Out.GetAwaiter().GetResult() -split "`n" | Where-Object { $_.TrimStart().StartsWith('{') } | Select-Object -Last 1)
        if ($line) { $line | ConvertFrom-Json }
        else { Write-Host "    a process gave no result: $($c.Err.GetAwaiter().GetResult())" -ForegroundColor Yellow }
    }
}

function Wait-BucketFull {
    # The rate limiter refills in a second: each run starts with a full bucket (a new window).
    Start-Sleep -Milliseconds 1100
}

# ---- setup ---------------------------------------------------------------------------------------------

$N = 1000; $Latency = 20; $Throttle = 16
$N4 = 4000; $N5Good = 3000; $N5Down = 2000; $N5After = 1000
$generate = [int]([Math]::Max($N4, $N5Good) * 50 / 49) + 50

$loadBefore = Get-LoadAverage
$started = [DateTime]::UtcNow
Write-Host "Ahrvo.PowerShell benchmarks under pressure: $([Environment]::ProcessorCount) cores, load average $loadBefore, $Repeat repetitions" -ForegroundColor Cyan
Write-Host "pwsh $($PSVersionTable.PSVersion), module $ModulePath"

$emu = Start-AhrvoEmulator -ArgumentList '--generate', "$generate", '--latency-ms', "$Latency"
$results = [ordered]@{}
$rows = [System.Collections.Generic.List[object]]::new()
function Add-Row([string] $Measure, [string] $Figure, [string] $Target = '', $Pass = $null) {
    $result = if ($null -eq $Pass) { '' } elseif ($Pass) { 'PASS' } else { 'MISS' }
    $rows.Add([pscustomobject]@{ Measure = $Measure; Figure = $Figure; Target = $Target; Result = $result })
}
function Format-Run($s, [double] $Limit = 0) {
    if (-not $s) { return 'n/a' }
    $rate = if ($Limit) { ' = {0:N2} x limit' -f ($s.PerSecond / $Limit) } else { '' }
    $cut = if ($s.TimedOut) { ' (stopped at bound)' } else { '' }
    '{0:N0} ms{1}, {2:N0} cards/s{3}, {4:N0} req, {5:N0} 429s, {6:N0} lost' -f $s.Ms, $cut, $s.PerSecond, $rate, $s.Requests, $s.Status429, $s.LostMax
}

try {
    $base = $emu.BaseUri.AbsoluteUri
    $headers = @{ Authorization = "Bearer $($emu.AccessToken)"; 'x-api-key' = $emu.ApiKey }
    $env:AHRVO_API_KEY = $emu.ApiKey
    $env:AHRVO_ACCESS_TOKEN = $emu.AccessToken

    # What this emulator supports of the contract (each probe is undone by Clear-Config).
    $Features = [ordered]@{
        Outages = Test-EmulatorConfig @{ outages = @() }
        FirstAttemptOnly = Test-EmulatorConfig @{ faults = @(@{ kind = '500'; rate = 0; firstAttemptOnly = $true }) }
        TokenBucket = Test-EmulatorConfig @{ rateLimitBurst = 1 }
        Hang = $false
        StatusCounts = $false
        Windows = Test-EmulatorConfig @{ rateLimitWindow = 'bucket' }
    }
    if ($Features.TokenBucket) { Set-Config @{ rateLimitBurst = $null } }
    if ($Features.Outages) { $Features.Hang = Test-EmulatorConfig @{ outages = @(@{ kind = 'hang'; startMs = 3600000; durationMs = 1 }) } }
    Clear-Config
    $probe = Get-AhrvoEmulatorStats $emu -Limit 0
    $Features.StatusCounts = [bool]$probe.PSObject.Properties['statusCounts']
    Write-Host ("Emulator {0}: outages {1}, firstAttemptOnly {2}, token bucket {3}, hang {4}, statusCounts {5}" -f $env:AHRVO_EMULATOR_DLL, $Features.Outages, $Features.FirstAttemptOnly, $Features.TokenBucket, $Features.Hang, $Features.StatusCounts)
    $results.Features = $Features

    # Expected balances of the Dedicated cards (Shared ones legitimately fail and are not counted).
    $Expected = @{}
    # Invoke-RestMethod returns the JSON array as one object: foreach enumerates it.
    $cards = Get-AhrvoEmulatorCard $emu
    foreach ($card in $cards) {
        if ($card.type -eq 'Dedicated' -and $null -ne $card.available_balance) {
            $Expected[[string]$card.id] = [decimal]::Parse([string]$card.available_balance, [Globalization.CultureInfo]::InvariantCulture)
        }
    }

    $script:Runspace = New-BenchRunspace
    $ids = New-CardIds $N

    # Warm-up: JIT, connection pools, runspace pools.
    $warm = New-Connection
    $null = Invoke-Bounded $CmdletScript @{ Ids = (New-CardIds 300); Connection = $warm; Throttle = $Throttle; ErrorSink = [System.Collections.ArrayList]::new() } $RunBoundSec $null
    $null = Invoke-Bounded $NaiveScript @{ Ids = (New-CardIds 300); base = $base; headers = $headers; Throttle = $Throttle } $RunBoundSec $null

    # ---- 1, 2. account rate limit ---------------------------------------------------------------------
    foreach ($sit in @(@{ No = 1; Limit = 100 }, @{ No = 2; Limit = 200 }) | Where-Object { $_.No -in $Situation }) {
        $limit = $sit.Limit
        $kind = if ($Features.TokenBucket) { 'token bucket' } else { 'fixed 1 s window (old emulator)' }
        Write-Host "`n[$($sit.No)] rate limit $limit requests/s ($kind, 429 + Retry-After: 1), $N cards, $Latency ms, throttle $Throttle" -ForegroundColor Cyan
        Clear-Config
        Set-Config @{ rateLimitPerSecond = $limit }
        $conn = New-Connection
        $c = @(); $nv = @()
        for ($rep = 1; $rep -le $Repeat; $rep++) {
            Wait-BucketFull; $c += Measure-CmdletRun "run $rep" $ids $conn
            Wait-BucketFull; $nv += Measure-NaiveRun "run $rep" $ids
        }
        $cs = Get-Summary $c; $ns = Get-Summary $nv
        $results["RateLimit$limit"] = [ordered]@{ Limit = $limit; Limiter = $kind; Cmdlet = $cs; Naive = $ns; CmdletRuns = $c; NaiveRuns = $nv }
        Add-Row "$($sit.No). limit $limit/s, $N cards: Get-AhrvoCardBalance" (Format-Run $cs $limit) '>= 0.90 x limit' ($cs.PerSecond -ge 0.9 * $limit)
        Add-Row '   429s / cards (cmdlet)' ('{0:N1} %' -f (100 * $cs.Status429 / $N)) '<= 5 %' ($cs.Status429 -le 0.05 * $N)
        if ($cs.Late429 -ge 0) { Add-Row '   429s after the first 3 s / cards (cmdlet)' ('{0:N1} %' -f (100 * $cs.Late429 / $N)) '<= 5 %' ($cs.Late429 -le 0.05 * $N) }
        Add-Row '   lost (cmdlet, worst run)' ('{0}' -f $cs.LostMax) '0' ($cs.LostMax -eq 0)
        Add-Row '   naive ForEach-Object -Parallel' (Format-Run $ns $limit)
        Add-Row '   naive / cmdlet (time)' ('{0:N2} x' -f ($ns.Ms / $cs.Ms)) '> 1 x' ($ns.Ms -gt $cs.Ms)
        Add-Row '   cmdlet output: every card once, in order' $(if ($cs.OrderOk) { 'yes' } else { 'no' }) 'yes' $cs.OrderOk
    }

    # ---- 3. sporadic faults -----------------------------------------------------------------------------
    if (3 -in $Situation) {
        Write-Host "`n[3] sporadic faults, each faulted card failing once, $N cards, $Latency ms, throttle $Throttle" -ForegroundColor Cyan
        Clear-Config
        function New-FaultRules([object[]] $Spec) {
            # $Spec: @(kind, rate, seed, retryAfter). Contract: firstAttemptOnly + rate. Fallback: the
            # same share of the ids chosen here, each failing its first attempt.
            foreach ($s in $Spec) {
                $rule = [ordered]@{ kind = $s[0]; retryAfter = $s[3] }
                if ($Features.FirstAttemptOnly) {
                    $rule.rate = $s[1]; $rule.seed = $s[2]; $rule.firstAttemptOnly = $true
                } else {
                    $rng = [System.Random]::new($s[2])
                    $rule.cardIds = @($ids | Where-Object { $rng.NextDouble() -lt $s[1] })
                    $rule.firstAttempts = 1
                }
                $rule
            }
        }
        $mixSpec = @(@('500', 0.01, 11, $null), @('502', 0.01, 12, $null), @('503', 0.01, 13, $null), @('reset', 0.01, 14, $null), @('429', 0.01, 15, '1'))
        $variants = [ordered]@{
            'mix' = $mixSpec
            'mix without 429' = @($mixSpec | Where-Object { $_[0] -ne '429' })
            '429 only, 5 %' = @(, @('429', 0.05, 16, '1'))
        }
        $ideal = $N * $Latency / $Throttle + 1000
        $sit3 = [ordered]@{ IdealMs = $ideal; Selection = $(if ($Features.FirstAttemptOnly) { 'firstAttemptOnly + rate' } else { 'cardIds + firstAttempts 1 (fallback)' }) }
        $first = $true
        foreach ($v in $variants.Keys) {
            Write-Host "  $v"
            $rules = @(New-FaultRules $variants[$v])
            Set-Config @{ faults = $rules }
            $conn = New-Connection
            $c = @(); $nv = @()
            for ($rep = 1; $rep -le $Repeat; $rep++) {
                $c += Measure-CmdletRun "$v, run $rep" $ids $conn
                # The naive script on the two report-only variants: first repetition only (time).
                if ($first -or $rep -eq 1) { $nv += Measure-NaiveRun "$v, run $rep" $ids }
            }
            $cs = Get-Summary $c; $ns = Get-Summary $nv
            $sit3[$v] = [ordered]@{ Cmdlet = $cs; Naive = $ns; CmdletRuns = $c; NaiveRuns = $nv }
            if ($first) {
                Add-Row "3. 5 % faults once (500/502/503/reset/429), $N cards: cmdlet" (Format-Run $cs) '' $null
                Add-Row ('   cmdlet / ideal ({0:N0} ms)' -f $ideal) ('{0:N2} x' -f ($cs.Ms / $ideal)) '<= 1.25 x' ($cs.Ms -le 1.25 * $ideal)
                Add-Row '   lost (cmdlet, worst run)' ('{0}' -f $cs.LostMax) '0' ($cs.LostMax -eq 0)
                Add-Row '   naive ForEach-Object -Parallel' (Format-Run $ns)
                Add-Row '   naive / cmdlet (time)' ('{0:N2} x' -f ($ns.Ms / $cs.Ms))
                Add-Row '   cmdlet output: every card once, in order' $(if ($cs.OrderOk) { 'yes' } else { 'no' }) 'yes' $cs.OrderOk
                $first = $false
            } else {
                Add-Row "   $v`: cmdlet" ('{0} = {1:N2} x ideal' -f (Format-Run $cs), ($cs.Ms / $ideal))
                Add-Row "   $v`: naive (1 run)" ('{0} = {1:N2} x ideal' -f (Format-Run $ns), ($ns.Ms / $ideal))
            }
        }
        $results.Faults = $sit3
        Clear-Config
    }

    # ---- 4. a 3-second outage in the middle of a run ------------------------------------------------
    if (4 -in $Situation) {
        $expectedMs = $N4 * $Latency / $Throttle
        $startMs = [int](0.4 * $expectedMs); $durationMs = 3000
        $how = if ($Features.Outages) { 'outage window' } else { 'failAll 503 timed by this script (old emulator; Retry-After: 1)' }
        Write-Host "`n[4] 503 outage from $startMs ms for $durationMs ms ($how), $N4 cards, $Latency ms, throttle $Throttle" -ForegroundColor Cyan
        Clear-Config
        $ids4 = New-CardIds $N4
        $during = $null
        if (-not $Features.Outages) {
            $during = { Start-Sleep -Milliseconds $startMs; Set-Config @{ failAll = '503' }; Start-Sleep -Milliseconds $durationMs; Set-Config @{ failAll = $null } }
        }
        $armOutage = { if ($Features.Outages) { Set-Config @{ outages = @(@{ kind = '503'; startMs = $startMs; durationMs = $durationMs }) } } }
        $conn = New-Connection
        $c = @(); $nv = @()
        for ($rep = 1; $rep -le $Repeat; $rep++) {
            # The window counts from the POST: armed just before each run (after the stats reset).
            Reset-AhrvoEmulator $emu; & $armOutage
            $c += Measure-CmdletRun "run $rep" $ids4 $conn $RunBoundSec $during
            Clear-Config; Reset-AhrvoEmulator $emu; & $armOutage
            $nv += Measure-NaiveRun "run $rep" $ids4 $RunBoundSec $during
            Clear-Config
        }
        $cs = Get-Summary $c; $ns = Get-Summary $nv
        $results.Outage = [ordered]@{ StartMs = $startMs; DurationMs = $durationMs; How = $how; Cmdlet = $cs; Naive = $ns; CmdletRuns = $c; NaiveRuns = $nv }
        Add-Row "4. 3 s 503 outage at $startMs ms, $N4 cards: cmdlet" (Format-Run $cs)
        Add-Row '   lost (cmdlet, worst run)' ('{0}' -f $cs.LostMax) '0' ($cs.LostMax -eq 0)
        Add-Row '   naive ForEach-Object -Parallel' (Format-Run $ns)
        Add-Row '   naive / cmdlet (time)' ('{0:N2} x' -f ($ns.Ms / $cs.Ms))
        Add-Row '   cmdlet output: every card once, in order' $(if ($cs.OrderOk) { 'yes' } else { 'no' }) 'yes' $cs.OrderOk
    }

    # ---- 5, 6. down / hanging after a good run ----------------------------------------------------------
    $downSits = @(
        @{ No = 5; Kind = '503'; Variants = [ordered]@{ '-TimeoutSec 10' = @{ TimeoutSec = 10 } } }
        @{ No = 6; Kind = 'hang'; Variants = [ordered]@{ '-TimeoutSec 10' = @{ TimeoutSec = 10 }; '-TimeoutSec 10 -AttemptTimeoutSec 2' = @{ TimeoutSec = 10; AttemptTimeoutSec = 2 } } }
    ) | Where-Object { $_.No -in $Situation }
    foreach ($sit in $downSits) {
        $kindName = $sit.Kind
        if ($Features.Outages -and ($kindName -ne 'hang' -or $Features.Hang)) {
            $how = "outage window, kind $kindName, 60 s"
            $down = { Set-Config @{ outages = @(@{ kind = $kindName; startMs = 0; durationMs = 60000 }) } }
            $up = { Set-Config @{ outages = @() } }
        } elseif ($kindName -eq '503') {
            $how = 'failAll 503 (old emulator; Retry-After: 1)'
            $down = { Set-Config @{ failAll = '503' } }
            $up = { Set-Config @{ failAll = $null } }
        } else {
            $how = 'a 60 s "slow" fault on every request (old emulator)'
            $down = { Set-Config @{ faults = @(@{ kind = 'slow'; delayMs = 60000 }) } }
            $up = { Set-Config @{ faults = @() } }
        }
        $title = if ($kindName -eq 'hang') { 'hanging' } else { 'down (503)' }
        Write-Host "`n[$($sit.No)] $title after a good run ($how): $N5Good good, $N5Down during, $N5After after; bound $OutageBoundSec s" -ForegroundColor Cyan
        $idsGood = New-CardIds $N5Good; $idsDown = New-CardIds $N5Down; $idsAfter = New-CardIds $N5After
        $sitRes = [ordered]@{ How = $how }
        $firstVariant = $true
        foreach ($v in $sit.Variants.Keys) {
            Write-Host "  Connect-Ahrvo $v"
            $good = @(); $dn = @(); $after = @()
            for ($rep = 1; $rep -le $Repeat; $rep++) {
                Clear-Config
                $conn = New-Connection $sit.Variants[$v]   # one connection for the three runs
                $good += Measure-CmdletRun "good, run $rep" $idsGood $conn
                Reset-AhrvoEmulator $emu; & $down
                $dn += Measure-CmdletRun "$kindName, run $rep" $idsDown $conn $OutageBoundSec
                & $up
                $after += Measure-CmdletRun "after, run $rep" $idsAfter $conn
            }
            $gs = Get-Summary $good; $ds = Get-Summary $dn; $as = Get-Summary $after
            $sitRes[$v] = [ordered]@{ Good = $gs; Down = $ds; After = $as; GoodRuns = $good; DownRuns = $dn; AfterRuns = $after }
            $p = if ($firstVariant) { "$($sit.No). $title after a good run, $v" } else { "   $v" }
            Add-Row "$p`: good $N5Good" (Format-Run $gs) '0 lost' ($gs.LostMax -eq 0)
            Add-Row "   $kindName, $N5Down cards: time" ('{0:N1} s{1}' -f ($ds.Ms / 1000), $(if ($ds.TimedOut) { ' (stopped at bound)' } else { '' })) '<= 15 s' ($ds.Ms -le 15000 -and -not $ds.TimedOut)
            # A run stopped at the bound had not ended: its requests so far cannot pass the target.
            Add-Row "   $kindName, requests / cards" ('{0:N0} = {1:N0} %{2}' -f $ds.Requests, (100 * $ds.Requests / $N5Down), $(if ($ds.TimedOut) { ' by the bound' } else { '' })) ('<= 25 % ({0})' -f ($N5Down / 4)) ($ds.Requests -le $N5Down / 4 -and -not $ds.TimedOut)
            Add-Row "   then $N5After cards, service back" (Format-Run $as) '0 lost' ($as.LostMax -eq 0 -and -not $as.TimedOut)
            Add-Row '   cmdlet output: every card once, in order' $(if ($gs.OrderOk -and $as.OrderOk -and $ds.OrderOk) { 'yes' } else { 'no' }) 'yes' ($gs.OrderOk -and $as.OrderOk -and $ds.OrderOk)
            $firstVariant = $false
        }
        # The naive script once: its outage run always lasts until the bound.
        Write-Host '  naive ForEach-Object -Parallel (one repetition)'
        Clear-Config
        $ng = Measure-NaiveRun 'good' $idsGood
        Reset-AhrvoEmulator $emu; & $down
        $nd = Measure-NaiveRun $kindName $idsDown $OutageBoundSec
        & $up
        $na = Measure-NaiveRun 'after' $idsAfter
        $sitRes.Naive = [ordered]@{ Good = $ng; Down = $nd; After = $na }
        Add-Row "   naive: $kindName, $N5Down cards" ('{0:N1} s{1}, {2:N0} req = {3:N0} %, {4} lost' -f ($nd.Ms / 1000), $(if ($nd.TimedOut) { ' (stopped at bound)' } else { '' }), $nd.Requests, (100 * $nd.Requests / $N5Down), $nd.Lost)
        Add-Row "   naive: then $N5After cards" ('{0:N0} ms, {1} lost' -f $na.Ms, $na.Lost)
        $results["Down$($sit.No)"] = $sitRes
        Clear-Config
    }

    # ---- 7. issue 17's sweep: limits 5-50/s, random 429s, a 522 window -----------------------------
    if (7 -in $Situation) {
        Write-Host "`n[7] sweep: limits 5, 10, 20, 50/s (15 s of cards each), fixed and sliding windows, random 429s 5 %, a 3 s 522 window; $Latency ms, throttle $Throttle" -ForegroundColor Cyan
        $cells = @(
            foreach ($l in 5, 10, 20, 50) { @{ Name = "limit $l/s"; Limit = $l; Cards = 15 * $l; Config = @{ rateLimitPerSecond = $l } } }
            # A limiter that counts requests in seconds, as many gateways do (the emulator's
            # rateLimitWindow): once a second's count is spent it refuses everything until the next.
            if ($Features.Windows) {
                @{ Name = 'fixed window 100/s'; Limit = 100; Cards = 1500; Config = @{ rateLimitPerSecond = 100; rateLimitWindow = 'fixed' } }
                @{ Name = 'sliding window 50/s'; Limit = 50; Cards = 750; Config = @{ rateLimitPerSecond = 50; rateLimitWindow = 'sliding' } }
            }
            # 2,000 cards: the issue's own figure (ideal 2.5 s at 16 workers and 20 ms). Its scenario
            # answers 429 once to a share of the cards (targets 1.25 x at 5 %, 1.1 x at 1 %); the
            # third row draws on every attempt, so a card may be refused twice and wait two
            # Retry-Afters: shown beside the naive script, with no target of the issue's.
            @{ Name = 'random 429s once to 5 % of cards (Retry-After: 1)'; Limit = 0; Cards = 2 * $N; Bar = 1.25; Config = @{ faults = @(@{ kind = '429'; rate = 0.05; retryAfter = '1'; firstAttemptOnly = $true }) } }
            @{ Name = 'random 429s once to 1 % of cards (Retry-After: 1)'; Limit = 0; Cards = 2 * $N; Bar = 1.1; Config = @{ faults = @(@{ kind = '429'; rate = 0.01; retryAfter = '1'; firstAttemptOnly = $true }) } }
            @{ Name = 'random 429s on 5 % of every attempt (Retry-After: 1)'; Limit = 0; Cards = 2 * $N; Bar = 0; Config = @{ faults = @(@{ kind = '429'; rate = 0.05; retryAfter = '1' }) } }
            @{ Name = "522 for 3 s, from 0.5 s"; Limit = 0; Cards = $N; Config = $null; Outage = '522' }
        )
        $sweep = [ordered]@{}
        foreach ($cell in $cells) {
            $cids = New-CardIds $cell.Cards
            $during = if ($cell.ContainsKey('Outage')) { { Start-Sleep -Milliseconds 500; Set-Config @{ outages = @(@{ kind = '522'; startMs = 0; durationMs = 3000 }) } } } else { $null }
            $c = @(); $nv = @()
            for ($rep = 1; $rep -le $Repeat; $rep++) {
                foreach ($who in 'cmdlet', 'naive') {
                    Clear-Config
                    if ($cell.Config) { Set-Config $cell.Config }
                    if ($cell.Limit -gt 0) { Wait-BucketFull }
                    if ($who -eq 'cmdlet') { $c += Measure-CmdletRun "$($cell.Name), run $rep" $cids (New-Connection) $RunBoundSec $during }
                    else { $nv += Measure-NaiveRun "$($cell.Name), run $rep" $cids $RunBoundSec $during }
                }
            }
            $cs = Get-Summary $c; $ns = Get-Summary $nv
            $sweep[$cell.Name] = [ordered]@{ Cmdlet = $cs; Naive = $ns; CmdletRuns = $c; NaiveRuns = $nv }
            $ideal = $cell.Cards * $Latency / 1000.0 / $Throttle
            if ($cell.Limit -gt 0) {
                Add-Row "7. $($cell.Name), $($cell.Cards) cards: cmdlet" ('{0} ; {1:N1} % 429s' -f (Format-Run $cs $cell.Limit), (100 * $cs.Status429 / $cell.Cards)) '>= 0.90 x, <= 5 %, 0 lost' ($cs.PerSecond -ge 0.9 * $cell.Limit -and $cs.Status429 -le 0.05 * $cell.Cards -and $cs.LostMax -eq 0)
                if ($cs.Late429 -ge 0) {
                    Add-Row '   429s after the first 3 s (the search for the limit excluded)' ('{0:N0} = {1:N1} %' -f $cs.Late429, (100 * $cs.Late429 / $cell.Cards)) '<= 5 %' ($cs.Late429 -le 0.05 * $cell.Cards)
                }
            } elseif ($cell.ContainsKey('Outage')) {
                Add-Row "7. $($cell.Name), $($cell.Cards) cards: cmdlet" (Format-Run $cs) '0 lost' ($cs.LostMax -eq 0)
            } elseif ($cell.Bar -gt 0) {
                Add-Row "7. $($cell.Name), $($cell.Cards) cards: cmdlet" ('{0} = {1:N2} x (ideal + 1 s)' -f (Format-Run $cs), ($cs.Ms / 1000 / ($ideal + 1))) ('<= {0} x, 0 lost' -f $cell.Bar) ($cs.Ms / 1000 -le $cell.Bar * ($ideal + 1) -and $cs.LostMax -eq 0)
            } else {
                Add-Row "7. $($cell.Name), $($cell.Cards) cards: cmdlet" ('{0} = {1:N2} x (ideal + 1 s)' -f (Format-Run $cs), ($cs.Ms / 1000 / ($ideal + 1))) '0 lost' ($cs.LostMax -eq 0)
            }
            Add-Row '   naive, same run' ('{0} ; {1:N1} % 429s' -f (Format-Run $ns $cell.Limit), (100 * $ns.Status429 / $cell.Cards))
        }
        $results.Sweep17 = $sweep
        Clear-Config
    }

    # ---- 8. two processes sharing one account --------------------------------------------------------
    if (8 -in $Situation) {
        Write-Host "`n[8] two pwsh processes sharing one account, started together; $Latency ms, throttle $Throttle each" -ForegroundColor Cyan
        $shared = [ordered]@{}
        foreach ($l in 20, 100) {
            $each = 10 * $l
            $reps = @()
            for ($rep = 1; $rep -le $Repeat; $rep++) {
                Clear-Config
                Set-Config @{ rateLimitPerSecond = $l }
                Wait-BucketFull
                Reset-AhrvoEmulator $emu
                $pair = Invoke-SharedAccountPair $l $each
                $stats = Get-RunStats
                $end = ($pair | Measure-Object Ms -Maximum).Maximum
                $rec = [ordered]@{
                    Limit = $l; Cards = 2 * $each; Ms = $end; Together = 2 * $each / ($end / 1000) / $l
                    Balance = ($pair | Measure-Object Ms -Minimum).Minimum / $end
                    Requests = $stats.Requests; Status429 = $stats.Status429
                    Lost = ($pair | Measure-Object Lost -Sum).Sum + (2 - $pair.Count) * $each
                    OrderOk = -not ($pair | Where-Object { -not $_.OrderOk }) -and $pair.Count -eq 2
                    StartedLateMs = ($pair | Measure-Object StartedLateMs -Maximum).Maximum
                    Processes = $pair
                }
                Write-Host ("    limit {0}/s, run {1}: {2:N0} ms together ({3:N2} x the limit), the first done at {4:N2} of it, {5} requests, {6} 429s, {7} lost{8}" -f $l, $rep, $rec.Ms, $rec.Together, $rec.Balance, $rec.Requests, $rec.Status429, $rec.Lost, $(if ($rec.StartedLateMs -gt 0) { ", one process started $([int]$rec.StartedLateMs) ms late" } else { '' }))
                $reps += $rec
            }
            $med = [ordered]@{
                Ms = Get-Median ($reps | ForEach-Object Ms); Together = Get-Median ($reps | ForEach-Object Together)
                Balance = Get-Median ($reps | ForEach-Object Balance); Status429 = Get-Median ($reps | ForEach-Object Status429)
                LostMax = ($reps | ForEach-Object Lost | Measure-Object -Maximum).Maximum; OrderOk = -not ($reps | Where-Object { -not $_.OrderOk })
            }
            $shared["limit $l/s"] = [ordered]@{ Summary = $med; Runs = $reps }
            Add-Row "8. two processes sharing $l/s, $each cards each" ('{0:N0} ms, {1:N2} x the limit together, the first done at {2:N2} of the last; {3:N0} 429s = {4:N1} %, {5} lost' -f $med.Ms, $med.Together, $med.Balance, $med.Status429, (100 * $med.Status429 / (2 * $each)), $med.LostMax) '>= 0.90 x, 0 lost, in order' ($med.Together -ge 0.9 -and $med.LostMax -eq 0 -and $med.OrderOk)
        }
        $results.SharedAccount = $shared
        Clear-Config
    }
}
finally {
    Stop-AhrvoEmulator $emu
    Remove-Item Env:AHRVO_API_KEY, Env:AHRVO_ACCESS_TOKEN -ErrorAction SilentlyContinue
}

# ---- table -------------------------------------------------------------------------------------------
$loadAfter = Get-LoadAverage
$elapsed = [DateTime]::UtcNow - $started
Write-Host ("`nUnder pressure: medians of $Repeat runs (lost: the worst run); $N cards unless said, $Latency ms latency, throttle $Throttle; {0:N0} s in all; load average before $loadBefore, after $loadAfter ($([Environment]::ProcessorCount) cores, shared)." -f $elapsed.TotalSeconds) -ForegroundColor Cyan
$rows | Format-Table -AutoSize -Wrap | Out-String -Width 220 | Write-Host
$miss = @($rows | Where-Object Result -eq 'MISS').Count
Write-Host "$(@($rows | Where-Object Result -eq 'PASS').Count) PASS, $miss MISS"

$results.Repeat = $Repeat
$results.Module = $ModulePath
$results.LoadBefore = $loadBefore
$results.LoadAfter = $loadAfter
$results.Seconds = $elapsed.TotalSeconds
$results.Table = $rows
New-Item -ItemType Directory -Force (Split-Path -Parent $OutFile) | Out-Null
$results | ConvertTo-Json -Depth 8 | Set-Content -LiteralPath $OutFile
Write-Host "Results: $OutFile"
