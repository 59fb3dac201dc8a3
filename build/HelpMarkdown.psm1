#requires -Version 7.2
<#
    Reads the help sources under docs/help (format: docs/help/README.md). Used by
    build/New-ModuleHelp.ps1, which turns them into MAML and about_*.help.txt, and by
    tests/pester/HelpExamples.Tests.ps1, which runs their examples. Pure text work: no module is
    loaded here, so the parser can be tested and reused without a build.
#>
Set-StrictMode -Version Latest

# The only H2 sections a cmdlet file may have, in their canonical spelling.
$script:CmdletSections = @('Synopsis', 'Description', 'Parameters', 'Inputs', 'Outputs', 'Examples', 'Notes', 'Related links')

function ConvertTo-HelpInlineText {
    <#
    .SYNOPSIS
        Markdown inline formatting to plain text: help is read in a terminal, where ** and ` are noise.
    #>
    param([AllowEmptyString()] [string] $Text)
    # [text](url): the text alone for links between help topics (.md or empty), else "text (url)".
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)]*)\)', {
            param($m)
            $label = $m.Groups[1].Value; $target = $m.Groups[2].Value.Trim()
            if (-not $target -or $target -notmatch '^[a-z]+://' -or $target -eq $label) { $label } else { "$label ($target)" }
        })
    # Code spans are taken literally (`***REDACTED***` keeps its stars); bold markers go elsewhere.
    $parts = [regex]::Split($Text, '(`[^`]+`)')
    return (@(foreach ($part in $parts) {
                if ($part -match '^`([^`]+)`$') { $Matches[1] } else { [regex]::Replace($part, '\*\*([^*]+)\*\*', '$1') }
            }) -join '')
}

function ConvertTo-HelpBlock {
    <#
    .SYNOPSIS
        Splits markdown body lines into blocks: paragraphs (soft-wrapped lines joined), list
        items (one block each) and verbatim code/table blocks (line breaks kept).
    .OUTPUTS
        [pscustomobject] @{ Kind = 'Text' | 'ListItem' | 'Code'; Text = string; Marker = '- ' or '1. ' }
    #>
    param([AllowEmptyCollection()] [string[]] $Lines)
    $blocks = [System.Collections.Generic.List[object]]::new()
    $current = $null
    $inFence = $false; $inComment = $false
    $flush = {
        if ($null -ne $current) {
            $text = if ($current.Kind -eq 'Code') { ($current.Lines -join "`n").TrimEnd() } else { ConvertTo-HelpInlineText (($current.Lines | ForEach-Object Trim) -join ' ') }
            if ($text) { $blocks.Add([pscustomobject]@{ Kind = $current.Kind; Text = $text; Marker = $current.Marker }) }
        }
        Set-Variable -Name current -Value $null -Scope 1
    }
    foreach ($line in $Lines) {
        if ($inFence) {
            if ($line -match '^\s*(```|~~~)\s*$') { $inFence = $false; & $flush }
            else { $current.Lines.Add($line) }
            continue
        }
        if ($inComment) { if ($line -match '-->') { $inComment = $false }; continue }
        $stripped = [regex]::Replace($line, '<!--.*?-->', '')
        if ($stripped -match '<!--') { $inComment = $true; $stripped = $stripped.Substring(0, $stripped.IndexOf('<!--')) }
        if ($stripped -ne $line -and -not $stripped.Trim()) { continue }   # a line that held only a comment
        $line = $stripped
        if ($line -match '^\s*(```|~~~)') {
            & $flush
            $inFence = $true
            $current = @{ Kind = 'Code'; Lines = [System.Collections.Generic.List[string]]::new(); Marker = '' }
            continue
        }
        if (-not $line.Trim()) { & $flush; continue }
        if ($line -match '^\s*\|') {
            # A table stays as typed: aligned columns read well in a terminal.
            if ($null -eq $current -or $current.Kind -ne 'Code') { & $flush; $current = @{ Kind = 'Code'; Lines = [System.Collections.Generic.List[string]]::new(); Marker = '' } }
            $current.Lines.Add((ConvertTo-HelpInlineText $line.Trim()))
            continue
        }
        # A list item; inside a paragraph only a bullet or "1." starts one (as in CommonMark), so a
        # wrapped line that happens to begin with "64. " stays in its paragraph.
        if ($line -match '^\s{0,3}([-*+]|\d{1,9}\.)\s+(.*)$' -and ($null -eq $current -or $current.Kind -ne 'Text' -or $Matches[1] -notmatch '^\d' -or $Matches[1] -eq '1.')) {
            & $flush
            $marker = if ($Matches[1] -match '\d') { "$($Matches[1]) " } else { '- ' }
            $current = @{ Kind = 'ListItem'; Lines = [System.Collections.Generic.List[string]]::new(); Marker = $marker }
            $current.Lines.Add($Matches[2])
            continue
        }
        if ($null -ne $current -and $current.Kind -eq 'Code') { & $flush }
        if ($null -eq $current) { $current = @{ Kind = 'Text'; Lines = [System.Collections.Generic.List[string]]::new(); Marker = '' } }
        $current.Lines.Add($line)
    }
    & $flush
    return , $blocks.ToArray()
}

function Get-HelpBlockText {
    <# The blocks of a section as one plain string, list markers included (for checks and tests). #>
    param([object[]] $Blocks)
    (@($Blocks) | Where-Object { $_ } | ForEach-Object { $_.Marker + $_.Text }) -join "`n`n"
}

function Split-MarkdownSection {
    <# Splits lines at headings of one level (outside code fences): @{ Title; Line; Body = string[] }. #>
    param([string[]] $Lines, [int] $Level, [int] $FirstLine = 1)
    $sections = [System.Collections.Generic.List[object]]::new()
    $preamble = [System.Collections.Generic.List[string]]::new()
    $current = $null
    $inFence = $false
    $pattern = '^' + ('#' * $Level) + '\s+(.+?)\s*#*\s*$'
    for ($i = 0; $i -lt $Lines.Count; $i++) {
        $line = $Lines[$i]
        if ($line -match '^\s*(```|~~~)') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match $pattern) {
            $current = [pscustomobject]@{ Title = $Matches[1]; Line = $FirstLine + $i; Body = [System.Collections.Generic.List[string]]::new() }
            $sections.Add($current)
            continue
        }
        if ($null -eq $current) { $preamble.Add($line) } else { $current.Body.Add($line) }
    }
    [pscustomobject]@{ Preamble = $preamble.ToArray(); Sections = $sections.ToArray() }
}

function Read-CmdletHelpMarkdown {
    <#
    .SYNOPSIS
        Parses one docs/help/<Cmdlet-Name>.md file.
    .OUTPUTS
        An object with Name, Path, Synopsis, Description, Parameters, Inputs, Outputs, Examples,
        Notes, Links and Problems (format errors, each "file:line: message"; empty when valid).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Path)

    $file = Split-Path $Path -Leaf
    $problems = [System.Collections.Generic.List[string]]::new()
    $lines = [string[]] @(Get-Content -LiteralPath $Path -Encoding utf8)
    $top = Split-MarkdownSection -Lines $lines -Level 1
    $name = [IO.Path]::GetFileNameWithoutExtension($Path)
    $h1 = @($top.Sections)
    if ($h1.Count -ne 1) { $problems.Add("${file}: expected exactly one '# $name' title, found $($h1.Count).") }
    elseif ($h1[0].Title -cne $name) { $problems.Add("${file}:$($h1[0].Line): the title '# $($h1[0].Title)' must be the file name, '# $name'.") }
    $bodyLines = if ($h1.Count -ge 1) { [string[]] $h1[0].Body } else { $lines }
    $bodyStart = if ($h1.Count -ge 1) { $h1[0].Line + 1 } else { 1 }

    $result = [ordered]@{
        Name = $name; Path = $Path
        Synopsis = ''; Description = @(); Parameters = @(); Inputs = @(); Outputs = @(); Examples = @(); Notes = @(); Links = @()
        Problems = $problems
    }
    $seen = @{}
    foreach ($section in (Split-MarkdownSection -Lines $bodyLines -Level 2 -FirstLine $bodyStart).Sections) {
        $canonical = $script:CmdletSections | Where-Object { $_ -eq $section.Title } | Select-Object -First 1
        if (-not $canonical) { $problems.Add("${file}:$($section.Line): unknown section '## $($section.Title)'; use $($script:CmdletSections -join ', ').") ; continue }
        if ($seen[$canonical]) { $problems.Add("${file}:$($section.Line): '## $canonical' appears twice."); continue }
        $seen[$canonical] = $true
        $body = [string[]] $section.Body
        switch ($canonical) {
            'Synopsis' {
                $blocks = ConvertTo-HelpBlock $body
                if ($blocks.Count -gt 1) { $problems.Add("${file}:$($section.Line): the synopsis must be one paragraph.") }
                $result.Synopsis = Get-HelpBlockText $blocks
            }
            'Description' { $result.Description = ConvertTo-HelpBlock $body }
            'Notes' { $result.Notes = ConvertTo-HelpBlock $body }
            'Parameters' {
                $split = Split-MarkdownSection -Lines $body -Level 3 -FirstLine ($section.Line + 1)
                $result.Parameters = @(foreach ($p in $split.Sections) {
                        if ($p.Title -notmatch '^-([A-Za-z][A-Za-z0-9_]*)$') { $problems.Add("${file}:$($p.Line): a parameter heading must be '### -Name', not '### $($p.Title)'."); continue }
                        $pname = $Matches[1]
                        # An optional "Default value: ..." line overrides the default read from the cmdlet,
                        # for defaults that are not a constant (an environment variable, the session's connection).
                        $default = $null
                        $text = [System.Collections.Generic.List[string]]::new()
                        foreach ($l in $p.Body) { if ($l -match '^\s*Default value:\s*(.+?)\s*$') { $default = ConvertTo-HelpInlineText $Matches[1] } else { $text.Add($l) } }
                        [pscustomobject]@{ Name = $pname; Line = $p.Line; Description = ConvertTo-HelpBlock $text.ToArray(); DefaultValue = $default }
                    })
            }
            { $_ -in 'Inputs', 'Outputs' } {
                $split = Split-MarkdownSection -Lines $body -Level 3 -FirstLine ($section.Line + 1)
                $items = @(foreach ($t in $split.Sections) { [pscustomobject]@{ TypeName = (ConvertTo-HelpInlineText $t.Title); Line = $t.Line; Description = ConvertTo-HelpBlock ([string[]] $t.Body) } })
                if ($items.Count -eq 0) { $problems.Add("${file}:$($section.Line): '## $canonical' needs at least one '### TypeName' (or '### None').") }
                foreach ($i in $items) { if (-not (Get-HelpBlockText $i.Description)) { $problems.Add("${file}:$($i.Line): '### $($i.TypeName)' under $canonical has no description.") } }
                $result[$canonical] = $items
            }
            'Examples' {
                $split = Split-MarkdownSection -Lines $body -Level 3 -FirstLine ($section.Line + 1)
                $n = 0
                $result.Examples = @(foreach ($e in $split.Sections) {
                        $n++
                        $example = Read-ExampleSection -Section $e -File $file -Number $n
                        foreach ($p in $example.Problems) { $problems.Add($p) }
                        $example
                    })
            }
            'Related links' {
                $result.Links = @(foreach ($l in $body) {
                        if (-not $l.Trim()) { continue }
                        if ($l -match '^\s*[-*+]\s+\[([^\]]+)\]\(([^)]*)\)\s*$') { [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2].Trim() } }
                        elseif ($l -match '^\s*[-*+]\s+([A-Za-z][\w-]*)\s*$') { [pscustomobject]@{ Text = $Matches[1]; Uri = '' } }
                        else { $problems.Add("${file}: a related link must be '- [Text](uri)' or '- Topic-Name', not '$($l.Trim())'.") }
                    })
            }
        }
    }
    foreach ($required in 'Synopsis', 'Description', 'Inputs', 'Outputs', 'Examples') {
        if (-not $seen[$required]) { $problems.Add("${file}: the '## $required' section is missing.") }
    }
    if ($seen['Synopsis'] -and -not $result.Synopsis) { $problems.Add("${file}: the synopsis is empty.") }
    if ($seen['Description'] -and -not (Get-HelpBlockText $result.Description)) { $problems.Add("${file}: the description is empty.") }
    $result.HasParametersSection = [bool] $seen['Parameters']
    return [pscustomobject] $result
}

function Read-ExampleSection {
    param($Section, [string] $File, [int] $Number)
    $problems = [System.Collections.Generic.List[string]]::new()
    $title = $Section.Title
    $code = $null; $output = $null; $noRun = $null
    $rest = [System.Collections.Generic.List[string]]::new()
    $fence = $null; $fenceLines = $null
    foreach ($line in $Section.Body) {
        if ($null -ne $fence) {
            if ($line -match '^\s*(```|~~~)\s*$') {
                $text = ($fenceLines -join "`n").TrimEnd()
                switch -Regex ($fence) {
                    '^(powershell|pwsh|ps1|ps)$' { if ($null -ne $code) { $problems.Add("${File}:$($Section.Line): example '$title' has more than one powershell block; put the whole example in one.") } else { $code = $text } }
                    '^(output|text|console)$' { $output = $text }
                    default { $problems.Add("${File}:$($Section.Line): example '$title' has a ```$fence block; use ```powershell for code and ```output for sample output.") }
                }
                $fence = $null
            } else { $fenceLines.Add($line) }
            continue
        }
        if ($line -match '^\s*(```|~~~)\s*(\S*)') { $fence = $Matches[2].ToLowerInvariant(); $fenceLines = [System.Collections.Generic.List[string]]::new(); continue }
        if ($line -match '<!--\s*no-run\s*:?\s*(.*?)\s*-->') {
            $noRun = $Matches[1]
            if (-not $noRun) { $problems.Add("${File}:$($Section.Line): example '$title': <!-- no-run: ... --> needs a reason.") }
            continue
        }
        $rest.Add($line)
    }
    if ($null -ne $fence) { $problems.Add("${File}:$($Section.Line): example '$title' has an unclosed code fence.") }
    if (-not $code) { $problems.Add("${File}:$($Section.Line): example '$title' has no ```powershell block.") }
    $remarks = ConvertTo-HelpBlock $rest.ToArray()
    if (-not (Get-HelpBlockText $remarks)) { $problems.Add("${File}:$($Section.Line): example '$title' needs a short explanation after its code.") }
    [pscustomobject]@{
        Number = $Number; Title = $title; Line = $Section.Line
        Code = $code; Output = $output; Remarks = $remarks; NoRun = $noRun
        Problems = $problems
    }
}

function ConvertTo-AboutHelpText {
    <#
    .SYNOPSIS
        Turns docs/help/about_*.md into the plain text of an about_*.help.txt topic, in the layout
        PowerShell's own about topics use: headings in capitals at the margin, text indented four
        spaces and wrapped at 80 columns, code indented eight and never wrapped.
    .DESCRIPTION
        '# about_Name' must be the first heading; '## Short description' (one paragraph) and
        '## Long description' are required, further '##' and '###' sections are free.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Path, [int] $Width = 80)

    $file = Split-Path $Path -Leaf
    $name = [IO.Path]::GetFileNameWithoutExtension($Path)
    $lines = [string[]] @(Get-Content -LiteralPath $Path -Encoding utf8)
    $problems = [System.Collections.Generic.List[string]]::new()
    $top = Split-MarkdownSection -Lines $lines -Level 1
    if (@($top.Sections).Count -ne 1 -or $top.Sections[0].Title -cne $name) { $problems.Add("${file}: the file must hold exactly one title, '# $name'.") }
    $sb = [System.Text.StringBuilder]::new()
    [void] $sb.AppendLine('TOPIC').AppendLine("    $name").AppendLine()
    $h2 = if (@($top.Sections).Count -ge 1) { @((Split-MarkdownSection -Lines ([string[]] $top.Sections[0].Body) -Level 2).Sections) } else { @() }
    $titles = @($h2 | ForEach-Object Title)
    foreach ($needed in 'Short description', 'Long description') {
        if ($titles -notcontains $needed) { $problems.Add("${file}: the '## $needed' section is missing.") }
    }
    foreach ($section in $h2) {
        [void] $sb.AppendLine($section.Title.ToUpperInvariant())
        $sub = Split-MarkdownSection -Lines ([string[]] $section.Body) -Level 3
        if ($section.Title -eq 'Short description' -and (ConvertTo-HelpBlock $sub.Preamble).Count -ne 1) { $problems.Add("${file}: the short description must be one paragraph.") }
        Add-AboutBlock -Builder $sb -Blocks (ConvertTo-HelpBlock $sub.Preamble) -Indent 4 -Width $Width
        foreach ($s in $sub.Sections) {
            [void] $sb.AppendLine("    $($s.Title)").AppendLine('    ' + ('-' * $s.Title.Length))
            Add-AboutBlock -Builder $sb -Blocks (ConvertTo-HelpBlock ([string[]] $s.Body)) -Indent 4 -Width $Width
        }
    }
    [pscustomobject]@{ Name = $name; Text = $sb.ToString().TrimEnd() + "`n"; Problems = $problems }
}

function Add-AboutBlock {
    param([System.Text.StringBuilder] $Builder, [object[]] $Blocks, [int] $Indent, [int] $Width)
    $pad = ' ' * $Indent
    for ($i = 0; $i -lt $Blocks.Count; $i++) {
        $b = $Blocks[$i]
        switch ($b.Kind) {
            'Code' { foreach ($l in $b.Text -split "`n") { [void] $Builder.AppendLine(($pad + '    ' + $l).TrimEnd()) } }
            'ListItem' { foreach ($l in (Format-WrappedText -Text $b.Text -Width ($Width - $Indent - $b.Marker.Length) -FirstPrefix ($pad + $b.Marker) -Prefix ($pad + (' ' * $b.Marker.Length)))) { [void] $Builder.AppendLine($l) } }
            default { foreach ($l in (Format-WrappedText -Text $b.Text -Width ($Width - $Indent) -FirstPrefix $pad -Prefix $pad)) { [void] $Builder.AppendLine($l) } }
        }
        # Items of one list stay together; a blank line ends the list and every other block.
        if (-not ($b.Kind -eq 'ListItem' -and $i + 1 -lt $Blocks.Count -and $Blocks[$i + 1].Kind -eq 'ListItem')) { [void] $Builder.AppendLine() }
    }
}

function Format-WrappedText {
    param([string] $Text, [int] $Width, [string] $FirstPrefix, [string] $Prefix)
    $line = ''; $lead = $FirstPrefix
    foreach ($word in ($Text -split '\s+' | Where-Object { $_ })) {
        if ($line -and ($line.Length + 1 + $word.Length) -gt $Width) { $lead + $line; $line = $word; $lead = $Prefix }
        elseif ($line) { $line += ' ' + $word }
        else { $line = $word }
    }
    if ($line) { $lead + $line }
}

Export-ModuleMember -Function Read-CmdletHelpMarkdown, ConvertTo-AboutHelpText, ConvertTo-HelpBlock, ConvertTo-HelpInlineText, Get-HelpBlockText
