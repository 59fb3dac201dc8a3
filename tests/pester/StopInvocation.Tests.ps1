# Issue 18, item 6: `build.ps1 Bench` crashed pwsh in measurement 5 ("Objects cannot be added to a
# closed buffer" from PowerShell.BatchInvocationWorkItem). The bench stopped a batched invocation
# (Import-Module; AddStatement; Get-AhrvoCardBalance) and disposed it at once, while the batch was
# still ending on a thread-pool thread. bench/BenchSupport.psm1's Stop-Invocation ends the invocation
# before disposing it. Each loop below runs in a pwsh of its own, since the failure ends the process:
# its exit code and its last line say whether it survived. With Stop() then Dispose() (EndInvoke taken
# out of Stop-Invocation) both loops below ended their pwsh with an unhandled exception on this
# project's machine, and a module-free loop of 100 did in 4 tries of 4: the module plays no part (its
# cmdlets write only on the pipeline thread, and StopProcessing only cancels, see CardBatchCmdlet).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'FreshPwsh.psm1') -Force
    $script:support = Join-Path (Get-RepositoryRoot) 'bench/BenchSupport.psm1'

    # Runs $Runs times, in a new pwsh: a batch (a first statement, then $Workload) started with
    # BeginInvoke on one runspace, stopped once it has written 100 objects, and ended with
    # Stop-Invocation.
    function Invoke-StopLoop([int] $Runs, [string] $FirstStatement, [string] $Workload, [string] $Prelude = '') {
        # The timeout only ends a hung child; it does not time the loop.
        Invoke-FreshPwsh -TimeoutSeconds 900 -Script @"
param([string] `$ResultPath)
`$ErrorActionPreference = 'Stop'
Import-Module '$support'
$Prelude
`$rs = [runspacefactory]::CreateRunspace(); `$rs.Open()
for (`$i = 1; `$i -le $Runs; `$i++) {
    `$ps = [powershell]::Create(); `$ps.Runspace = `$rs
    `$null = `$ps.AddScript({ $FirstStatement }).AddStatement().AddScript({ $Workload })
    `$out = [System.Management.Automation.PSDataCollection[psobject]]::new()
    `$in = [System.Management.Automation.PSDataCollection[psobject]]::new(); `$in.Complete()
    `$async = `$ps.BeginInvoke(`$in, `$out)
    while (`$out.Count -lt 100 -and -not `$async.IsCompleted) { Start-Sleep -Milliseconds 5 }
    if (`$async.IsCompleted) { throw "run `$i ended before it was stopped: the loop tests nothing" }
    `$null = Stop-Invocation -PowerShell `$ps -AsyncResult `$async
}
`$rs.Dispose()
"survived $Runs stops"
"@
    }
}

AfterAll {
    if ($script:emu) { Stop-AhrvoEmulator $emu }
}

Describe 'Stop-Invocation (bench): a stopped batch is ended before it is disposed' {
    It 'survives 60 stops of a batch that writes without end (no module involved)' {
        $r = Invoke-StopLoop -Runs 60 -FirstStatement '$x = 1' -Workload 'foreach ($n in 1..100000000) { $n }'
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'survived 60 stops'
    }

    It 'survives 10 stops of measurement 5''s batch: Import-Module, then 1,000 cards at 50 ms' {
        $script:emu = Start-AhrvoEmulator -ArgumentList '--generate', '1000', '--latency-ms', '50'
        $prelude = @"
Import-Module '$($env:AHRVO_MODULE_PATH)'
Connect-Ahrvo -BaseUri '$($emu.BaseUri.AbsoluteUri)' -ApiKey (ConvertTo-SecureString '$($emu.ApiKey)' -AsPlainText -Force) -AccessToken (ConvertTo-SecureString '$($emu.AccessToken)' -AsPlainText -Force)
"@
        $ids = "@(0..999 | ForEach-Object { 'card2019{0:D14}' -f `$_ })"
        $r = Invoke-StopLoop -Runs 10 -Prelude $prelude -FirstStatement "Import-Module '$($env:AHRVO_MODULE_PATH)'" `
            -Workload "$ids | Get-AhrvoCardBalance -ThrottleLimit 8 -ErrorAction SilentlyContinue"
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'survived 10 stops'
    }
}
