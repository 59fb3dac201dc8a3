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

    Exit codes (for the scheduler's alerting):
      0  every card was read
      1  the pass ran, but some cards could not be read (each is named on standard error)
      2  the pass could not run: no module, no credentials, no card list, a refused token, a
         state file that cannot be used
.PARAMETER CardPath
    The cards: a CSV file with a card_id column, or a text file with one card id per line.
.PARAMETER StatePath
    The alert state file, kept between runs (created on the first run).
.PARAMETER MetricsPath
    The Prometheus textfile to write (for example in node_exporter's --collector.textfile.directory).
    Leave it out to write no metrics.
.PARAMETER AlertAction
    Called once per alert with the BalanceAlert ($args[0]): send a mail, post to a chat webhook,
    open a ticket. An alert whose action fails is reported on standard error and counts as a
    failure (exit code 1).
.PARAMETER RepeatAfter
    Reminds of a card still below Normal after this long (default: never).
.EXAMPLE
    # crontab -e: every 5 minutes, secrets from a file only the job's user can read.
    # */5 * * * * . /etc/ahrvo/env && pwsh -NoProfile -File /opt/ahrvo/Invoke-AhrvoScheduledCheck.ps1 -CardPath /etc/ahrvo/cards.csv -StatePath /var/lib/ahrvo/state.json -MetricsPath /var/lib/node_exporter/textfile/ahrvo.prom >> /var/log/ahrvo-check.log 2>&1
.EXAMPLE
    # Post each alert to a chat webhook kept in the environment.
    ./Invoke-AhrvoScheduledCheck.ps1 -CardPath cards.csv -StatePath state.json -AlertAction {
        param($alert)
        $text = '{0}: {1} {2} ({3}){4}' -f $alert.CardId, $alert.AvailableBalance.ToString([cultureinfo]::InvariantCulture), $alert.Currency, $alert.Level, $(if ($alert.IsRepeat) { ', still' } else { '' })
        Invoke-RestMethod -Method Post -Uri $env:ALERT_WEBHOOK_URL -ContentType 'application/json' -Body (@{ text = $text } | ConvertTo-Json)
    }
.NOTES
    How to schedule it (cron, systemd timer, Task Scheduler): examples/README.md.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $CardPath,
    [Parameter(Mandatory)] [string] $StatePath,
    [string] $MetricsPath,
    [scriptblock] $AlertAction = { param($alert) Write-Output ('ALERT {0} {1} {2} {3}{4}' -f $alert.CardId, $alert.Level, $alert.AvailableBalance.ToString([cultureinfo]::InvariantCulture), $alert.Currency, $(if ($alert.IsRepeat) { ' (repeat)' } else { '' })) },
    [TimeSpan] $RepeatAfter,
    [decimal] $Critical = 50,
    [decimal] $Warning = 100,
    [decimal] $Low = 250
)

$ErrorActionPreference = 'Stop'
$CouldNotRun = 2

# ---- set-up: any failure here means the pass cannot run at all (exit 2) --------------------------
try {
    if ($env:AHRVO_MODULE_PATH) { Import-Module $env:AHRVO_MODULE_PATH } else { Import-Module Ahrvo.PowerShell }
    $connect = @{}
    if ($env:AHRVO_BASE_URI) { $connect.BaseUri = $env:AHRVO_BASE_URI }
    elseif ($env:AHRVO_ENVIRONMENT) { $connect.Environment = $env:AHRVO_ENVIRONMENT }
    Connect-Ahrvo @connect    # AHRVO_API_KEY and AHRVO_ACCESS_TOKEN from the environment

    $cards = if ([IO.Path]::GetExtension($CardPath) -eq '.csv') {
        @(Import-Csv -LiteralPath $CardPath | ForEach-Object { $_.card_id })
    } else {
        @(Get-Content -LiteralPath $CardPath | ForEach-Object { $_.Trim() })
    }
    $cards = @($cards | Where-Object { $_ })
    if ($cards.Count -eq 0) { throw "No card ids in '$CardPath'." }
} catch {
    [Console]::Error.WriteLine("Could not run: $($_.Exception.Message)")
    exit $CouldNotRun
}

# ---- the pass: per-card failures are collected, not fatal ------------------------------------------
$failures = [System.Collections.Generic.List[string]]::new()
$watch = @{ CardId = $cards; Once = $true; StatePath = $StatePath; Critical = $Critical; Warning = $Warning; Low = $Low }
if ($PSBoundParameters.ContainsKey('RepeatAfter')) { $watch.RepeatAfter = $RepeatAfter }
try {
    $alerts = @(Watch-AhrvoCardBalance @watch -ErrorAction SilentlyContinue -ErrorVariable cardErrors)
} catch {
    # A terminating error concerns every card: a refused token, a state file in use or broken.
    [Console]::Error.WriteLine("Could not run: $($_.Exception.Message)")
    exit $CouldNotRun
}
foreach ($e in $cardErrors) { $failures.Add("$($e.TargetObject): $($e.Exception.Message)") }

foreach ($alert in $alerts) {
    try { & $AlertAction $alert }
    catch { $failures.Add("$($alert.CardId): the alert could not be sent: $($_.Exception.Message)") }
}

if ($MetricsPath) {
    try {
        Export-AhrvoBalanceMetric -CardId $cards -Path $MetricsPath -Critical $Critical -Warning $Warning -Low $Low -ErrorAction SilentlyContinue -ErrorVariable metricErrors
        # The cards' own errors were counted above; here only a failure to write the file is new.
        foreach ($e in @($metricErrors | Where-Object { -not $_.TargetObject -or $_.TargetObject -notin $cards })) { $failures.Add("metrics: $($e.Exception.Message)") }
    } catch {
        $failures.Add("metrics: $($_.Exception.Message)")
    }
}

foreach ($f in $failures) { [Console]::Error.WriteLine($f) }
if ($failures.Count -gt 0) { exit 1 }
exit 0
