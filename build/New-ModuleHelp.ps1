#requires -Version 7.2
<#
.SYNOPSIS
    Generates the module's help: MAML (<Assembly>.dll-Help.xml) for every cmdlet and
    about_*.help.txt topics, from the markdown under docs/help (format: docs/help/README.md).
.DESCRIPTION
    Imports the built module, so that each parameter's type, position, pipeline input, aliases,
    parameter sets and default value come from the real cmdlet and only the prose comes from the
    markdown. Fails (exit code 1, every problem listed) when a cmdlet has no markdown file, a
    parameter has no description, the markdown describes a parameter or cmdlet that does not
    exist, or a file does not follow the format. Run it in a fresh pwsh: it imports the module.
.EXAMPLE
    dotnet pwsh -NoProfile -File build/New-ModuleHelp.ps1 -ModulePath out/Ahrvo.PowerShell/0.2.0/Ahrvo.PowerShell.psd1
#>
[CmdletBinding()]
param(
    # The built module's manifest.
    [Parameter(Mandatory)] [string] $ModulePath,
    # The folder of <Cmdlet-Name>.md and about_*.md files.
    [string] $SourcePath = (Join-Path $PSScriptRoot '../docs/help'),
    # Where the help goes; defaults to the module folder's en-US.
    [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'HelpMarkdown.psm1') -Force

$module = Import-Module (Resolve-Path $ModulePath).Path -PassThru -Force -DisableNameChecking
if (-not $OutputPath) { $OutputPath = Join-Path $module.ModuleBase 'en-US' }
$problems = [System.Collections.Generic.List[string]]::new()

# WhatIf and Confirm are the same everywhere: described here unless a file says more.
$standardDescriptions = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}
$commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + @('UseTransaction')
# Namespaces are always passed explicitly: PowerShell turns $null into "" for .NET string arguments.
$ns = @{
    maml = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

#region Which cmdlets
$exported = @($module.ExportedCmdlets.Values | Sort-Object Name)
if ($exported.Count -eq 0) { throw "The module $ModulePath exports no cmdlets." }
# Every cmdlet class in the assembly must be exported and documented: a new cmdlet is found
# here without anyone listing it, and the build fails until it has a help file.
$assemblies = @($exported | ForEach-Object { $_.ImplementingType.Assembly } | Sort-Object FullName -Unique)
foreach ($type in $assemblies | ForEach-Object { $_.GetExportedTypes() }) {
    $attr = [System.Attribute]::GetCustomAttribute($type, [System.Management.Automation.CmdletAttribute])
    if (-not $attr -or $type.IsAbstract) { continue }
    $name = "$($attr.VerbName)-$($attr.NounName)"
    if (-not ($exported | Where-Object Name -EQ $name)) {
        $problems.Add("Cmdlet $name ($($type.FullName)) is not exported: add it to CmdletsToExport in module/Ahrvo.PowerShell.psd1.")
    }
}
#endregion

#region Read the markdown
$sources = @{}
foreach ($f in Get-ChildItem -LiteralPath $SourcePath -Filter '*.md' -File) {
    if ($f.Name -eq 'README.md' -or $f.BaseName -like 'about_*') { continue }
    $sources[$f.BaseName] = $f
}
foreach ($name in $sources.Keys) {
    if (-not ($exported | Where-Object { $_.Name -ceq $name })) { $problems.Add("$($sources[$name].Name): there is no cmdlet $name in the module (renamed or removed? a typo in the file name?).") }
}
#endregion

function Get-TypeDisplayName([type] $Type) {
    if ($Type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    if ($Type.IsArray) { return (Get-TypeDisplayName $Type.GetElementType()) + '[]' }
    $nullable = [Nullable]::GetUnderlyingType($Type)
    if ($nullable) { return Get-TypeDisplayName $nullable }
    return $Type.Name
}

function Get-DefaultValue($Command, [string] $Parameter, $Instance) {
    # Read from a fresh instance of the cmdlet class: the property initialisers are the defaults.
    if ($null -eq $Instance) { return 'None' }
    $prop = $Command.ImplementingType.GetProperty($Parameter)
    if (-not $prop) { return 'None' }
    $value = $prop.GetValue($Instance)
    if ($value -is [System.Management.Automation.SwitchParameter]) { return ([bool] $value).ToString() }
    if ($null -eq $value) { return 'None' }
    if ($value -is [array] -and $value.Count -eq 0) { return 'None' }
    if ($value -is [IFormattable]) { return $value.ToString($null, [cultureinfo]::InvariantCulture) }
    return "$value"
}

function Get-PipelineText($Sets) {
    $kinds = @()
    if ($Sets | Where-Object ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($Sets | Where-Object ValueFromPipeline) { $kinds += 'ByValue' }
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

function Write-Paragraphs([System.Xml.XmlWriter] $W, [object[]] $Blocks) {
    foreach ($b in @($Blocks)) {
        if (-not $b) { continue }
        # Get-Help indents every line of a paragraph itself and trims its start, so code goes in as is.
        $text = if ($b.Kind -eq 'Code') { $b.Text } else { $b.Marker + $b.Text }
        $W.WriteElementString('maml', 'para', $ns.maml, $text)
    }
}

function Write-Description([System.Xml.XmlWriter] $W, [object[]] $Blocks) {
    $W.WriteStartElement('maml', 'description', $ns.maml)
    Write-Paragraphs $W $Blocks
    $W.WriteEndElement()
}

function Write-Parameter([System.Xml.XmlWriter] $W, $Info, [bool] $InSyntax) {
    $W.WriteStartElement('command', 'parameter', $ns.command)
    $W.WriteAttributeString('required', $Info.Required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', 'true')
    $W.WriteAttributeString('globbing', $Info.Globbing.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $Info.PipelineInput)
    $W.WriteAttributeString('position', $Info.Position)
    $W.WriteAttributeString('aliases', $Info.Aliases)
    $W.WriteElementString('maml', 'name', $ns.maml, $Info.Name)
    if (-not $InSyntax) { Write-Description $W $Info.Description }
    if ($Info.ValidValues) {
        $W.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($v in $Info.ValidValues) {
            $W.WriteStartElement('command', 'parameterValue', $ns.command)
            $W.WriteAttributeString('required', 'false'); $W.WriteAttributeString('command', 'variableLength', $ns.command, 'false')
            $W.WriteString($v); $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }
    if (-not ($InSyntax -and $Info.IsSwitch)) {
        $W.WriteStartElement('command', 'parameterValue', $ns.command)
        $W.WriteAttributeString('required', (-not $Info.IsSwitch).ToString().ToLowerInvariant())
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($Info.TypeName); $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $ns.dev)
    $W.WriteElementString('maml', 'name', $ns.maml, $Info.TypeFullName)
    $W.WriteElementString('maml', 'uri', $ns.maml, '')
    $W.WriteEndElement()
    $W.WriteElementString('dev', 'defaultValue', $ns.dev, $Info.DefaultValue)
    $W.WriteEndElement()
}

function Write-TypeList([System.Xml.XmlWriter] $W, [string] $ListName, [string] $ItemName, $Items) {
    $W.WriteStartElement('command', $ListName, $ns.command)
    foreach ($i in $Items) {
        $W.WriteStartElement('command', $ItemName, $ns.command)
        $W.WriteStartElement('dev', 'type', $ns.dev)
        $W.WriteElementString('maml', 'name', $ns.maml, $i.TypeName)
        $W.WriteEndElement()
        Write-Description $W $i.Description
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
}

$docs = [System.Collections.Generic.List[object]]::new()
foreach ($command in $exported) {
    $source = $sources[$command.Name]
    if (-not $source) {
        $problems.Add("Cmdlet $($command.Name) has no help source: write docs/help/$($command.Name).md (format: docs/help/README.md).")
        continue
    }
    $md = Read-CmdletHelpMarkdown -Path $source.FullName
    foreach ($p in $md.Problems) { $problems.Add($p) }

    $instance = try { [Activator]::CreateInstance($command.ImplementingType) } catch { $null }
    $real = @($command.Parameters.Values | Where-Object { $_.Name -notin $commonParameters })
    $described = @{}
    foreach ($p in $md.Parameters) {
        if ($described.ContainsKey($p.Name)) { $problems.Add("$($source.Name):$($p.Line): -$($p.Name) is described twice.") }
        $described[$p.Name] = $p
        $match = $real | Where-Object Name -EQ $p.Name
        if (-not $match) { $problems.Add("$($source.Name):$($p.Line): -$($p.Name) is described but $($command.Name) has no such parameter.") }
        elseif ($match.Name -cne $p.Name) { $problems.Add("$($source.Name):$($p.Line): write -$($match.Name), as the cmdlet spells it (not -$($p.Name)).") }
        if (-not (Get-HelpBlockText $p.Description) -and -not $standardDescriptions.ContainsKey($p.Name)) { $problems.Add("$($source.Name):$($p.Line): -$($p.Name) has no description.") }
    }
    if ($real.Count -gt 0 -and -not $md.HasParametersSection) { $problems.Add("$($source.Name): the '## Parameters' section is missing ($($command.Name) has $($real.Count) parameter(s)).") }

    # Per parameter, the facts PowerShell itself uses to bind it.
    $infos = [ordered]@{}
    # In the markdown's order, then any the markdown misses (reported above).
    $names = [System.Collections.Generic.List[string]]::new()
    $realNames = @($real | ForEach-Object Name)
    foreach ($n in @($md.Parameters | ForEach-Object Name) + $realNames) { if ($n -and -not $names.Contains($n) -and ($realNames -contains $n)) { $names.Add($n) } }
    foreach ($p in $names | ForEach-Object { $n = $_; $real | Where-Object Name -EQ $n }) {
        $doc = $described[$p.Name]
        $blocks = if ($doc -and (Get-HelpBlockText $doc.Description)) { $doc.Description } elseif ($standardDescriptions.ContainsKey($p.Name)) { ConvertTo-HelpBlock @($standardDescriptions[$p.Name]) } else { $null }
        if (-not $blocks) {
            if (-not $doc) { $problems.Add("$($source.Name): parameter -$($p.Name) of $($command.Name) is not described: add a '### -$($p.Name)' section under '## Parameters'.") }
            continue
        }
        $sets = @($p.ParameterSets.Values)
        $positions = @($sets | ForEach-Object Position | Sort-Object -Unique)
        $validate = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
        $infos[$p.Name] = [pscustomobject]@{
            Name          = $p.Name
            Description   = $blocks
            Required      = -not ($sets | Where-Object { -not $_.IsMandatory })
            Position      = if ($positions.Count -eq 1 -and $positions[0] -ge 0) { "$($positions[0])" } else { 'named' }
            PipelineInput = Get-PipelineText $sets
            Aliases       = if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'None' }
            Globbing      = [bool] ($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            IsSwitch      = $p.SwitchParameter
            TypeName      = Get-TypeDisplayName $p.ParameterType
            TypeFullName  = $p.ParameterType.FullName
            ValidValues   = if ($validate) { @($validate.ValidValues) } else { @() }
            # A mandatory parameter has no default worth showing (Amount's 0 would mislead).
            DefaultValue  = if ($doc -and $doc.DefaultValue) { $doc.DefaultValue } elseif (-not ($sets | Where-Object { -not $_.IsMandatory })) { 'None' } elseif ($p.SwitchParameter -and -not $command.ImplementingType.GetProperty($p.Name)) { 'False' } else { Get-DefaultValue $command $p.Name $instance }
        }
    }

    # Outputs must name what [OutputType] declares (None is always allowed); Inputs must agree
    # with whether any parameter takes pipeline input.
    $declared = @($command.OutputType | ForEach-Object { if ($_.Type) { $_.Type } else { $_.Name } } | ForEach-Object { if ($_ -is [type]) { $_.FullName } else { "$_" } } | Where-Object { $_ -ne 'System.Void' })
    $listed = @($md.Outputs | ForEach-Object TypeName)
    foreach ($d in $declared) { if ($listed -notcontains $d) { $problems.Add("$($source.Name): '## Outputs' must list ### $d (declared by [OutputType]).") } }
    foreach ($l in $listed) { if ($l -ne 'None' -and $declared -notcontains $l) { $problems.Add("$($source.Name): '## Outputs' lists $l, which $($command.Name) does not declare in [OutputType]; use the full type name.") } }
    $takesPipeline = [bool] ($real | Where-Object { $_.ParameterSets.Values | Where-Object { $_.ValueFromPipeline -or $_.ValueFromPipelineByPropertyName } })
    $inputNames = @($md.Inputs | ForEach-Object TypeName)
    if ($takesPipeline -and ($inputNames.Count -eq 0 -or $inputNames -contains 'None')) { $problems.Add("$($source.Name): '## Inputs' must name what $($command.Name) takes from the pipeline, not None.") }
    if (-not $takesPipeline -and $md.Inputs.Count -gt 0 -and ($inputNames.Count -ne 1 -or $inputNames[0] -ne 'None')) { $problems.Add("$($source.Name): $($command.Name) takes no pipeline input: '## Inputs' must be '### None'.") }
    if ($md.Examples.Count -lt 2) { $problems.Add("$($source.Name): at least two examples are needed, found $($md.Examples.Count).") }
    foreach ($link in $md.Links) {
        if (-not $link.Uri -or $link.Uri -like '*.md') {
            $target = if ($link.Uri) { [IO.Path]::GetFileNameWithoutExtension($link.Uri) } else { $link.Text }
            if (-not (Test-Path -LiteralPath (Join-Path $SourcePath "$target.md"))) { $problems.Add("$($source.Name): related link '$($link.Text)' points at no help topic (docs/help/$target.md).") }
        }
    }
    $docs.Add([pscustomobject]@{ Command = $command; Markdown = $md; Parameters = $infos })
}

# about topics.
$abouts = @(foreach ($f in Get-ChildItem -LiteralPath $SourcePath -Filter 'about_*.md' -File) {
        $about = ConvertTo-AboutHelpText -Path $f.FullName
        foreach ($p in $about.Problems) { $problems.Add($p) }
        $about
    })

if ($problems.Count -gt 0) {
    $message = "The help cannot be generated; fix the sources under $SourcePath (format: docs/help/README.md):`n" + (($problems | ForEach-Object { "  - $_" }) -join "`n")
    [Console]::Error.WriteLine($message)
    exit 1
}

#region Write MAML, one file per cmdlet assembly
New-Item -ItemType Directory -Force $OutputPath | Out-Null
$written = @()
foreach ($group in $docs | Group-Object { $_.Command.HelpFile }) {
    $path = Join-Path $OutputPath $group.Name
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; IndentChars = '  '; Encoding = [System.Text.UTF8Encoding]::new($false); NewLineChars = "`n" }
    $w = [System.Xml.XmlWriter]::Create($path, $settings)
    try {
        $w.WriteStartDocument()
        $w.WriteComment(' Generated by build/New-ModuleHelp.ps1 from docs/help/*.md. Do not edit: edit the markdown. ')
        $w.WriteStartElement('helpItems', 'http://msh')
        $w.WriteAttributeString('schema', 'maml')
        foreach ($doc in $group.Group | Sort-Object { $_.Command.Name }) {
            $c = $doc.Command; $md = $doc.Markdown
            $w.WriteStartElement('command', 'command', $ns.command)
            foreach ($p in 'maml', 'dev') { $w.WriteAttributeString('xmlns', $p, 'http://www.w3.org/2000/xmlns/', $ns[$p]) }

            $w.WriteStartElement('command', 'details', $ns.command)
            $w.WriteElementString('command', 'name', $ns.command, $c.Name)
            $w.WriteElementString('command', 'verb', $ns.command, $c.Verb)
            $w.WriteElementString('command', 'noun', $ns.command, $c.Noun)
            Write-Description $w (ConvertTo-HelpBlock @($md.Synopsis))
            $w.WriteEndElement()

            Write-Description $w $md.Description

            # Syntax: one item per parameter set, the default set first, positional parameters first.
            $w.WriteStartElement('command', 'syntax', $ns.command)
            $sets = @($c.ParameterSets | Sort-Object { -not $_.IsDefault }, Name)
            foreach ($set in $sets) {
                $w.WriteStartElement('command', 'syntaxItem', $ns.command)
                $w.WriteElementString('maml', 'name', $ns.maml, $c.Name)
                $inSet = @($set.Parameters | Where-Object { $_.Name -notin $commonParameters })
                $sorted = @($inSet | Sort-Object { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } }, { -not $_.IsMandatory }, { [array]::IndexOf(@($doc.Parameters.Keys), $_.Name) })
                foreach ($sp in $sorted) {
                    $base = $doc.Parameters[$sp.Name]
                    Write-Parameter $w ([pscustomobject]@{
                            Name = $base.Name; Description = $base.Description; Required = $sp.IsMandatory
                            Position = if ($sp.Position -ge 0) { "$($sp.Position)" } else { 'named' }
                            PipelineInput = Get-PipelineText @($sp); Aliases = $base.Aliases; Globbing = $base.Globbing; IsSwitch = $base.IsSwitch
                            TypeName = $base.TypeName; TypeFullName = $base.TypeFullName; ValidValues = $base.ValidValues; DefaultValue = $base.DefaultValue
                        }) $true
                }
                $w.WriteEndElement()
            }
            $w.WriteEndElement()

            $w.WriteStartElement('command', 'parameters', $ns.command)
            foreach ($info in $doc.Parameters.Values) { Write-Parameter $w $info $false }
            $w.WriteEndElement()

            Write-TypeList $w 'inputTypes' 'inputType' $md.Inputs
            Write-TypeList $w 'returnValues' 'returnValue' $md.Outputs

            if ($md.Notes) {
                $w.WriteStartElement('maml', 'alertSet', $ns.maml)
                $w.WriteStartElement('maml', 'alert', $ns.maml)
                Write-Paragraphs $w $md.Notes
                $w.WriteEndElement(); $w.WriteEndElement()
            }

            $w.WriteStartElement('command', 'examples', $ns.command)
            foreach ($e in $md.Examples) {
                $w.WriteStartElement('command', 'example', $ns.command)
                $title = if ($e.Title -match '^Example \d+') { $e.Title } else { "Example $($e.Number): $($e.Title)" }
                $w.WriteElementString('maml', 'title', $ns.maml, "--------- $title ---------")
                $w.WriteElementString('dev', 'code', $ns.dev, $e.Code)
                $w.WriteStartElement('dev', 'remarks', $ns.dev)
                if ($e.Output) { Write-Paragraphs $w @([pscustomobject]@{ Kind = 'Code'; Text = $e.Output; Marker = '' }) }
                Write-Paragraphs $w $e.Remarks
                # An empty paragraph: a blank line before the next example's title.
                $w.WriteElementString('maml', 'para', $ns.maml, '')
                $w.WriteEndElement()
                $w.WriteEndElement()
            }
            $w.WriteEndElement()

            $w.WriteStartElement('command', 'relatedLinks', $ns.command)
            foreach ($link in $md.Links) {
                $w.WriteStartElement('maml', 'navigationLink', $ns.maml)
                $w.WriteElementString('maml', 'linkText', $ns.maml, $link.Text)
                $w.WriteElementString('maml', 'uri', $ns.maml, $(if ($link.Uri -match '^[a-z]+://') { $link.Uri } else { '' }))
                $w.WriteEndElement()
            }
            $w.WriteEndElement()

            $w.WriteEndElement() # command:command
        }
        $w.WriteEndElement()
        $w.WriteEndDocument()
    } finally {
        $w.Dispose()
    }
    # Proof that the file is well formed before anything ships it.
    [xml] $null = Get-Content -LiteralPath $path -Raw
    $written += $path
}
foreach ($about in $abouts) {
    $path = Join-Path $OutputPath "$($about.Name).help.txt"
    [System.IO.File]::WriteAllText($path, $about.Text, [System.Text.UTF8Encoding]::new($false))
    $written += $path
}
#endregion

$exampleCount = ($docs | ForEach-Object { $_.Markdown.Examples.Count } | Measure-Object -Sum).Sum
Write-Host "Help: $($docs.Count) cmdlets, $exampleCount examples, $($abouts.Count) about topic(s) -> $OutputPath"
