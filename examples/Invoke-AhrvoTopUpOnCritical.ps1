#requires -Version 5.1
<#
.SYNOPSIS
    A scheduled threshold check whose Critical alerts top the card up, with Invoke-AhrvoRequest
    -Method POST. Runs as -WhatIf until you give -WhatIf:$false.
.DESCRIPTION
    1. Connects from environment variables: AHRVO_API_KEY and AHRVO_ACCESS_TOKEN (required), and
       AHRVO_BASE_URI or AHRVO_ENVIRONMENT (Production, the default, or Staging).
    2. Runs one Watch-AhrvoCardBalance -Once pass with the vendor's thresholds (critical 50,
       warning 100, low 250) and a state file, so only changes since the last run alert: a card
       that stays Critical is topped up once, not at every run. Under -WhatIf the pass runs on a
       copy of the state file, so a dry run leaves the alerts for the real one.
    3. For each Critical alert (the vendor's AUTO_TOPUP action), sends one top-up for the card:
       POST -TopUpPath with the body -TopUpBody makes, enough to bring it to -TopUpTo.

    -WHATIF IS ON BY DEFAULT: the script shows each top-up it would send and sends none. Run it
    with -WhatIf:$false once the path and the body are right.

    THE PATH AND THE BODY ARE YOURS TO SET: the balance document names the top-up endpoint
    ("Top-up Dedicated Funds Card") but not its path or fields. Take both from the vendor's top-up
    document and shape -TopUpBody after it; the default body (card_id, amount) is a placeholder.

    A top-up is a write: Invoke-AhrvoRequest never sends it twice when it may have been applied
    (a timeout, a connection lost after sending, a 5xx); such a top-up (Ahrvo.MayHaveBeenApplied)
    is reported on standard error: check the card's balance and funding orders before sending it
    again. With -UseIdempotencyKey each top-up carries an Idempotency-Key made of the card, the
    amount and the day, and the module may then retry it; give it only if the vendor's top-up
    document says the API honours that header (the balance document does not say).

    Exit codes: 0 every card read and every top-up sent (or shown, under -WhatIf); 1 the check
    could not run; 2 some cards could not be read; 3 a top-up failed or its fate is unknown (its
    alert is sent again by the next run). 3 takes precedence over 2.
.PARAMETER CardPath
    The cards: a CSV file with a card id column the module takes (card_id, CardId, Id, ...), or a
    text file with one card id per line.
.PARAMETER StatePath
    The alert state file, kept between runs.
.PARAMETER TopUpPath
    The top-up endpoint's path, from the vendor's top-up document.
.PARAMETER TopUpTo
    The balance a Critical card is topped up to (default 250, the vendor's Low threshold).
.PARAMETER UseIdempotencyKey
    Sends an Idempotency-Key (card, amount, day) with each top-up, which lets the module retry it.
    Only for an API that honours the header.
.PARAMETER TopUpBody
    Makes the request body from the alert ($args[0]) and the amount ($args[1], a decimal). Shape it
    from the vendor's top-up document.
.EXAMPLE
    # See what would be sent (the default: -WhatIf).
    ./Invoke-AhrvoTopUpOnCritical.ps1 -CardPath cards.csv -StatePath state.json -TopUpPath /card/issuance/api/<top-up path from the vendor's document>
.EXAMPLE
    # Send the top-ups.
    ./Invoke-AhrvoTopUpOnCritical.ps1 -CardPath cards.csv -StatePath state.json -TopUpPath /card/issuance/api/<top-up path> -WhatIf:$false
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $CardPath,
    [Parameter(Mandatory)] [string] $StatePath,
    [Parameter(Mandatory)] [string] $TopUpPath,
    [decimal] $TopUpTo = 250,
    [decimal] $Critical = 50,
    [decimal] $Warning = 100,
    [decimal] $Low = 250,
    [switch] $UseIdempotencyKey,
    [scriptblock] $TopUpBody = {
        param($alert, [decimal] $amount)
        # A placeholder: take the field names (and any other required field) from the vendor's top-up document.
        [ordered]@{ card_id = $alert.CardId; amount = $amount.ToString('0.00', [cultureinfo]::InvariantCulture); currency = $alert.Currency }
    }
)

# -WhatIf unless the caller said otherwise: a first run shows what it would send.
if (-not $PSBoundParameters.ContainsKey('WhatIf')) { $WhatIfPreference = $true }
$ErrorActionPreference = 'Stop'

try {
    $module = if ($env:AHRVO_MODULE_PATH) { $env:AHRVO_MODULE_PATH } else {
        $built = Join-Path (Split-Path -Parent $PSScriptRoot) 'out/Ahrvo.PowerShell'
        $psd1 = if (Test-Path -LiteralPath $built) {
            Get-ChildItem -LiteralPath $built -Directory | Where-Object { $_.Name -as [version] } |
                Sort-Object { [version] $_.Name } -Descending |
                ForEach-Object { Join-Path $_.FullName 'Ahrvo.PowerShell.psd1' } | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
        }
        if ($psd1) { $psd1 } else { 'Ahrvo.PowerShell' }
    }
    Import-Module $module
    $connect = @{}
    if ($env:AHRVO_BASE_URI) { $connect.BaseUri = $env:AHRVO_BASE_URI }
    elseif ($env:AHRVO_ENVIRONMENT) { $connect.Environment = $env:AHRVO_ENVIRONMENT }
    Connect-Ahrvo @connect | Out-Null
    $cards = if ([IO.Path]::GetExtension($CardPath) -eq '.csv') { @(Import-Csv -LiteralPath $CardPath) }
             else { @(Get-Content -LiteralPath $CardPath | ForEach-Object { $_.Trim() } | Where-Object { $_ -and -not $_.StartsWith('#') }) }
    if ($cards.Count -eq 0) { throw "no cards in '$CardPath'." }
} catch {
    [Console]::Error.WriteLine("Could not run: $($_.Exception.Message)")
    exit 1
}

# Under -WhatIf the pass runs on a copy of the state, so that a dry run does not use up the
# alerts the real run must act on.
$watchState = $StatePath
if ($WhatIfPreference) {
    $dryRun = Join-Path ([IO.Path]::GetTempPath()) ('ahrvo-topup-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $dryRun -WhatIf:$false | Out-Null
    $watchState = Join-Path $dryRun 'state.json'
    if (Test-Path -LiteralPath $StatePath) { Copy-Item -LiteralPath $StatePath -Destination $watchState -WhatIf:$false }
}

$topUpFailed = $false
try {
    # The alert is recorded as delivered once this ForEach-Object returns for it: a top-up that
    # throws leaves its alert (and the later ones) to the next run.
    $cards | Watch-AhrvoCardBalance -Once -StatePath $watchState -Critical $Critical -Warning $Warning -Low $Low -ErrorAction SilentlyContinue -ErrorVariable cardErrors |
        Where-Object { $_.Level -eq 'Critical' } | ForEach-Object {
            $alert = $_
            $amount = $TopUpTo - $alert.AvailableBalance
            if ($amount -le 0) { return }
            $request = @{ Method = 'POST'; Path = $TopUpPath; Body = (& $TopUpBody $alert $amount) }
            if ($UseIdempotencyKey) { $request.IdempotencyKey = 'topup-{0}-{1}-{2}' -f $alert.CardId, $amount.ToString('0.00', [cultureinfo]::InvariantCulture), [DateTime]::UtcNow.ToString('yyyyMMdd') }
            $answer = Invoke-AhrvoRequest @request -Confirm:$false -ErrorAction Stop
            if (-not $WhatIfPreference) { 'TOPUP {0} {1} {2} ({3})' -f $alert.CardId, $amount.ToString('0.00', [cultureinfo]::InvariantCulture), $alert.Currency, $answer.code }
        }
} catch {
    $topUpFailed = $true
    $why = if ($_.FullyQualifiedErrorId -like 'Ahrvo.MayHaveBeenApplied*') { 'may have been applied: check the card''s balance and funding orders before sending it again' } else { $_.Exception.Message }
    [Console]::Error.WriteLine("Top-up for $($alert.CardId): $why")
}
if ($dryRun) { Remove-Item -LiteralPath $dryRun -Recurse -Force -WhatIf:$false -ErrorAction SilentlyContinue }
foreach ($e in $cardErrors) { [Console]::Error.WriteLine("$($e.TargetObject): $($e.Exception.Message)") }
if ($topUpFailed) { exit 3 }
if ($cardErrors) { exit 2 }
exit 0
