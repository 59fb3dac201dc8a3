# The scheduled example (examples/Invoke-AhrvoScheduledCheck.ps1) run twice as a scheduler would,
# each time in a fresh pwsh, against the emulator, with balances changed in between.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    $script:root = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $script:example = Join-Path $root 'examples/Invoke-AhrvoScheduledCheck.ps1'
    $script:emu = Start-AhrvoEmulator
    $script:work = Join-Path ([IO.Path]::GetTempPath()) ("ahrvo-scheduled-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory $work | Out-Null

    # Normal, Critical, Warning, Low at the start.
    $script:cards = @{ 'sched-normal' = '1468.87'; 'sched-critical' = '42.17'; 'sched-warning' = '99.00'; 'sched-low' = '200.00' }
    foreach ($id in $cards.Keys) { Set-AhrvoEmulatorCard $emu -Id $id -AvailableBalance $cards[$id] | Out-Null }
    $script:cardFile = Join-Path $work 'cards.csv'
    $cards.Keys | Sort-Object | ForEach-Object { [pscustomobject]@{ card_id = $_ } } | Export-Csv $cardFile -NoTypeInformation

    function Invoke-Check([string] $CardPath = $cardFile, [hashtable] $Environment = @{}) {
        $alerts = Join-Path $work 'alerts.txt'
        Remove-Item $alerts -ErrorAction SilentlyContinue
        $psi = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        # The alert action a user would give: here each alert is a line in a file the test reads.
        $command = "& '$example' -CardPath '$CardPath' -StatePath '$(Join-Path $work 'state.json')' -MetricsPath '$(Join-Path $work 'ahrvo.prom')' -AlertAction { param(`$a) Add-Content -LiteralPath '$alerts' -Value ('{0} {1} {2}' -f `$a.CardId, `$a.Level, `$a.PreviousLevel) }; exit `$LASTEXITCODE"
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $command) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.Environment['AHRVO_MODULE_PATH'] = $env:AHRVO_MODULE_PATH
        $psi.Environment['AHRVO_BASE_URI'] = $emu.BaseUri.AbsoluteUri
        $psi.Environment['AHRVO_API_KEY'] = $emu.ApiKey
        $psi.Environment['AHRVO_ACCESS_TOKEN'] = $emu.AccessToken
        foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
        $p = [System.Diagnostics.Process]::Start($psi)
        $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit(180000)) { $p.Kill($true); throw 'The scheduled check did not finish.' }
        $p.WaitForExit()
        [pscustomobject]@{
            ExitCode = $p.ExitCode
            Alerts   = @(if (Test-Path $alerts) { Get-Content $alerts | Sort-Object })
            Stderr   = $err.Result
            Stdout   = $out.Result
        }
    }
}

AfterAll {
    Stop-AhrvoEmulator $emu
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The scheduled check example' {
    It 'alerts on the first run for every card below Normal, writes metrics and state, exits 0' {
        $r = Invoke-Check
        $r.ExitCode | Should -Be 0 -Because $r.Stderr
        $r.Alerts | Should -Be @('sched-critical Critical ', 'sched-low Low ', 'sched-warning Warning ')
        $prom = Get-Content (Join-Path $work 'ahrvo.prom') -Raw
        $prom | Should -Match 'ahrvo_card_available_balance\{card_id="sched-critical",currency="USD"\} 42\.17'
        $prom | Should -Match 'ahrvo_card_read_ok\{card_id="sched-normal"\} 1'
        $state = Get-Content (Join-Path $work 'state.json') -Raw | ConvertFrom-Json
        $state.cards.'sched-critical'.level | Should -Be 'Critical'
        if (-not $IsWindows) {
            [IO.File]::GetUnixFileMode((Join-Path $work 'state.json')) | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
            [IO.File]::GetUnixFileMode((Join-Path $work 'ahrvo.prom')) | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        }
    }

    It 'alerts on the second run only for what changed, and keeps the metrics current' {
        Set-AhrvoEmulatorCard $emu -Id 'sched-normal' -AvailableBalance '30.00' | Out-Null     # Normal -> Critical
        Set-AhrvoEmulatorCard $emu -Id 'sched-warning' -AvailableBalance '500.00' | Out-Null   # Warning -> Normal
        $r = Invoke-Check
        $r.ExitCode | Should -Be 0 -Because $r.Stderr
        $r.Alerts | Should -Be @('sched-normal Critical Normal', 'sched-warning Normal Warning')
        (Get-Content (Join-Path $work 'ahrvo.prom') -Raw) | Should -Match 'ahrvo_card_available_balance\{card_id="sched-normal",currency="USD"\} 30(\.00)?\n'
        $state = Get-Content (Join-Path $work 'state.json') -Raw | ConvertFrom-Json
        $state.cards.'sched-normal'.level | Should -Be 'Critical'
        $state.cards.'sched-warning'.level | Should -Be 'Normal'
    }

    It 'exits 1 when some cards cannot be read, naming them, and alerts nothing for them' {
        $withMissing = Join-Path $work 'cards-missing.csv'
        @('sched-normal', 'sched-no-such-card') | ForEach-Object { [pscustomobject]@{ card_id = $_ } } | Export-Csv $withMissing -NoTypeInformation
        $r = Invoke-Check -CardPath $withMissing
        $r.ExitCode | Should -Be 1
        $r.Stderr | Should -Match 'sched-no-such-card'
        $r.Alerts | Should -BeNullOrEmpty
    }

    It 'exits 2 when it cannot run at all, and never prints a secret' {
        $r = Invoke-Check -Environment @{ AHRVO_ACCESS_TOKEN = '' }
        $r.ExitCode | Should -Be 2
        $r.Stderr | Should -Match 'Could not run'
        $bad = Invoke-Check -Environment @{ AHRVO_ACCESS_TOKEN = 'a-wrong-token-1234' }
        $bad.ExitCode | Should -Be 2
        ($bad.Stdout + $bad.Stderr) | Should -Not -Match 'a-wrong-token-1234'
        ($bad.Stdout + $bad.Stderr) | Should -Not -Match ([regex]::Escape($emu.ApiKey))
    }
}
