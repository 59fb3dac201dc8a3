# build.ps1 Test's summary line counts what xunit skipped: the TRX logger leaves skipped tests out
# of <Counters> (notExecuted stays 0), so they are counted from the results (build/Read-TrxResult.ps1).

BeforeAll {
    $script:reader = Join-Path $PSScriptRoot '../../build/Read-TrxResult.ps1'
    # As the TRX logger (Microsoft.NET.Test.Sdk 17.14) writes a run of two passed, one failed and two skipped tests.
    $script:trx = @'
<?xml version="1.0" encoding="utf-8"?>
<TestRun id="1" name="run" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <Results>
    <UnitTestResult testName="T.Passes1" duration="00:00:00.01" outcome="Passed" />
    <UnitTestResult testName="T.Passes2" duration="00:00:00.01" outcome="Passed" />
    <UnitTestResult testName="T.Fails" duration="00:00:00.50" outcome="Failed">
      <Output><ErrorInfo><Message>Assert.Equal() Failure
line two
line three
line four</Message></ErrorInfo></Output>
    </UnitTestResult>
    <UnitTestResult testName="T.Skipped1" duration="00:00:00.001" outcome="NotExecuted">
      <Output><ErrorInfo><Message>Linux only: /dev/full</Message></ErrorInfo></Output>
    </UnitTestResult>
    <UnitTestResult testName="T.Skipped2" duration="00:00:00.001" outcome="NotExecuted" />
  </Results>
  <ResultSummary outcome="Failed">
    <Counters total="5" executed="3" passed="2" failed="1" error="0" timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="0" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />
  </ResultSummary>
</TestRun>
'@
}

Describe 'build.ps1 Test summary' {
    It 'counts skipped xunit tests, which the TRX counters leave out' {
        $file = Join-Path ([IO.Path]::GetTempPath()) "ahrvo-summary-$([guid]::NewGuid()).trx"
        try {
            Set-Content -Path $file -Value $trx
            $r = & $reader -Path $file -Project 'Some.Tests'
            $r.Passed | Should -Be 2
            $r.Failed | Should -Be 1
            $r.Skipped | Should -Be 2
            $r.FailedNames | Should -HaveCount 1
            $r.FailedNames[0] | Should -BeLike 'Some.Tests: T.Fails `[Failed after 00:00:00.50`]*line three'
            $r.FailedNames[0] | Should -Not -BeLike '*line four*'
        } finally {
            Remove-Item $file -ErrorAction SilentlyContinue
        }
    }

    It 'is what build.ps1 Test adds up' {
        $build = Get-Content (Join-Path $PSScriptRoot '../../build.ps1') -Raw
        $build | Should -Match "build/Read-TrxResult\.ps1'\) -Path"
        $build | Should -Match '\$skipped \+= \$trxResult\.Skipped'
    }
}
