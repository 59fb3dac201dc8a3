# Runs documentation examples (the shipped help's, the README's) the way a reader would: each in a
# runspace of its own with the module imported, in a folder holding the files the examples name,
# against the emulator. Used by HelpExamples.Tests.ps1 and Readme.Tests.ps1.
Set-StrictMode -Version Latest

# Read-Host and Get-Secret (SecretManagement may not be installed) answer with the emulator's
# secrets, the token when the prompt or secret name asks for one. Functions win over cmdlets.
# $key/$token and $k1/$t1/$k2/$t2 are the names the examples use for secrets already in hand.
$script:Prelude = @'
function Read-Host {
    param([Parameter(Position = 0)] [object] $Prompt, [switch] $AsSecureString, [switch] $MaskInput)
    $value = if ("$Prompt" -match 'token') { $AhrvoExampleAccessToken } else { $AhrvoExampleApiKey }
    if ($AsSecureString) { ConvertTo-SecureString $value -AsPlainText -Force } else { $value }
}
function Get-Secret {
    param([Parameter(Position = 0)] [string] $Name, [Parameter(Position = 1)] [string] $Vault, [switch] $AsPlainText)
    $value = if ($Name -match 'token') { $AhrvoExampleAccessToken } else { $AhrvoExampleApiKey }
    if ($AsPlainText) { $value } else { ConvertTo-SecureString $value -AsPlainText -Force }
}
$key = $k1 = $k2 = ConvertTo-SecureString $AhrvoExampleApiKey -AsPlainText -Force
$token = $t1 = $t2 = ConvertTo-SecureString $AhrvoExampleAccessToken -AsPlainText -Force
'@

function New-ExampleSeed {
    <#
    .SYNOPSIS
    Writes the files the examples read into -Path: cards.csv (card_id), payouts.csv (card_id,amount;
    100 each, so some cards fall short), ids.txt and card-ids.txt (one id a line), and ledger.csv
    (card_id,balance: the README's ledger). -CardId: the emulator's Dedicated Funds cards.
    #>
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string[]] $CardId)
    New-Item -ItemType Directory $Path -Force | Out-Null
    $CardId | ForEach-Object { [pscustomobject]@{ card_id = $_ } } | Export-Csv (Join-Path $Path 'cards.csv') -NoTypeInformation
    $CardId | ForEach-Object { [pscustomobject]@{ card_id = $_; amount = '100.00' } } | Export-Csv (Join-Path $Path 'payouts.csv') -NoTypeInformation
    Set-Content (Join-Path $Path 'ids.txt') $CardId
    Set-Content (Join-Path $Path 'card-ids.txt') $CardId
    Set-Content (Join-Path $Path 'ledger.csv') @(
        'card_id,balance'
        'card201907021723076245,1468.87'
        'card201907021723076246,2500.00'
        'card201907021723076247,850.50'
        'card201907021723076248,40.00'
    )
}

function Invoke-Example {
    <#
    .SYNOPSIS
    Runs -Code in its own runspace (so that an example cannot leak variables into the next one, and
    one that hangs can be stopped) with the module imported and -Folder as its location. Returns the
    output as a console would format it, the errors, the warnings and what it threw.
    #>
    param(
        [Parameter(Mandatory)] [string] $Code,
        [Parameter(Mandatory)] [string] $Folder,
        [Parameter(Mandatory)] [string] $ApiKey,
        [Parameter(Mandatory)] [string] $AccessToken,
        [int] $TimeoutSeconds = 60
    )
    $iss = [initialsessionstate]::CreateDefault2()
    $iss.ImportPSModule([string[]] @($env:AHRVO_MODULE_PATH))
    $runspace = [runspacefactory]::CreateRunspace($iss)
    $runspace.Open()
    $ps = [powershell]::Create()
    try {
        $ps.Runspace = $runspace
        $runspace.SessionStateProxy.Path.SetLocation($Folder) | Out-Null
        $runspace.SessionStateProxy.SetVariable('AhrvoExampleApiKey', $ApiKey)
        $runspace.SessionStateProxy.SetVariable('AhrvoExampleAccessToken', $AccessToken)
        # Out-String formats the output as a console would, so format problems show up too.
        [void] $ps.AddScript("$script:Prelude`n& {`n$Code`n} | Out-String -Width 160")
        $async = $ps.BeginInvoke()
        if (-not $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSeconds))) {
            $ps.Stop()
            throw "The example did not finish within $TimeoutSeconds s."
        }
        $thrown = $null
        $output = try { $ps.EndInvoke($async) } catch { $thrown = $_.Exception.InnerException ?? $_.Exception; $null }
        [pscustomobject]@{
            Output   = ($output | Out-String)
            Errors   = @($ps.Streams.Error)
            Warnings = @($ps.Streams.Warning | ForEach-Object Message)
            Thrown   = $thrown
        }
    } finally {
        $ps.Dispose()
        $runspace.Dispose()
    }
}

function Get-MarkdownCodeBlock {
    <#
    .SYNOPSIS
    The fenced blocks of a markdown file whose language is one of -Language, each with its first line,
    the heading above it and its <!-- no-run: reason --> marker (on the line before the fence), if any.
    #>
    param([Parameter(Mandatory)] [string] $Path, [string[]] $Language = @('powershell', 'pwsh', 'ps1'))
    $lines = Get-Content -LiteralPath $Path
    $heading = ''; $noRun = $null; $fence = $null; $start = 0; $body = $null
    for ($i = 0; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($null -ne $fence) {
            if ($line -match '^\s*```\s*$') {
                if ($fence -in $Language) {
                    [pscustomobject]@{ Line = $start; Heading = $heading; Code = ($body -join "`n"); NoRun = $noRun }
                }
                $fence = $null; $noRun = $null
            } else { $body.Add($line) }
            continue
        }
        if ($line -match '^#+\s+(.*)$') { $heading = $Matches[1]; $noRun = $null; continue }
        if ($line -match '^\s*<!--\s*no-run\s*:?\s*(.*?)\s*-->\s*$') { $noRun = $Matches[1]; continue }
        if ($line -match '^\s*```\s*(\S*)') {
            $fence = $Matches[1].ToLowerInvariant(); $start = $i + 1
            $body = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($line.Trim()) { $noRun = $null }   # a marker belongs to the block right after it
    }
    if ($null -ne $fence) { throw "${Path}:${start}: unclosed code fence." }
}

Export-ModuleMember -Function New-ExampleSeed, Invoke-Example, Get-MarkdownCodeBlock
