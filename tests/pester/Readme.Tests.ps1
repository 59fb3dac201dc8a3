# Every PowerShell example in README.md runs as written, in a fresh runspace with the built module,
# against the emulator, without an error: the README is what users copy first. A block that cannot
# run here is marked <!-- no-run: reason --> on the line before its fence. The cmdlets' behaviour is
# proven by the xunit tests; this suite proves that the README tells the truth about it.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'Examples.psm1') -Force
    $all = @(Get-MarkdownCodeBlock -Path (Join-Path $PSScriptRoot '../../README.md'))
    $script:blocks = @($all | Where-Object { $null -eq $_.NoRun } | ForEach-Object { @{ Line = $_.Line; Heading = $_.Heading; Code = $_.Code } })
    # Not tests of their own (a skipped test would suggest something is missing): listed at the end.
    $script:notRun = @($all | Where-Object { $null -ne $_.NoRun } | ForEach-Object { @{ Line = $_.Line; Reason = $_.NoRun } })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Examples.psm1') -Force
    Import-Module $env:AHRVO_MODULE_PATH -Force
    $script:emu = Start-AhrvoEmulator
    $script:key = ConvertTo-SecureString $emu.ApiKey -AsPlainText -Force
    $script:token = ConvertTo-SecureString $emu.AccessToken -AsPlainText -Force
    $cards = @(Get-AhrvoEmulatorCard $emu | ForEach-Object { $_ })
    $dedicated = @($cards | Where-Object type -EQ 'Dedicated' | ForEach-Object id)
    $script:work = Join-Path ([IO.Path]::GetTempPath()) ("ahrvo-readme-" + [guid]::NewGuid())
    $script:seed = Join-Path $work 'seed'
    New-ExampleSeed -Path $seed -CardId $dedicated
    # The README imports the module from ./out/Ahrvo.PowerShell/<version>, as in a clone after Build.
    $script:outDir = Split-Path (Split-Path (Split-Path $env:AHRVO_MODULE_PATH))

    # `Connect-Ahrvo` without secrets reads these; put back afterwards.
    $script:savedEnv = @{ AHRVO_API_KEY = $env:AHRVO_API_KEY; AHRVO_ACCESS_TOKEN = $env:AHRVO_ACCESS_TOKEN }
    $env:AHRVO_API_KEY = $emu.ApiKey
    $env:AHRVO_ACCESS_TOKEN = $emu.AccessToken
}

AfterAll {
    foreach ($name in $savedEnv.Keys) { [Environment]::SetEnvironmentVariable($name, $savedEnv[$name]) }
    Disconnect-Ahrvo -ErrorAction SilentlyContinue
    Stop-AhrvoEmulator $emu
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
    if ($notRun) { Write-Host "README examples not run (<!-- no-run -->):`n  $(@($notRun | ForEach-Object { "line $($_.Line): $($_.Reason)" }) -join "`n  ")" }
}

Describe 'README examples' {
    BeforeEach {
        # Each block starts connected to the emulator (a block may connect elsewhere: the session
        # connection is process-wide), in a folder of its own with the files the examples name.
        Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token
        $folder = Join-Path $work ([guid]::NewGuid().ToString('n'))
        Copy-Item $seed $folder -Recurse
        New-Item -ItemType SymbolicLink -Path (Join-Path $folder 'out') -Target $outDir | Out-Null
    }

    It 'line <Line> (<Heading>) runs' -ForEach $blocks {
        $r = Invoke-Example -Code $Code -Folder $folder -ApiKey $emu.ApiKey -AccessToken $emu.AccessToken
        $details = "`n--- README.md line $Line ---`n$Code`n--- output ---`n$($r.Output)"
        $r.Thrown | Should -BeNullOrEmpty -Because "the example must not throw$details"
        ($r.Errors | Out-String) | Should -BeNullOrEmpty -Because "the example must not write errors$details"
        $r.Output | Should -Not -Match 'Ahrvo\.\w+,Ahrvo\.PowerShell' -Because "no error record may reach the output$details"
    }

    It 'has its examples found (guards the discovery above)' {
        @($blocks).Count | Should -BeGreaterOrEqual 12
    }

    It 'gives a reason for every block it does not run' {
        foreach ($b in $notRun) { $b.Reason | Should -Not -BeNullOrEmpty -Because "README.md line $($b.Line) needs <!-- no-run: reason -->" }
    }
}

Describe 'README usage' {
    It 'imports the version that Build makes' {
        $psd1 = Import-PowerShellDataFile $env:AHRVO_MODULE_PATH
        $readme = Get-Content (Join-Path $PSScriptRoot '../../README.md') -Raw
        $readme | Should -Match ([regex]::Escape("./out/Ahrvo.PowerShell/$($psd1.ModuleVersion)/Ahrvo.PowerShell.psd1"))
    }
}
