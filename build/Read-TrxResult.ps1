<#
.SYNOPSIS
    The counts of one xunit project's TRX file and the failed tests by name, for build.ps1 Test's summary.
.NOTES
    Skipped tests are counted from the results, not from the summary's counters: the TRX logger
    writes a skipped test as a result whose outcome is NotExecuted but leaves notExecuted="0" in
    <Counters> (it only lowers "executed"), so the counters alone would lose every skip.
#>
param(
    [Parameter(Mandatory)] [string] $Path,
    # Prefixes each failed test's name (the project's name).
    [string] $Project = ''
)
$ErrorActionPreference = 'Stop'
[xml] $x = Get-Content $Path -Raw
$c = $x.TestRun.ResultSummary.Counters
$results = @($x.TestRun.Results.UnitTestResult | Where-Object { $_ })
$failedNames = foreach ($r in @($results | Where-Object { $_.outcome -notin 'Passed', 'NotExecuted' })) {
    $message = ("$($r.Output.ErrorInfo.Message)".Trim() -split '\r?\n' | Select-Object -First 3) -join "`n      "
    "$($Project): $($r.testName) [$($r.outcome) after $($r.duration)]`n      $message"
}
[pscustomobject]@{
    Passed      = [int]$c.passed
    Failed      = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
    # A test skipped in every case has one NotExecuted result; the counters' own field is added for a logger that fills it.
    Skipped     = [Math]::Max(@($results | Where-Object { $_.outcome -eq 'NotExecuted' }).Count, [int]$c.notExecuted)
    # FailedCount: what the project's own failure count was, to tell "dotnet test failed with no failed test".
    FailedCount = [int]$c.failed + [int]$c.error
    FailedNames = @($failedNames)
}
