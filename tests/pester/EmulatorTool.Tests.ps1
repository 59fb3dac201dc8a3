# The emulator as a user gets it: the .NET tool package that `build.ps1 Build` packs into out/tools
# ($env:AHRVO_TOOLS_PATH under `build.ps1 Test`), installed with `dotnet tool install` into a temporary
# tool path, started as `ahrvo-emulator --port 0`, and queried by the built module from a new pwsh.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'FreshPwsh.psm1') -Force
    $script:root = Get-RepositoryRoot
    $script:moduleManifest = Get-BuiltModuleManifest
    [xml] $props = Get-Content (Join-Path $root 'Directory.Build.props') -Raw
    $script:version = @($props.Project.PropertyGroup | ForEach-Object { $_['VersionPrefix'] } | Where-Object { $_ })[0].InnerText
    $script:toolsDir = if ($env:AHRVO_TOOLS_PATH) { $env:AHRVO_TOOLS_PATH } else { Join-Path $root 'out/tools' }
    $script:package = Join-Path $toolsDir "Ahrvo.Emulator.$version.nupkg"
    if (-not (Test-Path -LiteralPath $package)) { throw "$package is missing: 'build.ps1 Build' packs the emulator tool there." }

    $script:work = Join-Path ([IO.Path]::GetTempPath()) "ahrvo-tool-$([guid]::NewGuid().ToString('N'))"
    $script:toolPath = Join-Path $work 'tool'
    New-Item -ItemType Directory -Force $work | Out-Null

    # The apphost looks for .NET in the default places or DOTNET_ROOT; give it the dotnet running this
    # test, which may be a user-local SDK.
    $dotnet = if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { [Environment]::ProcessPath } else { (Get-Command dotnet -CommandType Application | Select-Object -First 1).Source }
    $target = [IO.File]::ResolveLinkTarget($dotnet, $true)
    $script:dotnetRoot = if ($env:DOTNET_ROOT) { $env:DOTNET_ROOT } else { Split-Path -Parent $(if ($target) { $target.FullName } else { $dotnet }) }

    # Only the package folder as a source: no network, and a same-named package elsewhere cannot win.
    # A private package cache too: every build repacks the same version, and a shared cache would
    # install an older build's copy.
    $config = Join-Path $work 'nuget.config'
    Set-Content -LiteralPath $config -Value @"
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="ahrvo-tools" value="$([Security.SecurityElement]::Escape((Resolve-Path -LiteralPath $toolsDir).ProviderPath))" />
  </packageSources>
</configuration>
"@
    $before = $env:NUGET_PACKAGES
    try {
        $env:NUGET_PACKAGES = Join-Path $work 'packages'
        $script:installOutput = & dotnet tool install Ahrvo.Emulator --tool-path $toolPath --configfile $config --version $version 2>&1 | Out-String
        $script:installExit = $LASTEXITCODE
    } finally { $env:NUGET_PACKAGES = $before }
    $script:command = Join-Path $toolPath $(if ($IsWindows) { 'ahrvo-emulator.exe' } else { 'ahrvo-emulator' })

    function New-ToolStartInfo([string[]] $ArgumentList) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($command)
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.CreateNoWindow = $true
        $psi.WorkingDirectory = $work
        foreach ($a in $ArgumentList) { $psi.ArgumentList.Add([string]$a) }
        $psi.Environment['DOTNET_ROOT'] = $dotnetRoot
        foreach ($name in 'ASPNETCORE_URLS', 'DOTNET_URLS', 'ASPNETCORE_HTTP_PORTS', 'ASPNETCORE_HTTPS_PORTS') { [void]$psi.Environment.Remove($name) }
        $psi
    }

    # Reads lines until one matches, within the deadline; $null when the stream ends or time is up.
    function Read-LineMatching([IO.StreamReader] $Reader, [string] $Pattern, [datetime] $Deadline, [System.Collections.Generic.List[string]] $Seen) {
        while ($true) {
            $remaining = $Deadline - [DateTime]::UtcNow
            if ($remaining -le [TimeSpan]::Zero) { return $null }
            $task = $Reader.ReadLineAsync()
            if (-not $task.Wait($remaining)) { return $null }
            if ($null -eq $task.Result) { return $null }
            $Seen.Add($task.Result)
            if ($task.Result -match $Pattern) { return $task.Result }
        }
    }

    # Starts the installed tool on a free port. Generous wait: a busy 2-core machine may take long to
    # start ASP.NET; nothing here measures time.
    function Start-EmulatorTool([int] $TimeoutSeconds = 120) {
        $process = [System.Diagnostics.Process]::Start((New-ToolStartInfo @('--port', '0', '--parent-pid', "$PID")))
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        $stdout = [System.Collections.Generic.List[string]]::new()
        $stderr = [System.Collections.Generic.List[string]]::new()
        $ready = Read-LineMatching $process.StandardOutput '^AHRVO_EMULATOR_URL=' $deadline $stdout
        # The human-friendly lines follow on stderr; the Connect-Ahrvo line is the one users paste.
        $connect = if ($ready) { Read-LineMatching $process.StandardError '^\s*Connect-Ahrvo -BaseUri ' $deadline $stderr }
        $emulator = [pscustomobject]@{
            Process     = $process
            BaseUri     = if ($ready) { $ready.Substring('AHRVO_EMULATOR_URL='.Length).Trim() } else { $null }
            ConnectLine = if ($connect) { $connect.Trim() } else { $null }
            StdOut      = $stdout
            StdErr      = $stderr
            # Drained for the process's whole life, so it never blocks on a full pipe.
            StdOutTask  = $process.StandardOutput.ReadToEndAsync()
            StdErrTask  = $process.StandardError.ReadToEndAsync()
        }
        if (-not $connect) {
            Stop-EmulatorTool $emulator
            throw "ahrvo-emulator did not print its URL and Connect-Ahrvo lines within $TimeoutSeconds s.`nstdout: $($stdout -join "`n")`nstderr: $($stderr -join "`n")$(if ($emulator.StdErrTask.Wait(2000)) { $emulator.StdErrTask.Result })"
        }
        $emulator
    }

    function Stop-EmulatorTool($Emulator) {
        $p = $Emulator.Process
        try {
            if (-not $p.HasExited) { $p.Kill($true) }
            [void]$p.WaitForExit(10000)
        } catch [System.InvalidOperationException] {
            # Already exited.
        }
    }
}

AfterAll {
    if ($script:work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'EmulatorTool: the ahrvo-emulator .NET tool package' {
    It 'is Ahrvo.Emulator.<version>.nupkg, a .NET tool with the sample cards, a readme, a license and a description' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($package)
        try {
            $entries = @($zip.Entries.FullName)
            $read = { param($name) $r = [IO.StreamReader]::new($zip.GetEntry($name).Open()); try { $r.ReadToEnd() } finally { $r.Dispose() } }
            [xml] $nuspec = & $read 'Ahrvo.Emulator.nuspec'
            [xml] $settings = & $read 'tools/net10.0/any/DotnetToolSettings.xml'
            $sampleCards = & $read 'tools/net10.0/any/cards/sample-cards.json' | ConvertFrom-Json
        } finally { $zip.Dispose() }

        $entries | Should -Contain 'tools/net10.0/any/Ahrvo.Emulator.dll'
        $entries | Should -Contain 'tools/net10.0/any/cards/sample-cards.csv'
        $entries | Should -Contain 'README.md'
        ($sampleCards | Where-Object id -EQ 'card201907021723076245').available_balance | Should -Be '1468.87'
        $settings.DotNetCliTool.Commands.Command.Name | Should -Be 'ahrvo-emulator'

        $meta = $nuspec.package.metadata
        $meta.id | Should -Be 'Ahrvo.Emulator'
        $meta.version | Should -Be $version -Because 'the tool has the module''s version (Directory.Build.props)'
        $meta.packageTypes.packageType.name | Should -Be 'DotnetTool'
        $meta.license.'#text' | Should -Be 'MIT'
        $meta.readme | Should -Be 'README.md'
        $meta.description | Should -Match 'emulator'
    }

    It 'installs with dotnet tool install from the package folder' {
        $installExit | Should -Be 0 -Because $installOutput
        $command | Should -Exist
    }

    It 'installs with the command the README and the tool''s README give, from a clone' {
        # The line users paste at the clone's root. Run as written, but with --tool-path for --global
        # (a test must not change the machine's tools), out/tools wherever this build put it, and a
        # private package cache (the same version is repacked by every build).
        $lines = foreach ($file in 'README.md', 'src/Ahrvo.Emulator/README.md') {
            $text = Get-Content -LiteralPath (Join-Path $root $file) -Raw
            $found = @([regex]::Matches($text, '(?m)^dotnet tool install --global Ahrvo\.Emulator[^#\r\n]*') | ForEach-Object { $_.Value.Trim() })
            $found.Count | Should -Be 1 -Because "$file gives one install command"
            $found[0] | Should -Match '--add-source out/tools\b' -Because "$file must install from the package that Build makes: the tool is in no public feed"
            $found[0]
        }
        $lines[0] | Should -Be $lines[1] -Because 'both READMEs give the same command'
        $words = @($lines[0] -split '\s+')
        $readmeToolPath = Join-Path $work 'readme-tool'
        $toolArgs = @($words[1..($words.Count - 1)] | ForEach-Object {
            switch ($_) { '--global' { '--tool-path'; $readmeToolPath } 'out/tools' { $toolsDir } default { $_ } }
        })
        $before = $env:NUGET_PACKAGES
        Push-Location $root
        try {
            $env:NUGET_PACKAGES = Join-Path $work 'readme-packages'
            $output = & dotnet @toolArgs 2>&1 | Out-String
            $LASTEXITCODE | Should -Be 0 -Because "dotnet $($toolArgs -join ' ') must install the tool:`n$output"
        } finally {
            Pop-Location
            $env:NUGET_PACKAGES = $before
        }
        Join-Path $readmeToolPath $(if ($IsWindows) { 'ahrvo-emulator.exe' } else { 'ahrvo-emulator' }) | Should -Exist
    }
}

Describe 'EmulatorTool: ahrvo-emulator --port 0 and the module' {
    BeforeAll {
        $script:emu = Start-EmulatorTool
    }

    AfterAll {
        if ($script:emu) { Stop-EmulatorTool $script:emu }
    }

    It 'prints the URL on stdout and the Connect-Ahrvo line on stderr' {
        $emu.BaseUri | Should -Match '^http://127\.0\.0\.1:[1-9][0-9]*$'
        $emu.StdOut | Should -Be @("AHRVO_EMULATOR_URL=$($emu.BaseUri)") -Because 'stdout carries only the ready line'
        $emu.ConnectLine | Should -BeLike "Connect-Ahrvo -BaseUri $($emu.BaseUri) -ApiKey (ConvertTo-SecureString 'emulator-api-key' *"
        # The module is in no gallery: the banner says how to import it from a clone, at this version.
        ($emu.StdErr -join "`n") | Should -Not -Match 'Install-PSResource'
        ($emu.StdErr -join "`n") | Should -Match ([regex]::Escape("Import-Module ./out/Ahrvo.PowerShell/$version/Ahrvo.PowerShell.psd1"))
    }

    It 'serves the sample cards to the module, connected with the line it printed' {
        $run = Invoke-FreshPwsh -TimeoutSeconds 300 -Parameters @{ ModulePath = $moduleManifest; ConnectLine = $emu.ConnectLine } -Script @'
param([string] $ResultPath, [string] $ModulePath, [string] $ConnectLine)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
# Exactly what a user pastes.
Invoke-Expression $ConnectLine
$balance = Get-AhrvoCardBalance card201907021723076245
@{ Balance = [string]$balance.AvailableBalance; Currency = $balance.Currency } | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
'@
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Result.Balance | Should -Be '1468.87'
        $run.Result.Currency | Should -Be 'USD'
        (Invoke-RestMethod -Uri "$($emu.BaseUri)/_emulator/stats" -NoProxy).requestsPerCard.card201907021723076245 | Should -Be 1
    }

    It 'runs its README''s Pester example (an alert script and its test) as written' {
        $readme = Get-Content -LiteralPath (Join-Path $root 'src/Ahrvo.Emulator/README.md') -Raw
        $blocks = [regex]::Matches($readme, '<!-- example-file: (?<name>\S+) -->\s*```powershell\r?\n(?<code>.*?)```', 'Singleline')
        @($blocks | ForEach-Object { $_.Groups['name'].Value }) | Should -Be @('Send-LowBalanceAlert.ps1', 'Send-LowBalanceAlert.Tests.ps1')
        $example = New-Item -ItemType Directory -Force (Join-Path $work 'example')
        foreach ($b in $blocks) { Set-Content -LiteralPath (Join-Path $example $b.Groups['name'].Value) -Value $b.Groups['code'].Value }

        # As the README assumes: Ahrvo.PowerShell importable by name and ahrvo-emulator on the PATH.
        $run = Invoke-FreshPwsh -TimeoutSeconds 300 -Parameters @{
            Example     = $example.FullName
            PesterPath  = Join-Path (Get-Module Pester | Select-Object -First 1).ModuleBase 'Pester.psd1'
            ModuleRoot  = Split-Path -Parent (Split-Path -Parent (Split-Path -Parent $moduleManifest))
            ToolPath    = $toolPath
            DotnetRoot  = $dotnetRoot
        } -Script @'
param([string] $ResultPath, [string] $Example, [string] $PesterPath, [string] $ModuleRoot, [string] $ToolPath, [string] $DotnetRoot)
$ErrorActionPreference = 'Stop'
$env:PATH = $ToolPath + [IO.Path]::PathSeparator + $env:PATH
$env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath
$env:DOTNET_ROOT = $DotnetRoot
Import-Module $PesterPath
$c = New-PesterConfiguration
$c.Run.Path = $Example
$c.Run.PassThru = $true
$c.Output.Verbosity = 'Detailed'
$r = Invoke-Pester -Configuration $c
@{ Passed = $r.PassedCount; Failed = $r.FailedCount + $r.FailedBlocksCount + $r.FailedContainersCount } | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
'@
        $run.Result.Failed | Should -Be 0 -Because $run.Output
        $run.Result.Passed | Should -Be 1 -Because $run.Output
    }
}

Describe 'EmulatorTool: --help' {
    BeforeAll {
        # The names the parser accepts, from its own table (EmulatorOptions.OptionNames) in the installed
        # dll, read in a new pwsh so that this session does not load the emulator's assembly.
        $dll = Get-ChildItem -LiteralPath (Join-Path $toolPath '.store') -Recurse -Filter 'Ahrvo.Emulator.dll' | Select-Object -First 1
        $run = Invoke-FreshPwsh -Parameters @{ Dll = $dll.FullName } -Script @'
param([string] $ResultPath, [string] $Dll)
$type = [Reflection.Assembly]::LoadFrom($Dll).GetType('Ahrvo.Emulator.EmulatorOptions', $true)
@{ Names = @($type.GetProperty('OptionNames').GetValue($null)) } | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
'@
        if ($run.ExitCode -ne 0 -or -not $run.Result) { throw "Could not read EmulatorOptions.OptionNames from $($dll.FullName): $($run.Output)" }
        $script:optionNames = @($run.Result.Names)

        $process = [System.Diagnostics.Process]::Start((New-ToolStartInfo @('--help')))
        $out = $process.StandardOutput.ReadToEndAsync()
        $err = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit(120000)) { $process.Kill($true); throw 'ahrvo-emulator --help did not exit within 120 s.' }
        $process.WaitForExit()
        $script:helpExit = $process.ExitCode
        $script:help = $out.Result
        $script:helpErr = $err.Result
    }

    It 'exits 0 and prints usage on stdout' {
        $helpExit | Should -Be 0 -Because $helpErr
        $help | Should -Match 'Usage: ahrvo-emulator \[options\]'
    }

    It 'names every option the parser accepts' {
        $optionNames.Count | Should -BeGreaterThan 10
        foreach ($name in $optionNames) {
            $help | Should -Match "(^|[\s,])$([regex]::Escape($name))([\s,=]|$)" -Because "'$name' is accepted, so --help must say what it does"
        }
    }

    It 'names every option in the README''s Options section too' {
        $readme = Get-Content -LiteralPath (Join-Path $root 'src/Ahrvo.Emulator/README.md') -Raw
        $section = [regex]::Match($readme, '(?ms)^## Options$.*?(?=^## )').Value
        $section | Should -Not -BeNullOrEmpty
        foreach ($name in $optionNames) {
            $section | Should -Match "``$([regex]::Escape($name))[ ``]" -Because "'$name' is accepted, so the tool's README must describe it"
        }
    }
}
