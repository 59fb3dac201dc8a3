#requires -Version 7.2
<#
.SYNOPSIS
    Packs the built module into the .nupkg the PowerShell Gallery would receive, with Publish-PSResource
    to a local file repository, and optionally installs it back from there with Save-PSResource.
.DESCRIPTION
    Used by `build.ps1 Package` and by tests/pester/Package.Tests.ps1, so the logic lives in one place.

    The repository is registered under a unique name and unregistered in a finally block. On Linux
    and macOS the work runs in a child PowerShell whose XDG_DATA_HOME is a throw-away folder:
    PSResourceGet keeps its repository list in <LocalApplicationData>/PSResourceGet, which follows
    XDG_DATA_HOME there, so the user's list is never read or written. (On Windows that folder is not
    taken from a variable; the unique name and the Unregister are the clean-up.)
.OUTPUTS
    An object with Package (the .nupkg) and, with -SavePath, SavedManifest (the installed .psd1).
.EXAMPLE
    ./build/Publish-Module.ps1 -ModulePath out/Ahrvo.PowerShell/0.2.0 -RepositoryPath out/gallery -SavePath $env:TEMP/modules
#>
[CmdletBinding()]
param(
    # The built module folder, holding Ahrvo.PowerShell.psd1 (out/Ahrvo.PowerShell/<version>).
    [Parameter(Mandatory)] [string] $ModulePath,
    # The local file repository; the .nupkg is written here. Created when missing.
    [Parameter(Mandatory)] [string] $RepositoryPath,
    # When set, Save-PSResource installs the published module from the repository into this folder.
    [string] $SavePath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ModuleName = 'Ahrvo.PowerShell'
$ChildMarker = 'AHRVO_PUBLISH_MODULE_CHILD'

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$version = (Import-PowerShellDataFile (Join-Path $ModulePath "$ModuleName.psd1")).ModuleVersion
$RepositoryPath = [IO.Path]::GetFullPath((New-Item -ItemType Directory -Force $RepositoryPath).FullName)
if ($SavePath) { $SavePath = [IO.Path]::GetFullPath((New-Item -ItemType Directory -Force $SavePath).FullName) }
$package = Join-Path $RepositoryPath "$ModuleName.$version.nupkg"
$inChild = [bool][Environment]::GetEnvironmentVariable($ChildMarker)

if (-not $IsWindows -and -not $inChild) {
    $settings = Join-Path ([IO.Path]::GetTempPath()) "ahrvo-psresourceget-$([guid]::NewGuid().ToString('N'))"
    # It must exist: .NET reports LocalApplicationData as "" for a missing folder, and PSResourceGet
    # would then write PSResourceGet/PSResourceRepository.xml into the current directory.
    New-Item -ItemType Directory -Force $settings | Out-Null
    $before = @{ XDG_DATA_HOME = $env:XDG_DATA_HOME; $ChildMarker = $null }
    try {
        $env:XDG_DATA_HOME = $settings
        [Environment]::SetEnvironmentVariable($ChildMarker, '1')
        # The same PowerShell as this one: pwsh itself, or `dotnet pwsh.dll` for the dotnet tool.
        $exe = [Environment]::ProcessPath
        # (An array: splatting a lone string would pass it character by character.)
        [string[]] $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        $arguments = @('-ModulePath', $ModulePath, '-RepositoryPath', $RepositoryPath)
        if ($SavePath) { $arguments += '-SavePath', $SavePath }
        & $exe @prefix -NoProfile -NonInteractive -File $PSCommandPath @arguments
        if ($LASTEXITCODE -ne 0) { throw "Publishing $ModuleName $version failed (exit code $LASTEXITCODE)." }
    } finally {
        foreach ($name in $before.Keys) { [Environment]::SetEnvironmentVariable($name, $before[$name]) }
        Remove-Item -LiteralPath $settings -Recurse -Force -ErrorAction SilentlyContinue
    }
} else {
    # A local repository refuses a version it already holds: this build's package replaces it.
    Remove-Item -LiteralPath $package -Force -ErrorAction SilentlyContinue
    $repository = "AhrvoLocal-$([guid]::NewGuid().ToString('N'))"
    Register-PSResourceRepository -Name $repository -Uri $RepositoryPath -Trusted
    try {
        Publish-PSResource -Path $ModulePath -Repository $repository
        if ($SavePath) {
            Save-PSResource -Name $ModuleName -Version $version -Repository $repository -Path $SavePath -TrustRepository -Quiet
        }
    } finally {
        Unregister-PSResourceRepository -Name $repository
    }
}

if ($inChild) { return }
if (-not (Test-Path -LiteralPath $package)) { throw "Publish-PSResource did not write $package." }
$result = [ordered]@{ Package = $package }
if ($SavePath) {
    $saved = Join-Path $SavePath "$ModuleName/$version/$ModuleName.psd1"
    if (-not (Test-Path -LiteralPath $saved)) { throw "Save-PSResource did not install $saved." }
    $result.SavedManifest = $saved
}
[pscustomobject]$result
