<#
.SYNOPSIS
    The demo: connect to the local emulator, show the sample cards' balances, the low ones, and write a CSV.
    build.ps1 Demo starts the emulator and runs this in a fresh pwsh.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [uri] $BaseUri,
    [Parameter(Mandatory)] [string] $ApiKey,
    [Parameter(Mandatory)] [string] $AccessToken,
    [string] $OutFile = './demo-balances.csv'
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

Write-Host "`n> Connect-Ahrvo -BaseUri $BaseUri -ApiKey (…) -AccessToken (…)" -ForegroundColor Yellow
Connect-Ahrvo -BaseUri $BaseUri -ApiKey (ConvertTo-SecureString $ApiKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $AccessToken -AsPlainText -Force)
Get-AhrvoConnection | Format-List Environment, BaseUri, ConnectedAt, MaxRetries, Timeout | Out-Host

# The emulator lists its sample cards; an ops script would read its own list (Import-Csv cards.csv).
$all = Invoke-RestMethod ([uri]::new($BaseUri, '_emulator/cards'))
$cards = @($all | Where-Object type -eq 'Dedicated').id

Write-Host "> `$cards | Get-AhrvoCardBalance | Sort-Object AvailableBalance" -ForegroundColor Yellow
$balances = $cards | Get-AhrvoCardBalance
$balances | Sort-Object AvailableBalance | Format-Table | Out-Host

Write-Host "> `$balances | Where-Object AvailableBalance -lt 100" -ForegroundColor Yellow
$balances | Where-Object AvailableBalance -lt 100 | Format-Table | Out-Host

Write-Host "> Test-AhrvoCardBalance -CardId $($cards[0]) -Amount 500 -Detailed" -ForegroundColor Yellow
Test-AhrvoCardBalance -CardId $cards[0] -Amount 500 -Detailed | Format-Table | Out-Host

Write-Host "> Get-AhrvoCardBalance -CardId card000000000000000000 (an unknown card: a clear error, the rest goes on)" -ForegroundColor Yellow
Get-AhrvoCardBalance -CardId card000000000000000000, $cards[0] -ErrorAction Continue | Format-Table | Out-Host

Write-Host "> `$balances | Export-Csv $OutFile" -ForegroundColor Yellow
$balances | Export-Csv -Path $OutFile -NoTypeInformation
Get-Content $OutFile | Select-Object -First 4 | Out-Host
Write-Host "Wrote $($balances.Count) balances to $OutFile" -ForegroundColor Green
Disconnect-Ahrvo
