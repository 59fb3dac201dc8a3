#requires -Version 7.2
<#
.SYNOPSIS
    Builds, tests, demonstrates, benchmarks and packages Ahrvo.PowerShell.
.DESCRIPTION
    Tasks:
      Build    Builds the solution and lays out the importable module in out/Ahrvo.PowerShell/<version>/.
      Test     Build, then every xunit project and the Pester suite; prints "N passed, N failed" and
               the failed tests by name. Installs promtool, amtool and node_exporter (apt, as root) for
               the metrics tests when they are missing.
      Demo     Build, start the local emulator, query the sample cards, write a CSV.
      Bench    Build, then the benchmarks under bench/ (not part of Test): bench/Invoke-Benchmarks.ps1,
               then bench/Invoke-PressureBenchmarks.ps1 (rate limits, faults, outages, a hanging
               service). -BenchFilter picks one of them.
      Package  Build, then pack the module's .nupkg with Publish-PSResource into out/repository/.
               (Build also packs the emulator as the .NET tool ahrvo-emulator into out/tools/.)
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
.EXAMPLE
    dotnet pwsh ./build.ps1 Bench -BenchFilter Pressure
    Builds, then runs only the benchmarks under pressure (-BenchFilter Main: only the existing ones).
.EXAMPLE
    dotnet pwsh ./build.ps1 Bench -BenchFilter Pressure -BenchArguments '-Quick'
    The same with one repetition instead of three (figures for trying, not for comparing).
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Clean')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Passed to Invoke-Pester as a filter on test names (Pester -FullNameFilter).
    [string[]] $PesterFilter,

    # Which benchmarks Bench runs: All (default), Main (bench/Invoke-Benchmarks.ps1) or Pressure
    # (bench/Invoke-PressureBenchmarks.ps1).
    [ValidateSet('All', 'Main', 'Pressure')]
    [string] $BenchFilter = 'All',

    # Extra arguments for the benchmark scripts, as one string (e.g. '-Quick' or '-Repeat 5').
    [string] $BenchArguments = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Get-ModuleVersion {
    [xml] $props = Get-Content (Join-Path $Root 'Directory.Build.props') -Raw
    return ($props.Project.PropertyGroup | Where-Object { $_['VersionPrefix'] } | Select-Object -First 1).VersionPrefix
}

# A simple (not advanced) function on purpose: an advanced one would bind dotnet's -v and -o to
# PowerShell's -Verbose and -OutVariable/-OutBuffer instead of passing them on.
function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-ModuleFolder { Join-Path $Out "Ahrvo.PowerShell/$(Get-ModuleVersion)" }

# Exactly what the module ships besides its own assembly: a new dependency is a decision (its
# licence, its size, its effect on dependency isolation), so the build fails until it is listed here.
$ModuleDependencies = @(
    'Ahrvo.Client.dll'
    'Microsoft.Bcl.AsyncInterfaces.dll'
    'Microsoft.Bcl.TimeProvider.dll'
    'Microsoft.Extensions.Configuration.Abstractions.dll'
    'Microsoft.Extensions.DependencyInjection.Abstractions.dll'
    'Microsoft.Extensions.DependencyInjection.dll'
    'Microsoft.Extensions.Http.dll'
    'Microsoft.Extensions.Logging.Abstractions.dll'
    'Microsoft.Extensions.Logging.dll'
    'Microsoft.Extensions.Options.dll'
    'Microsoft.Extensions.Primitives.dll'
    'Polly.Core.dll'
    'System.Buffers.dll'
    'System.ComponentModel.Annotations.dll'
    'System.Diagnostics.DiagnosticSource.dll'
    'System.Memory.dll'
    'System.Numerics.Vectors.dll'
    'System.Runtime.CompilerServices.Unsafe.dll'
    'System.Text.Encodings.Web.dll'
    'System.Text.Json.dll'
    'System.Threading.Tasks.Extensions.dll'
)

function Invoke-Build {
    $version = Get-ModuleVersion
    Write-Host "== Build $version ($Configuration)" -ForegroundColor Cyan
    Invoke-Dotnet build (Join-Path $Root 'Ahrvo.PowerShell.sln') --configuration $Configuration --nologo --verbosity quiet

    $moduleDir = Get-ModuleFolder
    if (Test-Path $moduleDir) { Remove-Item $moduleDir -Recurse -Force }
    $publish = Join-Path $Out 'obj/module'
    if (Test-Path $publish) { Remove-Item $publish -Recurse -Force }
    Invoke-Dotnet publish (Join-Path $Root 'src/Ahrvo.PowerShell') --configuration $Configuration --output $publish --nologo --verbosity quiet
    New-Item -ItemType Directory -Force $moduleDir | Out-Null
    # Only the cmdlet assembly sits at the top (default load context). Ahrvo.Client and everything it
    # needs go to dependencies/, where no default probing finds them: the module loads them into its
    # own AssemblyLoadContext (src/Ahrvo.PowerShell/Isolation). The host provides
    # System.Management.Automation; a copy anywhere in the module folder would shadow it.
    $dependencies = New-Item -ItemType Directory -Force (Join-Path $moduleDir 'dependencies')
    $published = @(Get-ChildItem $publish -Filter *.dll -File | Where-Object { $_.Name -ne 'Ahrvo.PowerShell.dll' -and $_.Name -notlike 'System.Management.Automation*' }).Name
    $unlisted = @($published | Where-Object { $_ -notin $ModuleDependencies })
    $missing = @($ModuleDependencies | Where-Object { $_ -notin $published })
    if ($unlisted -or $missing) {
        throw "The module's dependencies changed: $(if ($unlisted) { "new: $($unlisted -join ', ')" }) $(if ($missing) { "gone: $($missing -join ', ')" }). Update `$ModuleDependencies in build.ps1 (and check the licence and the isolation tests)."
    }
    Copy-Item (Join-Path $publish 'Ahrvo.PowerShell.dll'), (Join-Path $publish 'Ahrvo.PowerShell.pdb') -Destination $moduleDir
    foreach ($name in $ModuleDependencies) { Copy-Item (Join-Path $publish $name) -Destination $dependencies }
    Copy-Item (Join-Path $publish 'Ahrvo.Client.pdb') -Destination $dependencies
    Copy-Item (Join-Path $Root 'module/*') -Destination $moduleDir -Recurse -Force
    Copy-Item (Join-Path $Root 'LICENSE') -Destination $moduleDir
    $manifest = Join-Path $moduleDir 'Ahrvo.PowerShell.psd1'
    (Get-Content $manifest -Raw) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'" | Set-Content $manifest -NoNewline
    & (Join-Path $Root 'build/Set-ReleaseNotes.ps1') -ManifestPath $manifest -ChangelogPath (Join-Path $Root 'CHANGELOG.md') -Version $version

    # Help (MAML and about topics) from docs/help/*.md. A fresh pwsh, because the generator imports
    # the module; it fails the build when a cmdlet or parameter is not documented.
    Push-Location $Root
    try {
        & dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $Root 'build/New-ModuleHelp.ps1') -ModulePath $manifest -SourcePath (Join-Path $Root 'docs/help') -OutputPath (Join-Path $moduleDir 'en-US')
        if ($LASTEXITCODE -ne 0) { throw "Help generation failed (exit $LASTEXITCODE): see the problems listed above." }
    } finally { Pop-Location }

    Invoke-Dotnet publish (Join-Path $Root 'src/Ahrvo.Emulator') --configuration $Configuration --output (Join-Path $Out "emulator") --nologo --verbosity quiet
    $tool = New-EmulatorToolPackage
    Write-Host "Module: $moduleDir"
    Write-Host "Emulator tool: $tool"
}

function Get-ToolFolder { Join-Path $Out 'tools' }

# The emulator as the .NET tool `ahrvo-emulator` (Ahrvo.Emulator.<version>.nupkg), beside the module's
# package folder. Part of Build, not only Package: tests/pester/EmulatorTool.Tests.ps1 installs it.
# --no-build: the solution build above has just compiled it, so this only lays out and zips.
function New-EmulatorToolPackage {
    $tools = Get-ToolFolder
    New-Item -ItemType Directory -Force $tools | Out-Null
    # An older version's package would be left lying next to this one.
    Get-ChildItem $tools -Filter 'Ahrvo.Emulator.*.nupkg' | Remove-Item -Force
    # The tool package takes everything in the project's publish folder, stale files of an older build too.
    $publishDir = Join-Path $Root "src/Ahrvo.Emulator/bin/$Configuration/net10.0/publish"
    if (Test-Path $publishDir) { Remove-Item $publishDir -Recurse -Force }
    Invoke-Dotnet pack (Join-Path $Root 'src/Ahrvo.Emulator') --configuration $Configuration --no-build --output $tools --nologo --verbosity quiet | Out-Host
    $package = Join-Path $tools "Ahrvo.Emulator.$(Get-ModuleVersion).nupkg"
    if (-not (Test-Path $package)) { throw "dotnet pack did not write $package." }
    $package
}

function Get-PesterModulePath {
    $packages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $psd1 = Join-Path $packages.Trim() 'pester/6.2.0/tools/Pester.psd1'
    if (-not (Test-Path $psd1)) {
        Write-Host 'Bootstrapping Pester 6.2.0 from NuGet...'
        Invoke-Dotnet restore (Join-Path $Root 'build/Pester.Restore.csproj') --nologo --verbosity quiet
    }
    if (-not (Test-Path $psd1)) { throw "Pester was restored but $psd1 is missing." }
    return $psd1
}

# tests/pester/Metrics.Tests.ps1 proves the metrics file against promtool and node_exporter. They
# are installed where apt-get runs as root (this project's machines and CI); elsewhere those tests
# say why they are skipped (and fail when CI=true).
function Install-MetricsTool {
    $packages = [ordered]@{ 'promtool' = 'prometheus'; 'prometheus-node-exporter' = 'prometheus-node-exporter'; 'amtool' = 'prometheus-alertmanager' }
    $missing = @($packages.Keys | Where-Object { -not (Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue) } | ForEach-Object { $packages[$_] })
    if (-not $missing) { return }
    $aptGet = Get-Command apt-get -CommandType Application -ErrorAction SilentlyContinue
    if ($IsWindows -or -not $aptGet -or (& id -u) -ne '0') {
        Write-Host "Not installing $($missing -join ', ') (needs apt-get as root): the metrics tests that use them will be skipped."
        return
    }
    Write-Host "Installing $($missing -join ', ') for the metrics tests..."
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get update -qq
    if ($LASTEXITCODE -eq 0) { & apt-get install -y -qq --no-install-recommends @missing }
    # Not fatal here: the tests then skip, or fail in CI, and say which tool is missing.
    if ($LASTEXITCODE -ne 0) { Write-Warning "apt-get could not install $($missing -join ', ') (exit $LASTEXITCODE)." }
}

function Invoke-Test {
    Install-MetricsTool
    $results = Join-Path $Out 'test-results'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    New-Item -ItemType Directory -Force $results | Out-Null
    $env:AHRVO_EMULATOR_DLL = Join-Path $Out 'emulator/Ahrvo.Emulator.dll'
    $env:AHRVO_MODULE_PATH = Join-Path (Get-ModuleFolder) 'Ahrvo.PowerShell.psd1'
    $env:AHRVO_TOOLS_PATH = Get-ToolFolder

    $passed = 0; $failed = 0; $skipped = 0
    # The names of failed tests, repeated under the summary: a CI log may keep only its tail.
    $failedNames = [System.Collections.Generic.List[string]]::new()
    foreach ($project in Get-ChildItem (Join-Path $Root 'tests') -Recurse -Filter '*.Tests.csproj') {
        Write-Host "== xunit: $($project.BaseName)" -ForegroundColor Cyan
        $trx = "$($project.BaseName).trx"
        & dotnet test $project.FullName --configuration $Configuration --no-build --nologo --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' --results-directory $results
        $file = Join-Path $results $trx
        if (-not (Test-Path $file)) { Write-Host "No results from $($project.BaseName): counted as a failure." -ForegroundColor Red; $failed++; continue }
        $exit = $LASTEXITCODE
        # Skipped tests are counted from the results: the TRX counters leave them out (see the script).
        $trxResult = & (Join-Path $Root 'build/Read-TrxResult.ps1') -Path $file -Project $project.BaseName
        $passed += $trxResult.Passed; $failed += $trxResult.Failed; $skipped += $trxResult.Skipped
        foreach ($n in $trxResult.FailedNames) { $failedNames.Add($n) }
        if ($exit -ne 0 -and $trxResult.FailedCount -eq 0) { Write-Host "dotnet test exited $exit" -ForegroundColor Red; $failed++ }
    }

    Write-Host '== Pester' -ForegroundColor Cyan
    $pester = Get-PesterModulePath
    $pesterOut = Join-Path $results 'pester.json'
    # From bash, -PesterFilter '*Help*','*Completion*' arrives as one string: split it on commas.
    $filters = @($PesterFilter | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ })
    # A fresh pwsh: the module is imported as a user would, and nothing leaks into this build session.
    $runner = Join-Path $Root 'build/Invoke-PesterSuite.ps1'
    $runnerArgs = @('-PesterPath', $pester, '-TestPath', (Join-Path $Root 'tests/pester'), '-ResultPath', $pesterOut)
    # -File binds each argument as one string, so the filters travel as one comma-separated string.
    if ($filters) { $runnerArgs += @('-Filter', ($filters -join ',')) }
    Push-Location $Root
    try { & dotnet pwsh -NoProfile -NonInteractive -File $runner @runnerArgs } finally { Pop-Location }
    if (Test-Path $pesterOut) {
        $p = Get-Content $pesterOut -Raw | ConvertFrom-Json
        $passed += $p.Passed; $failed += $p.Failed; $skipped += $p.Skipped
        foreach ($n in @($p.FailedNames)) { if ($n) { $failedNames.Add($n) } }
        if ($filters -and $p.Passed + $p.Failed + $p.Skipped -eq 0) {
            # A filter that matches nothing would otherwise report success.
            Write-Host "No Pester test matched -PesterFilter $($filters -join ', '): counted as a failure." -ForegroundColor Red
            $failed++
        }
    } else {
        Write-Host 'Pester produced no result: counted as a failure.' -ForegroundColor Red
        $failed++
    }

    Write-Host ''
    Write-Host "Test summary (xunit + Pester):"
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    if ($failedNames.Count) {
        Write-Host 'Failed:' -ForegroundColor Red
        foreach ($n in $failedNames) { Write-Host "  $n" -ForegroundColor Red }
    }
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Import-Module (Join-Path $Root 'tests/pester/Emulator.psm1') -Force
    $emu = Start-AhrvoEmulator
    try {
        $script = Join-Path $Root 'demo/Demo.ps1'
        Push-Location $Root
        try {
            & dotnet pwsh -NoProfile -File $script -ModulePath (Join-Path (Get-ModuleFolder) 'Ahrvo.PowerShell.psd1') -BaseUri $emu.BaseUri -ApiKey $emu.ApiKey -AccessToken $emu.AccessToken -OutFile (Join-Path $Out 'demo-balances.csv')
            if ($LASTEXITCODE -ne 0) { throw "The demo failed (exit $LASTEXITCODE)." }
        } finally { Pop-Location }
    } finally {
        Stop-AhrvoEmulator $emu
    }
}

function Invoke-Bench {
    $env:AHRVO_EMULATOR_DLL = Join-Path $Out 'emulator/Ahrvo.Emulator.dll'
    $env:AHRVO_MODULE_PATH = Join-Path (Get-ModuleFolder) 'Ahrvo.PowerShell.psd1'
    $scripts = switch ($BenchFilter) {
        'Main' { 'Invoke-Benchmarks.ps1' }
        'Pressure' { 'Invoke-PressureBenchmarks.ps1' }
        default { 'Invoke-Benchmarks.ps1', 'Invoke-PressureBenchmarks.ps1' }
    }
    Push-Location $Root
    try {
        foreach ($s in $scripts) {
            $file = Join-Path $Root "bench/$s"
            # With -BenchArguments, -Command, so that they reach the script as parameters.
            if ($BenchArguments) { & dotnet pwsh -NoProfile -Command "& '$file' $BenchArguments; exit [int]`$LASTEXITCODE" }
            else { & dotnet pwsh -NoProfile -File $file }
            if ($LASTEXITCODE -ne 0) { throw "The benchmarks in bench/$s failed (exit $LASTEXITCODE)." }
        }
    } finally { Pop-Location }
}

function Invoke-Package {
    # The .nupkg as the Gallery would receive it: Publish-PSResource to a local file repository.
    $result = & (Join-Path $Root 'build/Publish-Module.ps1') -ModulePath (Get-ModuleFolder) -RepositoryPath (Join-Path $Out 'repository')
    Write-Host "Package: $($result.Package)"
    # Built by Invoke-Build; named here so that both packages are listed together.
    Write-Host "Emulator tool package: $(Join-Path (Get-ToolFolder) "Ahrvo.Emulator.$(Get-ModuleVersion).nupkg")"
}

foreach ($t in $Task) {
    switch ($t) {
        'Clean' { if (Test-Path $Out) { Remove-Item $Out -Recurse -Force } }
        'Build' { Invoke-Build }
        'Test' { Invoke-Build; Invoke-Test }
        'Demo' { Invoke-Build; Invoke-Demo }
        'Bench' { Invoke-Build; Invoke-Bench }
        'Package' { Invoke-Build; Invoke-Package }
    }
}
