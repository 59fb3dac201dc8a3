# The module as the PowerShell Gallery receives it and a user installs it: the manifest and release
# files, then Publish-PSResource to a local repository (build/Publish-Module.ps1, which
# `build.ps1 Package` uses too), Save-PSResource into a clean folder, Import-Module by name from there.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'FreshPwsh.psm1') -Force
    $script:root = Get-RepositoryRoot
    $script:manifestPath = Get-BuiltModuleManifest
    $script:moduleDir = Split-Path -Parent $manifestPath
    $script:manifest = Import-PowerShellDataFile $manifestPath
    [xml] $props = Get-Content (Join-Path $root 'Directory.Build.props') -Raw
    $script:version = @($props.Project.PropertyGroup | ForEach-Object { $_['VersionPrefix'] } | Where-Object { $_ })[0].InnerText
}

Describe 'Package: manifest and release files' {
    It 'passes Test-ModuleManifest' {
        $info = Test-ModuleManifest -Path $manifestPath -ErrorAction Stop
        $info.Name | Should -Be 'Ahrvo.PowerShell'
        $info.Version | Should -Be ([version]$version)
    }

    It 'takes its version from Directory.Build.props, as the built assemblies do' {
        $manifest.ModuleVersion | Should -Be $version
        foreach ($dll in (Join-Path $moduleDir 'Ahrvo.PowerShell.dll'), (Join-Path $moduleDir 'dependencies/Ahrvo.Client.dll')) {
            $v = [System.Reflection.AssemblyName]::GetAssemblyName($dll).Version
            '{0}.{1}.{2}' -f $v.Major, $v.Minor, $v.Build | Should -Be $version -Because "$dll is built from the same VersionPrefix"
            [Diagnostics.FileVersionInfo]::GetVersionInfo($dll).ProductVersion | Should -BeLike "$version*"
        }
    }

    It 'exports cmdlets by name, no wildcards, and exactly the cmdlets the assembly defines' {
        $manifest.RootModule | Should -Be 'Ahrvo.PowerShell.dll'
        foreach ($key in 'CmdletsToExport', 'FunctionsToExport', 'AliasesToExport', 'VariablesToExport') {
            @($manifest[$key]) -join ',' | Should -Not -Match '\*' -Because "$key must list names (command discovery reads it without loading the module)"
        }
        # What the assembly really has: imported alone (a binary module without a manifest exports all).
        $run = Invoke-FreshPwsh -Parameters @{ Dll = (Join-Path $moduleDir 'Ahrvo.PowerShell.dll') } -Script @'
param([string] $ResultPath, [string] $Dll)
$m = Import-Module $Dll -PassThru -ErrorAction Stop
@{ Cmdlets = @($m.ExportedCmdlets.Keys | Sort-Object) } | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
'@
        $run.ExitCode | Should -Be 0 -Because $run.Output
        @($manifest.CmdletsToExport | Sort-Object) | Should -Be @($run.Result.Cmdlets) -Because 'every cmdlet in Ahrvo.PowerShell.dll must be listed in CmdletsToExport, and nothing else'
    }

    It 'declares both editions, PowerShell 5.1 and the Gallery metadata' {
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $manifest.PowerShellVersion | Should -Be '5.1'
        $manifest.FormatsToProcess | Should -Contain 'Ahrvo.PowerShell.Format.ps1xml'
        $psData = $manifest.PrivateData.PSData
        foreach ($tag in 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS') { $psData.Tags | Should -Contain $tag }
        $psData.LicenseUri | Should -Match '^https://'
        $psData.ProjectUri | Should -Match '^https://'
    }

    It 'has release notes from the CHANGELOG.md section of its version' {
        $notes = $manifest.PrivateData.PSData.ReleaseNotes
        $notes | Should -Match "^$([regex]::Escape($version))\b"
        $changelog = Get-Content (Join-Path $root 'CHANGELOG.md') -Raw
        $changelog | Should -Match "(?m)^## \[$([regex]::Escape($version))\]"
        # Every cmdlet is announced in the notes of the version that brought it: this one's or an earlier
        # one's, or [Unreleased] for one added since (it becomes the next version's section).
        $from = $changelog.IndexOf('## [Unreleased]')
        if ($from -lt 0 -or $from -gt $changelog.IndexOf("## [$version]")) { $from = $changelog.IndexOf("## [$version]") }
        $upToThis = $changelog.Substring($from)
        foreach ($cmdlet in $manifest.CmdletsToExport) { $upToThis | Should -Match ([regex]::Escape($cmdlet)) -Because 'the changelog lists the cmdlets' }
    }

    It 'ships the MIT license; LICENSE and CHANGELOG.md are at the top of the repository' {
        Join-Path $root 'CHANGELOG.md' | Should -Exist
        Get-Content (Join-Path $root 'LICENSE') -Raw | Should -Match '^MIT License'
        Join-Path $moduleDir 'LICENSE' | Should -Exist
    }
}

Describe 'Package: Publish-PSResource, Save-PSResource, Import-Module' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
        $script:work = Join-Path ([IO.Path]::GetTempPath()) "ahrvo-package-$([guid]::NewGuid().ToString('N'))"
        $script:installDir = Join-Path $work 'modules'
        # The user's PSResourceGet repository list, which publishing must leave as it was.
        $script:userSettings = Join-Path ([Environment]::GetFolderPath('LocalApplicationData', 'DoNotVerify')) 'PSResourceGet/PSResourceRepository.xml'
        $script:settingsBefore = if (Test-Path -LiteralPath $userSettings) { (Get-FileHash -LiteralPath $userSettings).Hash } else { 'absent' }

        New-Item -ItemType Directory -Force $work | Out-Null
        Push-Location $work
        try {
            $script:published = & (Join-Path $root 'build/Publish-Module.ps1') -ModulePath $moduleDir -RepositoryPath (Join-Path $work 'repository') -SavePath $installDir
        } finally { Pop-Location }
        $script:emu = Start-AhrvoEmulator
    }

    AfterAll {
        if ($script:emu) { Stop-AhrvoEmulator $script:emu }
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'writes Ahrvo.PowerShell.<version>.nupkg with the Gallery metadata' {
        Split-Path -Leaf $published.Package | Should -Be "Ahrvo.PowerShell.$version.nupkg"
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($published.Package)
        try {
            $entries = @($zip.Entries.FullName)
            $reader = [IO.StreamReader]::new($zip.GetEntry('Ahrvo.PowerShell.nuspec').Open())
            [xml] $nuspec = $reader.ReadToEnd()
            $reader.Dispose()
        } finally { $zip.Dispose() }
        $entries | Should -Contain 'Ahrvo.PowerShell.psd1'
        $entries | Should -Contain 'Ahrvo.PowerShell.dll'
        $entries | Should -Contain 'dependencies/Ahrvo.Client.dll'
        $entries | Should -Contain 'LICENSE'
        @($entries | Where-Object { $_ -match 'System\.Management\.Automation' }) | Should -BeNullOrEmpty
        $meta = $nuspec.package.metadata
        $meta.id | Should -Be 'Ahrvo.PowerShell'
        $meta.version | Should -Be $version
        $meta.tags -split ' ' | Should -Contain 'PSEdition_Core'
        $meta.releaseNotes | Should -Match "^$([regex]::Escape($version))"
        $meta.licenseUrl | Should -Be $manifest.PrivateData.PSData.LicenseUri
    }

    It 'installs with Save-PSResource the same files the build laid out' {
        $published.SavedManifest | Should -Exist
        $installed = Split-Path -Parent $published.SavedManifest
        $relative = { param($dir) Get-ChildItem -LiteralPath $dir -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($dir, $_.FullName) -replace '\\', '/' } | Sort-Object }
        # PSResourceGet adds its own PSGetModuleInfo.xml to what it installs.
        @(& $relative $installed | Where-Object { $_ -ne 'PSGetModuleInfo.xml' }) | Should -Be @(& $relative $moduleDir)
    }

    It 'imports by name from the install folder in a new pwsh and reads a balance from the emulator' {
        $run = Invoke-FreshPwsh -Parameters @{
            InstallDir = $installDir; BaseUri = $emu.BaseUri; ApiKey = $emu.ApiKey; AccessToken = $emu.AccessToken
        } -Script @'
param([string] $ResultPath, [string] $InstallDir, [string] $BaseUri, [string] $ApiKey, [string] $AccessToken)
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $InstallDir + [IO.Path]::PathSeparator + $env:PSModulePath
$module = Import-Module Ahrvo.PowerShell -PassThru
Connect-Ahrvo -BaseUri $BaseUri -ApiKey (ConvertTo-SecureString $ApiKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $AccessToken -AsPlainText -Force)
$balance = Get-AhrvoCardBalance card201907021723076245
@{
    ModuleBase = $module.ModuleBase
    Version = "$($module.Version)"
    Cmdlets = @($module.ExportedCmdlets.Keys)
    Balance = [string]$balance.AvailableBalance
    Sufficient = Test-AhrvoCardBalance card201907021723076245 -Amount 100
} | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
'@
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Result.ModuleBase | Should -BeLike "$installDir*"
        $run.Result.Version | Should -Be $version
        $run.Result.Cmdlets | Should -Contain 'Get-AhrvoCardBalance'
        $run.Result.Balance | Should -Be '1468.87'
        $run.Result.Sufficient | Should -BeTrue
    }

    It 'leaves the user''s PSResourceGet repositories as they were' {
        if ($IsWindows) {
            # There the list is registered into and unregistered from (see build/Publish-Module.ps1).
            if (Test-Path -LiteralPath $userSettings) { Get-Content -LiteralPath $userSettings -Raw | Should -Not -Match 'AhrvoLocal-' }
        } else {
            $after = if (Test-Path -LiteralPath $userSettings) { (Get-FileHash -LiteralPath $userSettings).Hash } else { 'absent' }
            $after | Should -Be $settingsBefore
        }
        # A missing settings folder would have made PSResourceGet write into the current directory.
        Join-Path $work 'PSResourceGet' | Should -Not -Exist
    }
}
