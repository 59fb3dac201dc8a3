#requires -Version 5.1
<#
.SYNOPSIS
    One scheduled pass over the Dedicated Funds cards: alert on what changed since the last run,
    and write the balances for a dashboard. For cron, systemd timers, Task Scheduler, Azure
    Automation or a CI schedule.
.DESCRIPTION
    1. Connects from environment variables: AHRVO_API_KEY and AHRVO_ACCESS_TOKEN (required), and
       AHRVO_BASE_URI or AHRVO_ENVIRONMENT (Production, the default, or Staging).
    2. Runs one Watch-AhrvoCardBalance -Once pass with the vendor's thresholds (critical 50,
       warning 100, low 250) and a state file, so that only changes since the previous run alert
       (and, with -RepeatAfter, cards still low after that long are reminded).
    3. Sends each alert through -AlertAction (a script block given the BalanceAlert), by default a
       line on standard output.
    4. Writes the balances, read-OK flags, levels and request counters to a Prometheus textfile
       (-MetricsPath) for node_exporter / windows_exporter.
    Secrets stay in the environment: nothing here prints or stores them. The state and metrics
    files hold balances and are created readable by their owner only. Each card is read twice a
    run (once for the alerts, once for the metrics); leave -MetricsPath out to read it once.

    Exit codes (for the scheduler's alerting), each with its reasons on standard error:
      0  every card was read and every alert delivered
      1  the check could not run: a missing or mistyped parameter, no module, no credentials, no
         card list, a refused token, a state file that cannot be used (pwsh's own exit code for a
         script that fails to start is 1 too, so every "could not run" ends the same way)
      2  the pass ran, but some cards could not be read
      3  an alert could not be delivered (-AlertAction failed); it is sent again by the next run.
         Takes precedence over 2.

    The module: AHRVO_MODULE_PATH when set (a .psd1), else the build of the clone this script is
    in (out/Ahrvo.PowerShell/<version>/, made by `dotnet pwsh ./build.ps1 Build`), else the
    installed Ahrvo.PowerShell.
.PARAMETER CardPath
    The cards: a CSV file whose rows go to Watch-AhrvoCardBalance as they are, so it takes the
    columns the module takes (card_id, CardId, Id, ...), or a text file with one card id per line
    (blank lines and lines starting with # are skipped).
.PARAMETER StatePath
    The alert state file, kept between runs (created on the first run).
.PARAMETER MetricsPath
    The Prometheus textfile to write (for example in node_exporter's --collector.textfile.directory).
    Leave it out to write no metrics.
.PARAMETER AlertAction
    Called once per alert with the BalanceAlert ($args[0]): post to a chat webhook, open a ticket.
    It runs with $ErrorActionPreference = 'Stop', so any error in it is a failed delivery: the run
    stops delivering there, exits 3, and the state file keeps that alert and the ones after it as
    not delivered, so the next run sends them again (at least once; a receiver may see one twice).
.PARAMETER RepeatAfter
    Reminds of a card still below Normal after this long (default: never).
.EXAMPLE
    # crontab -e: every 5 minutes, secrets from a file only the job's user can read.
    # */5 * * * * . /etc/ahrvo/env && pwsh -NoProfile -File /opt/ahrvo/Invoke-AhrvoScheduledCheck.ps1 -CardPath /etc/ahrvo/cards.csv -StatePath /var/lib/ahrvo/state.json -MetricsPath /var/lib/node_exporter/textfile/ahrvo.prom >> /var/log/ahrvo-check.log 2>&1
.EXAMPLE
    # Post each alert to a chat webhook kept in the environment.
    ./Invoke-AhrvoScheduledCheck.ps1 -CardPath cards.csv -StatePath state.json -AlertAction {
        param($alert)
        $was = if ($alert.IsRepeat) { 'still' } elseif ($null -ne $alert.PreviousLevel) { "was $($alert.PreviousLevel)" } else { 'first seen' }
        $text = '{0}: {1} {2} ({3}, {4})' -f $alert.CardId, $alert.AvailableBalance.ToString([cultureinfo]::InvariantCulture), $alert.Currency, $alert.Level, $was
        Invoke-RestMethod -Method Post -Uri $env:ALERT_WEBHOOK_URL -ContentType 'application/json' -Body (@{ text = $text } | ConvertTo-Json)
    }
.NOTES
    How to schedule it (cron, systemd timer, Task Scheduler): examples/README.md.
#>
[CmdletBinding()]
param(
    [string] $CardPath,
    [string] $StatePath,
    [string] $MetricsPath,
    [scriptblock] $AlertAction = {
        param($alert)
        $was = if ($alert.IsRepeat) { "still $($alert.Level), repeat" } elseif ($null -ne $alert.PreviousLevel) { "was $($alert.PreviousLevel)" } else { 'first seen' }
        Write-Output ('ALERT {0} {1} {2} {3} ({4})' -f $alert.CardId, $alert.Level, $alert.AvailableBalance.ToString([cultureinfo]::InvariantCulture), $alert.Currency, $was)
    },
    [TimeSpan] $RepeatAfter,
    [decimal] $Critical = 50,
    [decimal] $Warning = 100,
    [decimal] $Low = 250,
    # Catches a mistyped parameter name, so that it is reported as "could not run" (exit 1) in words.
    [Parameter(ValueFromRemainingArguments)] [object[]] $Unexpected
)

$ErrorActionPreference = 'Stop'
$CouldNotRun = 1
$CardsUnread = 2
$AlertNotDelivered = 3

function Stop-Check([string] $Why) {
    [Console]::Error.WriteLine("Could not run: $Why")
    exit $CouldNotRun
}

# ---- set-up: any failure here means the pass cannot run at all -------------------------------------
try {
    if ($Unexpected) { throw "unexpected argument(s) $($Unexpected -join ' '). The parameters are -CardPath, -StatePath, -MetricsPath, -AlertAction, -RepeatAfter, -Critical, -Warning, -Low." }
    if (-not $CardPath -or -not $StatePath) { throw 'give -CardPath (the cards) and -StatePath (the alert state file).' }

    $module = if ($env:AHRVO_MODULE_PATH) { $env:AHRVO_MODULE_PATH } else {
        # The build of the clone this script is in, newest version first; else the installed module.
        $built = Join-Path (Split-Path -Parent $PSScriptRoot) 'out/Ahrvo.PowerShell'
        $psd1 = if (Test-Path -LiteralPath $built) {
            Get-ChildItem -LiteralPath $built -Directory | Where-Object { $_.Name -as [version] } |
                Sort-Object { [version] $_.Name } -Descending |
                ForEach-Object { Join-Path $_.FullName 'Ahrvo.PowerShell.psd1' } | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
        }
        if ($psd1) { $psd1 }
        elseif (Get-Module -ListAvailable -Name Ahrvo.PowerShell) { 'Ahrvo.PowerShell' }
        else { throw "the Ahrvo.PowerShell module is not installed, and there is no build at '$built'. In a clone, run 'dotnet pwsh ./build.ps1 Build' at its root first; elsewhere install the module, or set AHRVO_MODULE_PATH to its .psd1." }
    }
    Import-Module $module

    $connect = @{}
    if ($env:AHRVO_BASE_URI) { $connect.BaseUri = $env:AHRVO_BASE_URI }
    elseif ($env:AHRVO_ENVIRONMENT) { $connect.Environment = $env:AHRVO_ENVIRONMENT }
    Connect-Ahrvo @connect | Out-Null    # AHRVO_API_KEY and AHRVO_ACCESS_TOKEN from the environment

    # CSV rows go to the cmdlets as they are: the module binds the card id column (and refuses a
    # row without one), so this script reads exactly the columns the module does.
    $cards = if ([IO.Path]::GetExtension($CardPath) -eq '.csv') {
        @(Import-Csv -LiteralPath $CardPath)
    } else {
        @(Get-Content -LiteralPath $CardPath | ForEach-Object { $_.Trim() } | Where-Object { $_ -and -not $_.StartsWith('#') })
    }
    if ($cards.Count -eq 0) { throw "no cards in '$CardPath'." }
} catch {
    Stop-Check $_.Exception.Message
}

# ---- the pass: per-card failures are collected, not fatal; delivery stops at its first failure -----
$failures = [System.Collections.Generic.List[string]]::new()
$notDelivered = $null
$watch = @{ Once = $true; StatePath = $StatePath; Critical = $Critical; Warning = $Warning; Low = $Low }
if ($PSBoundParameters.ContainsKey('RepeatAfter')) { $watch.RepeatAfter = $RepeatAfter }
try {
    # Each alert is delivered inside the pipeline: Watch-AhrvoCardBalance records an alert as
    # delivered only once this ForEach-Object has returned for it. A throw here stops the pass and
    # leaves this alert and the later ones to the next run.
    $cards | Watch-AhrvoCardBalance @watch -ErrorAction SilentlyContinue -ErrorVariable cardErrors | ForEach-Object {
        $alert = $_
        try { & $AlertAction $alert }
        catch { $script:notDelivered = "$($alert.CardId): the alert could not be delivered ($($_.Exception.Message)); it is sent again by the next run."; throw }
    }
} catch {
    if (-not $notDelivered) {
        # A terminating error of the watch concerns every card: a refused token, a state file in use or broken.
        Stop-Check $_.Exception.Message
    }
}
foreach ($e in $cardErrors) { $failures.Add("$($e.TargetObject): $($e.Exception.Message)") }

if ($MetricsPath) {
    try {
        # 2>&1: the cards that fail are counted as failed in the file (and were reported above).
        $cards | Get-AhrvoCardBalance -ErrorAction Continue 2>&1 |
            Export-AhrvoBalanceMetric -Path $MetricsPath -Critical $Critical -Warning $Warning -Low $Low -ErrorAction SilentlyContinue
    } catch {
        $failures.Add("metrics: $($_.Exception.Message)")
    }
}

foreach ($f in $failures) { [Console]::Error.WriteLine($f) }
if ($notDelivered) {
    [Console]::Error.WriteLine($notDelivered)
    exit $AlertNotDelivered
}
if ($failures.Count -gt 0) { exit $CardsUnread }
exit 0
