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

    # A fresh pwsh, as a scheduler starts it; its environment has the emulator's address and secrets.
    function Invoke-Pwsh([string[]] $Arguments, [hashtable] $Environment = @{}, [string] $WorkingDirectory = $work) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.WorkingDirectory = $WorkingDirectory
        $psi.Environment['AHRVO_MODULE_PATH'] = $env:AHRVO_MODULE_PATH
        $psi.Environment['AHRVO_BASE_URI'] = $emu.BaseUri.AbsoluteUri
        $psi.Environment['AHRVO_API_KEY'] = $emu.ApiKey
        $psi.Environment['AHRVO_ACCESS_TOKEN'] = $emu.AccessToken
        foreach ($k in $Environment.Keys) { if ($null -eq $Environment[$k]) { [void] $psi.Environment.Remove($k) } else { $psi.Environment[$k] = $Environment[$k] } }
        $p = [System.Diagnostics.Process]::Start($psi)
        $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit(180000)) { $p.Kill($true); throw 'The scheduled check did not finish.' }
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Stdout = $out.Result; Stderr = $err.Result }
    }

    function Invoke-Check([string] $CardPath = $cardFile, [hashtable] $Environment = @{}, [string] $StatePath = (Join-Path $work 'state.json'), [string] $Action) {
        $alerts = Join-Path $work 'alerts.txt'
        Remove-Item $alerts -ErrorAction SilentlyContinue
        # The alert action a user would give: here each alert is a line in a file the test reads.
        if (-not $Action) { $Action = "param(`$a) Add-Content -LiteralPath '$alerts' -Value ('{0} {1} {2}' -f `$a.CardId, `$a.Level, `$a.PreviousLevel)" }
        $command = "& '$example' -CardPath '$CardPath' -StatePath '$StatePath' -MetricsPath '$(Join-Path $work 'ahrvo.prom')' -AlertAction { $Action }; exit `$LASTEXITCODE"
        $r = Invoke-Pwsh -Arguments '-NoProfile', '-NonInteractive', '-Command', $command -Environment $Environment
        $r | Add-Member -PassThru Alerts @(if (Test-Path $alerts) { Get-Content $alerts | Sort-Object })
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

    It 'exits 2 when some cards cannot be read, naming them, and alerts nothing for them' {
        $withMissing = Join-Path $work 'cards-missing.csv'
        @('sched-normal', 'sched-no-such-card') | ForEach-Object { [pscustomobject]@{ card_id = $_ } } | Export-Csv $withMissing -NoTypeInformation
        $r = Invoke-Check -CardPath $withMissing
        $r.ExitCode | Should -Be 2
        $r.Stderr | Should -Match 'sched-no-such-card'
        $r.Alerts | Should -BeNullOrEmpty
    }

    It 'exits 1 when it cannot run at all, and never prints a secret' {
        $r = Invoke-Check -Environment @{ AHRVO_ACCESS_TOKEN = '' }
        $r.ExitCode | Should -Be 1
        $r.Stderr | Should -Match 'Could not run'
        $bad = Invoke-Check -Environment @{ AHRVO_ACCESS_TOKEN = 'a-wrong-token-1234' }
        $bad.ExitCode | Should -Be 1
        ($bad.Stdout + $bad.Stderr) | Should -Not -Match 'a-wrong-token-1234'
        ($bad.Stdout + $bad.Stderr) | Should -Not -Match ([regex]::Escape($emu.ApiKey))
    }

    It 'exits 1, saying what is wrong, for a mistyped, a missing or a badly typed parameter, as a scheduler runs it (-File)' {
        $state = Join-Path $work 'state-typo.json'
        $typo = Invoke-Pwsh -Arguments '-NoProfile', '-NonInteractive', '-File', $example, '-CardPth', $cardFile, '-StatePath', $state
        $typo.ExitCode | Should -Be 1
        $typo.Stderr | Should -Match 'Could not run: unexpected argument\(s\) -CardPth'
        $missing = Invoke-Pwsh -Arguments '-NoProfile', '-NonInteractive', '-File', $example, '-CardPath', $cardFile
        $missing.ExitCode | Should -Be 1
        $missing.Stderr | Should -Match 'give -CardPath .* and -StatePath'
        $badValue = Invoke-Pwsh -Arguments '-NoProfile', '-NonInteractive', '-File', $example, '-CardPath', $cardFile, '-StatePath', $state, '-Critical', 'fifty'
        $badValue.ExitCode | Should -Be 1
        Test-Path $state | Should -BeFalse
    }

    It 'exits 3 when an alert cannot be delivered, and the next run delivers it again' {
        $state = Join-Path $work 'state-delivery.json'
        $down = Invoke-Check -StatePath $state -Action 'param($a) throw "webhook down"'
        $down.ExitCode | Should -Be 3 -Because $down.Stderr
        $down.Stderr | Should -Match 'the alert could not be delivered \(webhook down\); it is sent again by the next run'
        $up = Invoke-Check -StatePath $state
        $up.ExitCode | Should -Be 0 -Because $up.Stderr
        # Every card below Normal, the one whose delivery failed included: at least once.
        $up.Alerts | Should -Be @('sched-critical Critical ', 'sched-low Low ', 'sched-normal Critical ')
        (Invoke-Check -StatePath $state).Alerts | Should -BeNullOrEmpty
    }

    It 'runs as examples/README.md says, from the clone, finding the module the build laid out, with any card id column the module takes' {
        Import-Module (Join-Path $PSScriptRoot 'Examples.psm1') -Force
        $block = @(Get-MarkdownCodeBlock -Path (Join-Path $root 'examples/README.md'))[0].Code
        $block | Should -Match 'dotnet pwsh ./build.ps1 Build'
        $block | Should -Match '\./examples/Invoke-AhrvoScheduledCheck\.ps1 -CardPath cards\.csv'
        # The commands as written, but: the build has been done (this suite runs on it); the
        # secrets are the emulator's; and the script is the clone's by its full path, so that the
        # files the commands name land in a scratch folder instead of the clone.
        $lines = @($block -split '\r?\n' | Where-Object { $_ -notmatch '^dotnet pwsh ./build.ps1 Build' })
        $script = ($lines -join "`n").Replace('./examples/', (Join-Path $root 'examples/'))
        $quoted = [regex] "'…'"
        $script = $quoted.Replace($script, "'$($emu.ApiKey)'", 1)
        $script = $quoted.Replace($script, "'$($emu.AccessToken)'", 1)
        $folder = Join-Path $work 'readme'
        New-Item -ItemType Directory $folder | Out-Null
        # A header the old script did not read (it took card_id only).
        'CardId', 'sched-critical', 'sched-normal', 'sched-warning' | Set-Content (Join-Path $folder 'cards.csv')
        # No AHRVO_MODULE_PATH: the script finds the module itself, as in a fresh clone.
        $r = Invoke-Pwsh -Arguments '-NoProfile', '-NonInteractive', '-Command', ($script + "`nexit `$LASTEXITCODE") -Environment @{ AHRVO_MODULE_PATH = $null } -WorkingDirectory $folder
        $r.ExitCode | Should -Be 0 -Because $r.Stderr
        $r.Stdout | Should -Match '(?m)^ALERT sched-critical Critical 42\.17 USD \(first seen\)'
        $r.Stdout | Should -Match '(?m)^ALERT sched-normal Critical 30(\.00)? USD \(first seen\)'
        $r.Stdout | Should -Match '(?m)^0\s*$' # the README's $LASTEXITCODE
        Test-Path (Join-Path $folder 'state.json') | Should -BeTrue
        Get-Content (Join-Path $folder 'ahrvo.prom') -Raw | Should -Match 'ahrvo_card_available_balance\{card_id="sched-critical"'

        # Back to Normal: the default alert line says what the card was before.
        Set-AhrvoEmulatorCard $emu -Id 'sched-critical' -AvailableBalance '900.00' | Out-Null
        $again = Invoke-Pwsh -Arguments '-NoProfile', '-NonInteractive', '-Command', ($script + "`nexit `$LASTEXITCODE") -Environment @{ AHRVO_MODULE_PATH = $null } -WorkingDirectory $folder
        $again.ExitCode | Should -Be 0 -Because $again.Stderr
        $again.Stdout | Should -Match '(?m)^ALERT sched-critical Normal 900(\.00)? USD \(was Critical\)'
    }
}
