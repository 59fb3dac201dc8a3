# Runs a script in a new PowerShell process, for tests that need a session nothing else has touched
# (assemblies loaded before the module, a module imported from an install folder).
Set-StrictMode -Version Latest

function Get-RepositoryRoot {
    $dir = Get-Item -LiteralPath $PSScriptRoot
    while ($dir -and -not (Test-Path -LiteralPath (Join-Path $dir.FullName 'Ahrvo.PowerShell.sln'))) { $dir = $dir.Parent }
    if (-not $dir) { throw "Could not find Ahrvo.PowerShell.sln above '$PSScriptRoot'." }
    $dir.FullName
}

function Get-BuiltModuleManifest {
    <# $env:AHRVO_MODULE_PATH (set by build.ps1 Test), else out/Ahrvo.PowerShell/<version>/Ahrvo.PowerShell.psd1. #>
    if ($env:AHRVO_MODULE_PATH) { return $env:AHRVO_MODULE_PATH }
    $root = Get-RepositoryRoot
    [xml] $props = Get-Content (Join-Path $root 'Directory.Build.props') -Raw
    $version = @($props.Project.PropertyGroup | ForEach-Object { $_['VersionPrefix'] } | Where-Object { $_ })[0].InnerText
    Join-Path $root "out/Ahrvo.PowerShell/$version/Ahrvo.PowerShell.psd1"
}

function Invoke-FreshPwsh {
    <#
    .SYNOPSIS
    Runs -Script in a new process of this same PowerShell (-NoProfile) and returns its exit code, its
    output (stdout and stderr as text) and Result: whatever the script wrote as JSON to the path in its
    -ResultPath parameter. -Parameters are passed as -Name value pairs.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Script,
        [hashtable] $Parameters = @{},
        [int] $TimeoutSeconds = 120
    )

    $work = Join-Path ([IO.Path]::GetTempPath()) "ahrvo-fresh-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $work | Out-Null
    try {
        $file = Join-Path $work 'script.ps1'
        $resultPath = Join-Path $work 'result.json'
        Set-Content -LiteralPath $file -Value $Script

        $exe = [Environment]::ProcessPath
        $psi = [System.Diagnostics.ProcessStartInfo]::new($exe)
        # The dotnet tool runs as `dotnet pwsh.dll`; an installed pwsh is its own executable.
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $file, '-ResultPath', $resultPath) { $psi.ArgumentList.Add($a) }
        foreach ($name in $Parameters.Keys) { $psi.ArgumentList.Add("-$name"); $psi.ArgumentList.Add([string]$Parameters[$name]) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.WorkingDirectory = $work
        # No colour codes in the captured text.
        $psi.Environment['NO_COLOR'] = '1'

        $process = [System.Diagnostics.Process]::Start($psi)
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            $process.Kill($true)
            throw "The child PowerShell did not finish within $TimeoutSeconds s.`n$($stdout.Result)`n$($stderr.Result)"
        }
        $process.WaitForExit()
        $result = if (Test-Path -LiteralPath $resultPath) { Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json } else { $null }
        [pscustomobject]@{
            ExitCode = $process.ExitCode
            Output   = ($stdout.Result + $stderr.Result).Trim()
            Result   = $result
        }
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

Export-ModuleMember -Function Get-RepositoryRoot, Get-BuiltModuleManifest, Invoke-FreshPwsh
