# The top-up example (examples/Invoke-AhrvoTopUpOnCritical.ps1) in a fresh pwsh, as a scheduler
# runs it, against the emulator: a route table stands in for the vendor's top-up endpoint.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    $script:root = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $script:example = Join-Path $root 'examples/Invoke-AhrvoTopUpOnCritical.ps1'
    $script:emu = Start-AhrvoEmulator
    $script:work = Join-Path ([IO.Path]::GetTempPath()) ("ahrvo-topup-test-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory $work | Out-Null
    $script:topUp = '/card/issuance/api/example/topup'
    Invoke-RestMethod -Method Put -Uri "$($emu.BaseUri)_emulator/routes" -ContentType 'application/json' -Body (ConvertTo-Json -Depth 6 @(
        @{ method = 'POST'; path = $topUp; body = @{ code = 'SUCCESS'; data = @{ order_id = '20260101000000000001' } } })) | Out-Null
    Set-AhrvoEmulatorCard $emu -Id 'topup-critical' -AvailableBalance '42.17' | Out-Null
    Set-AhrvoEmulatorCard $emu -Id 'topup-normal' -AvailableBalance '1468.87' | Out-Null
    $script:cardFile = Join-Path $work 'cards.csv'
    'topup-critical', 'topup-normal' | ForEach-Object { [pscustomobject]@{ card_id = $_ } } | Export-Csv $cardFile -NoTypeInformation
    $script:state = Join-Path $work 'state.json'

    function Invoke-TopUp([string[]] $Extra = @()) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in @('-NoProfile', '-NonInteractive', '-File', $example, '-CardPath', $cardFile, '-StatePath', $state, '-TopUpPath', $topUp) + $Extra) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.Environment['AHRVO_MODULE_PATH'] = $env:AHRVO_MODULE_PATH
        $psi.Environment['AHRVO_BASE_URI'] = $emu.BaseUri.AbsoluteUri
        $psi.Environment['AHRVO_API_KEY'] = $emu.ApiKey
        $psi.Environment['AHRVO_ACCESS_TOKEN'] = $emu.AccessToken
        $p = [System.Diagnostics.Process]::Start($psi)
        $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit(180000)) { $p.Kill($true); throw 'The top-up example did not finish.' }
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Stdout = $out.Result; Stderr = $err.Result }
    }

    function Get-TopUps { @((Get-AhrvoEmulatorStats $emu).requests | Where-Object route -EQ "POST $topUp") }
}

AfterAll {
    Stop-AhrvoEmulator $emu
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The top-up example' {
    It 'sends nothing by default (-WhatIf), says what it would send, and leaves the alerts for the real run' {
        $r = Invoke-TopUp
        $r.ExitCode | Should -Be 0 -Because $r.Stderr
        $r.Stdout | Should -Match 'What if: .*POST .*example/topup'
        @(Get-TopUps).Count | Should -Be 0
        Test-Path $state | Should -BeFalse -Because 'the dry run worked on a copy of the state'
    }

    It 'with -WhatIf:$false tops the Critical card up to 250 once, with an Idempotency-Key when asked, and not again the next run' {
        $r = Invoke-TopUp -Extra '-WhatIf:$false', '-UseIdempotencyKey'
        $r.ExitCode | Should -Be 0 -Because $r.Stderr
        $r.Stdout | Should -Match 'TOPUP topup-critical 207\.83 USD \(SUCCESS\)'
        $sent = @(Get-TopUps)
        $sent.Count | Should -Be 1
        $body = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($sent[0].bodyBase64)) | ConvertFrom-Json
        $body.card_id | Should -Be 'topup-critical'
        $body.amount | Should -Be '207.83'
        $sent[0].idempotencyKey | Should -Match '^topup-topup-critical-207\.83-\d{8}$'
        $sent[0].contentType | Should -Be 'application/json; charset=utf-8'

        $again = Invoke-TopUp -Extra '-WhatIf:$false'
        $again.ExitCode | Should -Be 0 -Because $again.Stderr
        @(Get-TopUps).Count | Should -Be 1 -Because 'the card is still Critical, but that alert was acted on'
    }

    It 'exits 3 and names the card when the top-up may have been applied, without sending it twice (no key: the default)' {
        Invoke-RestMethod -Method Put -Uri "$($emu.BaseUri)_emulator/routes" -ContentType 'application/json' -Body (ConvertTo-Json -Depth 6 @(
            @{ method = 'POST'; path = $topUp; status = 503 })) | Out-Null
        Remove-Item $state -ErrorAction SilentlyContinue
        Reset-AhrvoEmulator $emu
        $r = Invoke-TopUp -Extra '-WhatIf:$false'
        $r.ExitCode | Should -Be 3 -Because $r.Stderr
        $r.Stderr | Should -Match 'topup-critical: may have been applied'
        @(Get-TopUps).Count | Should -Be 1
    }
}
