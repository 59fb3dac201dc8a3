<#
.SYNOPSIS
    Runs the Pester suite in this (fresh) pwsh and writes its counts and failed test names as JSON.
.NOTES
    build.ps1 starts it with `dotnet pwsh -File`, so the module is imported as a user would and
    nothing leaks into the build session.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $TestPath,
    [Parameter(Mandatory)] [string] $ResultPath,
    # Test full names with wildcards, separated by commas.
    [string] $Filter
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -MinimumVersion 6.2.0
$c = New-PesterConfiguration
$c.Run.Path = $TestPath
$c.Run.PassThru = $true
$c.Output.Verbosity = 'Detailed'
if ($Filter) { $c.Filter.FullName = @($Filter -split ',') }
$r = Invoke-Pester -Configuration $c

# The first lines of each failure, so a CI log that keeps only its tail still says what failed.
function Get-FirstLines($errorRecord) {
    (("$(@($errorRecord)[0])" -split '\r?\n') | Select-Object -First 3) -join "`n      "
}
$names = @(
    foreach ($t in $r.Failed) { "Pester: $($t.ExpandedPath)`n      $(Get-FirstLines $t.ErrorRecord)" }
    foreach ($b in @($r.FailedBlocks) + @($r.FailedContainers)) { if ($b) { "Pester: $($b.Name) (block or file)`n      $(Get-FirstLines $b.ErrorRecord)" } }
)
[pscustomobject]@{
    Passed      = $r.PassedCount
    Failed      = $r.FailedCount + $r.FailedBlocksCount + $r.FailedContainersCount
    Skipped     = $r.SkippedCount
    FailedNames = $names
} | ConvertTo-Json | Set-Content $ResultPath
