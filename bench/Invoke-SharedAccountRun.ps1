#Requires -Version 7.2
<#
.SYNOPSIS
    One of the processes of the pressure bench's situation 8 (two processes sharing one account):
    reads the balances of its share of the bench's cards with Get-AhrvoCardBalance, from a start time
    both processes agree on, and prints one line of JSON with what it got.
.DESCRIPTION
    Started by bench/Invoke-PressureBenchmarks.ps1 as a separate pwsh process, as a user's second
    script on the same account would be. The credentials come from AHRVO_API_KEY and
    AHRVO_ACCESS_TOKEN (inherited). The card ids are the bench's own (every card of the emulator's
    generated list but each 50th), positions Start to Start + Count - 1; the output holds counts only,
    no card id and no balance.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $BaseUri,
    [Parameter(Mandatory)] [int] $Start,
    [Parameter(Mandatory)] [int] $Count,
    # When to begin, as UTC ticks: both processes start their runs together, whatever their startup took.
    [Parameter(Mandatory)] [long] $StartAtTicks,
    [int] $Throttle = 16
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath

$ids = [System.Collections.Generic.List[string]]::new($Count)
$position = 0
for ($i = 0; $ids.Count -lt $Count; $i++) {
    if (($i + 1) % 50 -eq 0) { continue }
    if ($position++ -ge $Start) { $ids.Add('card2019{0:D14}' -f $i) }
}

$connection = Connect-Ahrvo -BaseUri $BaseUri -PassThru
$late = ([DateTime]::UtcNow.Ticks - $StartAtTicks) / 10000.0
while ([DateTime]::UtcNow.Ticks -lt $StartAtTicks) { Start-Sleep -Milliseconds 5 }
$sw = [System.Diagnostics.Stopwatch]::StartNew()
$cardErrors = [System.Collections.ArrayList]::new()
$results = @($ids | Get-AhrvoCardBalance -ThrottleLimit $Throttle -Connection $connection -ErrorAction SilentlyContinue -ErrorVariable +cardErrors)
$sw.Stop()

# Every card once, in input order, each a balance or an error.
$index = @{}; for ($i = 0; $i -lt $ids.Count; $i++) { $index[$ids[$i]] = $i }
$last = -1; $orderOk = $true; $seen = @{}
foreach ($r in $results) {
    $id = [string]$r.CardId
    if (-not $index.ContainsKey($id) -or $seen.ContainsKey($id) -or $index[$id] -le $last) { $orderOk = $false }
    $seen[$id] = $true
    if ($index.ContainsKey($id)) { $last = $index[$id] }
}
[ordered]@{
    Ms = $sw.Elapsed.TotalMilliseconds
    StartedLateMs = [Math]::Max(0, $late)
    Cards = $ids.Count
    Balances = $results.Count
    Errors = $cardErrors.Count
    Lost = $ids.Count - $results.Count - $cardErrors.Count
    OrderOk = $orderOk
    Throttled = $connection.ThrottledResponses
} | ConvertTo-Json -Compress
