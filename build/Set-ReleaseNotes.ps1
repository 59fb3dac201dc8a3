#requires -Version 7.2
<#
.SYNOPSIS
    Stamps a built module manifest's PSData.ReleaseNotes with the CHANGELOG.md section of its version.
.DESCRIPTION
    CHANGELOG.md (Keep a Changelog) is the one place release notes are written. The section headed
    "## [<Version>]" becomes ReleaseNotes; when there is none (a version bumped before its changelog
    entry) the newest released section is used, with a warning. Only the built copy of the manifest
    is changed: module/Ahrvo.PowerShell.psd1 keeps its placeholder.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ManifestPath,
    [Parameter(Mandatory)] [string] $ChangelogPath,
    [Parameter(Mandatory)] [string] $Version
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-ChangelogSection([string] $Text, [string] $Version) {
    # Sections start at "## [x.y.z]" (optionally "- date") and run to the next "## " or the link list.
    $sections = [regex]::Matches($Text, '(?ms)^## \[(?<v>[^\]]+)\](?<date>[^\r\n]*)\r?\n(?<body>.*?)(?=^## |^\[[^\]]+\]:|\z)')
    $released = @($sections | Where-Object { $_.Groups['v'].Value -ne 'Unreleased' })
    $match = $released | Where-Object { $_.Groups['v'].Value -eq $Version } | Select-Object -First 1
    if (-not $match) {
        $match = $released | Select-Object -First 1
        if (-not $match) { return $null }
        Write-Warning "CHANGELOG.md has no section for $Version; using its newest, [$($match.Groups['v'].Value)]."
    }
    # "0.1.0 - 2026-11-25", then the section's text.
    "$($match.Groups['v'].Value)$($match.Groups['date'].Value.TrimEnd())`n`n$($match.Groups['body'].Value.Trim())"
}

$notes = Get-ChangelogSection (Get-Content -LiteralPath $ChangelogPath -Raw) $Version
if (-not $notes) {
    Write-Warning "CHANGELOG.md has no released section; ReleaseNotes left as they are."
    return
}
$manifest = Get-Content -LiteralPath $ManifestPath -Raw
$pattern = "ReleaseNotes(\s*)=\s*'(?:[^']|'')*'"
if ($manifest -notmatch $pattern) { throw "$ManifestPath has no single-quoted ReleaseNotes entry to replace." }
# A single-quoted psd1 string: quotes are doubled, nothing else is special. A MatchEvaluator keeps
# '$' in the notes literal.
$quoted = "'" + ($notes -replace "'", "''") + "'"
$manifest = [regex]::Replace($manifest, $pattern, { param($m) "ReleaseNotes$($m.Groups[1].Value)= $quoted" }, 'None')
Set-Content -LiteralPath $ManifestPath -Value $manifest -NoNewline
