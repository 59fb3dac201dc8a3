# Starts and drives the Ahrvo emulator for Pester suites. Mirrors tests/TestSupport/EmulatorProcess.cs.
Set-StrictMode -Version Latest

$script:ReadyPrefix = 'AHRVO_EMULATOR_URL='
$script:DefaultApiKey = 'emulator-api-key'
$script:DefaultAccessToken = 'emulator-access-token'

function Find-AhrvoEmulatorDll {
    <#
    .SYNOPSIS
    $env:AHRVO_EMULATOR_DLL, else out/emulator/Ahrvo.Emulator.dll under the repo root, else the newest built dll in src/Ahrvo.Emulator/bin.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    if ($env:AHRVO_EMULATOR_DLL) {
        if (-not (Test-Path -LiteralPath $env:AHRVO_EMULATOR_DLL -PathType Leaf)) {
            throw "AHRVO_EMULATOR_DLL points to '$env:AHRVO_EMULATOR_DLL', which does not exist."
        }
        return (Resolve-Path -LiteralPath $env:AHRVO_EMULATOR_DLL).ProviderPath
    }

    $dir = Get-Item -LiteralPath $PSScriptRoot
    while ($dir -and -not (Test-Path -LiteralPath (Join-Path $dir.FullName 'Ahrvo.PowerShell.sln'))) {
        $dir = $dir.Parent
    }
    if (-not $dir) { throw "Could not find Ahrvo.PowerShell.sln above '$PSScriptRoot'; set AHRVO_EMULATOR_DLL to the emulator dll." }

    $published = Join-Path $dir.FullName 'out/emulator/Ahrvo.Emulator.dll'
    if (Test-Path -LiteralPath $published -PathType Leaf) { return $published }

    $built = foreach ($config in 'Debug', 'Release') {
        $candidate = Join-Path $dir.FullName "src/Ahrvo.Emulator/bin/$config/net10.0/Ahrvo.Emulator.dll"
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { Get-Item -LiteralPath $candidate }
    }
    $newest = $built | Sort-Object LastWriteTimeUtc -Descending | Select-Object -First 1
    if (-not $newest) {
        throw "The emulator is not built: no $published and no src/Ahrvo.Emulator/bin/*/net10.0/Ahrvo.Emulator.dll. Run 'dotnet build src/Ahrvo.Emulator' or set AHRVO_EMULATOR_DLL."
    }
    $newest.FullName
}

function Get-FlagValue([string[]] $Arguments, [string] $Name) {
    # The last "--name value" or "--name=value" wins, as in the emulator.
    $value = $null
    for ($i = 0; $i -lt $Arguments.Count; $i++) {
        if ($Arguments[$i] -eq $Name -and $i + 1 -lt $Arguments.Count) { $i++; $value = $Arguments[$i] }
        elseif ($Arguments[$i].StartsWith("$Name=", [StringComparison]::OrdinalIgnoreCase)) { $value = $Arguments[$i].Substring($Name.Length + 1) }
    }
    $value
}

function Start-AhrvoEmulator {
    <#
    .SYNOPSIS
    Starts 'dotnet Ahrvo.Emulator.dll --port 0 <ArgumentList>' and waits for its ready line.
    .OUTPUTS
    An object with BaseUri, ApiKey, AccessToken and Process; pass it to the other *-AhrvoEmulator* commands.
    .EXAMPLE
    $emu = Start-AhrvoEmulator -ArgumentList '--generate', '500'
    #>
    [CmdletBinding()]
    param(
        [string[]] $ArgumentList = @(),
        [int] $TimeoutSeconds = 30
    )

    $dll = Find-AhrvoEmulatorDll
    $dotnet = if ($env:DOTNET_HOST_PATH -and (Test-Path -LiteralPath $env:DOTNET_HOST_PATH)) { $env:DOTNET_HOST_PATH } else { 'dotnet' }

    $psi = [System.Diagnostics.ProcessStartInfo]::new($dotnet)
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.CreateNoWindow = $true
    $psi.WorkingDirectory = Split-Path -Parent $dll
    # Defaults first: later flags win, so -ArgumentList may override the port.
    # --parent-pid makes the emulator exit if this PowerShell dies without stopping it.
    foreach ($a in @($dll, '--port', '0', '--parent-pid', "$PID") + @($ArgumentList)) { $psi.ArgumentList.Add([string]$a) }
    foreach ($name in 'ASPNETCORE_URLS', 'DOTNET_URLS', 'ASPNETCORE_HTTP_PORTS', 'ASPNETCORE_HTTPS_PORTS') { [void]$psi.Environment.Remove($name) }

    $process = [System.Diagnostics.Process]::Start($psi)
    # Drain stderr in the background for the emulator's whole life, so it can never block on a full pipe.
    # (Event handlers would run script blocks on thread-pool threads without a runspace.)
    $stderrTask = $process.StandardError.ReadToEndAsync()

    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    $baseUri = $null
    $why = $null
    while (-not $baseUri) {
        $remaining = $deadline - [DateTime]::UtcNow
        if ($remaining -le [TimeSpan]::Zero) { $why = "did not print $script:ReadyPrefix within $TimeoutSeconds s"; break }
        $lineTask = $process.StandardOutput.ReadLineAsync()
        if (-not $lineTask.Wait($remaining)) { $why = "did not print $script:ReadyPrefix within $TimeoutSeconds s"; break }
        $line = $lineTask.Result
        if ($null -eq $line) { $why = 'exited before it was ready'; break }
        if ($line.StartsWith($script:ReadyPrefix, [StringComparison]::Ordinal)) {
            $baseUri = [uri]($line.Substring($script:ReadyPrefix.Length).Trim() + '/')
        }
    }

    if (-not $baseUri) {
        if (-not $process.HasExited) { $process.Kill($true) }
        [void]$process.WaitForExit(5000)
        $exit = if ($process.HasExited) { " (exit code $($process.ExitCode))" } else { '' }
        $stderr = if ($stderrTask.Wait(2000)) { $stderrTask.Result } else { '' }
        $process.Dispose()
        throw "The Ahrvo emulator $why$exit.`nCommand: $dotnet $($psi.ArgumentList -join ' ')`nstderr:`n$stderr"
    }

    # Nothing else is written to stdout, but drain it anyway for the same reason as stderr.
    $stdoutTask = $process.StandardOutput.ReadToEndAsync()

    $apiKey = Get-FlagValue $ArgumentList '--api-key'
    $accessToken = Get-FlagValue $ArgumentList '--access-token'
    [pscustomobject]@{
        PSTypeName   = 'Ahrvo.EmulatorProcess'
        BaseUri      = $baseUri
        ApiKey       = if ($null -ne $apiKey) { $apiKey } else { $script:DefaultApiKey }
        AccessToken  = if ($null -ne $accessToken) { $accessToken } else { $script:DefaultAccessToken }
        Process      = $process
        StdErrTask   = $stderrTask
        StdOutTask   = $stdoutTask
    }
}

function Stop-AhrvoEmulator {
    <# .SYNOPSIS Kills the emulator process tree and waits for it to exit. Safe to call twice. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0, ValueFromPipeline)] $Emulator)
    process {
        $p = $Emulator.Process
        if (-not $p) { return }
        try {
            if (-not $p.HasExited) { $p.Kill($true) }
            [void]$p.WaitForExit(10000)
        }
        catch [System.InvalidOperationException] {
            # Already disposed or exited.
        }
    }
}

function Invoke-EmulatorAdmin {
    param($Emulator, [string] $Method, [string] $Path, [string] $Body)
    $params = @{
        Uri                = [uri]::new($Emulator.BaseUri, $Path)
        Method             = $Method
        NoProxy            = $true
        MaximumRedirection = 0
        ErrorAction        = 'Stop'
    }
    if ($PSBoundParameters.ContainsKey('Body')) {
        $params.Body = [System.Text.Encoding]::UTF8.GetBytes($Body)
        $params.ContentType = 'application/json; charset=utf-8'
    }
    Invoke-RestMethod @params
}

function Get-AhrvoEmulatorStats {
    <#
    .SYNOPSIS
    totalRequests, balanceRequests, currentConcurrent, maxConcurrent, requestsPerCard (card id -> count) and requests
    (cardId, rawQuery, startedAt, endedAt, status, fault, attempt, headerNames, hasApiKey, hasAuthorization, accept, userAgent).
    .PARAMETER Limit
    Return only the last N request records (0: counters only). The full log can hold 100,000 records.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Emulator, [Nullable[int]] $Limit)
    $path = if ($null -ne $Limit) { "_emulator/stats?limit=$Limit" } else { '_emulator/stats' }
    Invoke-EmulatorAdmin $Emulator GET $path
}

function Reset-AhrvoEmulator {
    <# .SYNOPSIS Zeroes counters and the request log. -Config also restores the command-line config. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Emulator, [switch] $Config)
    $path = if ($Config) { '_emulator/reset?config=true' } else { '_emulator/reset' }
    $null = Invoke-EmulatorAdmin $Emulator POST $path
}

function Get-AhrvoEmulatorConfig {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Emulator)
    Invoke-EmulatorAdmin $Emulator GET '_emulator/config'
}

function Set-AhrvoEmulatorConfig {
    <#
    .SYNOPSIS
    Patches the live config: keys present replace the current value ($null clears), absent keys are kept.
    .EXAMPLE
    Set-AhrvoEmulatorConfig $emu -Config @{ faults = @(@{ kind = '503'; firstAttempts = 1 }) }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] $Emulator,
        [Parameter(Mandatory, Position = 1)] [System.Collections.IDictionary] $Config
    )
    # -Depth: the default of 2 would flatten the fault list's nested cardIds into strings.
    $json = ConvertTo-Json -InputObject $Config -Depth 20 -Compress
    Invoke-EmulatorAdmin $Emulator POST '_emulator/config' $json
}

function Get-AhrvoEmulatorCard {
    <# .SYNOPSIS All cards (id, card_number, available_balance, type, currency), or the one with -Id. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Emulator, [string] $Id)
    if ($Id) { Invoke-EmulatorAdmin $Emulator GET "_emulator/cards/$([uri]::EscapeDataString($Id))" }
    else { Invoke-EmulatorAdmin $Emulator GET '_emulator/cards' }
}

function Set-AhrvoEmulatorCard {
    <# .SYNOPSIS Adds or replaces a card. The balance is stored verbatim, so odd values ('1,234.50', 'NaN') can be planted. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] $Emulator,
        [Parameter(Mandatory)] [string] $Id,
        [AllowNull()] [object] $AvailableBalance,
        [ValidateSet('Dedicated', 'Shared')] [string] $Type = 'Dedicated',
        [string] $CardNumber = '5157********0000',
        [string] $Currency = 'USD'
    )
    # [object], not [string]: a [string] parameter would turn $null into '' and hide a planted null balance.
    $balance = if ($null -eq $AvailableBalance) { $null } else { [string]$AvailableBalance }
    $body = @{ card_number = $CardNumber; available_balance = $balance; type = $Type; currency = $Currency } | ConvertTo-Json -Compress
    Invoke-EmulatorAdmin $Emulator PUT "_emulator/cards/$([uri]::EscapeDataString($Id))" $body
}

function Remove-AhrvoEmulatorCard {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Emulator, [Parameter(Mandatory)] [string] $Id)
    $null = Invoke-EmulatorAdmin $Emulator DELETE "_emulator/cards/$([uri]::EscapeDataString($Id))"
}

Export-ModuleMember -Function Find-AhrvoEmulatorDll, Start-AhrvoEmulator, Stop-AhrvoEmulator, Get-AhrvoEmulatorStats,
    Reset-AhrvoEmulator, Get-AhrvoEmulatorConfig, Set-AhrvoEmulatorConfig, Get-AhrvoEmulatorCard, Set-AhrvoEmulatorCard,
    Remove-AhrvoEmulatorCard
