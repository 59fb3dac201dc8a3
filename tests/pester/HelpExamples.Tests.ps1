# Every cmdlet's Get-Help is complete, and every example in it runs against the emulator, so no
# example in the help is broken. Examples come from the shipped help (what users read and copy);
# the markdown sources under docs/help only supply the <!-- no-run: reason --> opt-outs.
BeforeDiscovery {
    Import-Module $env:AHRVO_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot '../../build/HelpMarkdown.psm1') -Force
    $docs = Join-Path $PSScriptRoot '../../docs/help'
    $module = Get-Module Ahrvo.PowerShell
    $script:cmdlets = @($module.ExportedCmdlets.Keys | Sort-Object | ForEach-Object { @{ Name = $_ } })
    $script:examples = foreach ($c in $cmdlets) {
        $shipped = @((Get-Help $c.Name -Full).examples.example)
        $source = Join-Path $docs "$($c.Name).md"
        $md = if (Test-Path $source) { @((Read-CmdletHelpMarkdown -Path $source).Examples) } else { @() }
        for ($i = 0; $i -lt $shipped.Count; $i++) {
            @{
                Command = $c.Name
                Title   = ($shipped[$i].title -replace '^-+\s*|\s*-+$', '')
                Code    = [string] $shipped[$i].code
                NoRun   = if ($i -lt $md.Count) { $md[$i].NoRun } else { $null }
            }
        }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Examples.psm1') -Force
    Import-Module $env:AHRVO_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot '../../build/HelpMarkdown.psm1') -Force
    $script:emu = Start-AhrvoEmulator
    $script:key = ConvertTo-SecureString $emu.ApiKey -AsPlainText -Force
    $script:token = ConvertTo-SecureString $emu.AccessToken -AsPlainText -Force
    # -WhatIf and -Confirm are not in this list: the help must describe them.
    $script:commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters

    # The examples use the emulator's shipped sample cards and the files New-ExampleSeed writes.
    # ForEach-Object unrolls the JSON array, which Invoke-RestMethod returns as one object.
    $cards = @(Get-AhrvoEmulatorCard $emu | ForEach-Object { $_ })
    $script:dedicated = @($cards | Where-Object type -EQ 'Dedicated' | ForEach-Object id)
    $missing = @(245..254 | ForEach-Object { "card201907021723076$_" } | Where-Object { $_ -notin $dedicated })
    if ($missing) { throw "The examples use the emulator's sample Dedicated Funds cards, but it lacks $($missing -join ', ')." }
    $script:work = Join-Path ([IO.Path]::GetTempPath()) ("ahrvo-help-" + [guid]::NewGuid())
    $script:seed = Join-Path $work 'seed'
    New-ExampleSeed -Path $seed -CardId $dedicated

    # Connect-Ahrvo examples without -ApiKey/-AccessToken read these; put back afterwards.
    $script:savedEnv = @{ AHRVO_API_KEY = $env:AHRVO_API_KEY; AHRVO_ACCESS_TOKEN = $env:AHRVO_ACCESS_TOKEN }
    $env:AHRVO_API_KEY = $emu.ApiKey
    $env:AHRVO_ACCESS_TOKEN = $emu.AccessToken

    $script:skippedExamples = [System.Collections.Generic.List[string]]::new()
}

AfterAll {
    foreach ($name in $savedEnv.Keys) { [Environment]::SetEnvironmentVariable($name, $savedEnv[$name]) }
    Disconnect-Ahrvo -ErrorAction SilentlyContinue
    Stop-AhrvoEmulator $emu
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
    if ($skippedExamples.Count) { Write-Host "Help examples not run (<!-- no-run -->):`n  $($skippedExamples -join "`n  ")" }
}

Describe 'Help: <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }

    It 'comes from the generated MAML, with a synopsis and a description' {
        # Without a help file, Get-Help makes up a synopsis from the syntax and has no description.
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match ([regex]::Escape("$Name ["))
        ($help.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $parameters = @($command.Parameters.Keys | Where-Object { $_ -notin $commonParameters })
        foreach ($p in $parameters) {
            $entry = Get-Help $Name -Parameter $p
            ($entry.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }

    It 'names its inputs and outputs' {
        @($help.inputTypes.inputType).Count | Should -BeGreaterThan 0
        @($help.returnValues.returnValue).Count | Should -BeGreaterThan 0
        foreach ($t in @($help.inputTypes.inputType) + @($help.returnValues.returnValue)) {
            $t.type.name | Should -Not -BeNullOrEmpty
            ($t.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "$($t.type.name) needs a description"
        }
    }

    It 'has at least two examples, each with code and an explanation' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($e in $examples) {
            $e.code | Should -Not -BeNullOrEmpty
            ($e.remarks.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "$($e.title) needs an explanation"
        }
    }

    It 'is in step with its markdown source (rebuild if not)' {
        $md = Read-CmdletHelpMarkdown -Path (Join-Path $PSScriptRoot "../../docs/help/$Name.md")
        @($help.examples.example | ForEach-Object code) | Should -Be @($md.Examples | ForEach-Object Code)
    }
}

Describe 'Help: about_Ahrvo' {
    BeforeAll {
        $text = (Get-Help about_Ahrvo | Out-String)
    }

    It 'ships as an about topic' {
        $text | Should -Match 'about_Ahrvo'
        $text | Should -Match 'SHORT DESCRIPTION'
    }

    It 'explains every error id' {
        # The enum reached through the public exception, wherever the client assembly is loaded.
        $kinds = [enum]::GetNames([Ahrvo.PowerShell.AhrvoException].GetProperty('Kind').PropertyType)
        foreach ($id in @($kinds | ForEach-Object { "Ahrvo.$_" }) + 'Ahrvo.NotConnected', 'Ahrvo.MissingCredentials') {
            $text | Should -Match ([regex]::Escape($id)) -Because "about_Ahrvo must say what $id means and what to do"
        }
    }

    It 'explains every error id the module can write, found in its source, so the list cannot drift' {
        # Every "Ahrvo.<Id>" literal of the cmdlets' code, and the ids OutputFile.Resolve makes from
        # an "Ahrvo.Report"/"Ahrvo.Metric" prefix: a new error id fails here until it is documented.
        $src = Join-Path $PSScriptRoot '../../src/Ahrvo.PowerShell'
        $files = Get-ChildItem $src -Recurse -Filter *.cs | Where-Object FullName -NotMatch '[\/](bin|obj)[\/]'
        $code = ($files | ForEach-Object { Get-Content $_.FullName -Raw }) -join "`n"
        $suffixes = @([regex]::Matches((Get-Content (Join-Path $src 'Files/OutputFile.cs') -Raw), 'errorPrefix \+ "(\w+)"') | ForEach-Object { $_.Groups[1].Value })
        $suffixes.Count | Should -BeGreaterThan 0
        $prefixes = @([regex]::Matches($code, 'OutputFile\.Resolve\([^;]*?"(Ahrvo\.\w+)"') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique)
        $prefixes.Count | Should -BeGreaterThan 0
        $literals = @([regex]::Matches($code, '"(Ahrvo\.[A-Z]\w+)"') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique |
            Where-Object { $_ -notin @('Ahrvo.PowerShell', 'Ahrvo.Client') -and $_ -notin $prefixes })
        $ids = @($literals) + @(foreach ($p in $prefixes) { foreach ($x in $suffixes) { "$p$x" } })
        $ids.Count | Should -BeGreaterThan 20
        $missing = @($ids | Where-Object { $text -notmatch ([regex]::Escape($_) + '\b') })
        $missing | Should -BeNullOrEmpty -Because "about_Ahrvo must say what each error id means and what to do"
    }

    It 'describes every exported cmdlet' {
        foreach ($name in (Get-Module Ahrvo.PowerShell).ExportedCmdlets.Keys) {
            $text | Should -Match ([regex]::Escape($name)) -Because "about_Ahrvo must describe $name"
        }
    }

    It 'covers <Topic>' -ForEach @(
        @{ Topic = 'secrets from environment variables'; Pattern = 'AHRVO_API_KEY.*AHRVO_ACCESS_TOKEN' }
        @{ Topic = 'a secret store'; Pattern = 'Get-Secret' }
        @{ Topic = 'environments'; Pattern = 'Staging' }
        @{ Topic = 'bulk queries'; Pattern = '-ThrottleLimit' }
        @{ Topic = 'Retry-After'; Pattern = 'Retry-After' }
        @{ Topic = 'retry settings'; Pattern = '-MaxRetries[\s\S]*-TimeoutSec[\s\S]*-AttemptTimeoutSec[\s\S]*-MaxRetryDelaySec[\s\S]*-MaxRequestsPerSecond' }
        @{ Topic = 'redaction'; Pattern = 'REDACTED' }
        @{ Topic = 'redirects'; Pattern = 'Redirects are never followed' }
        @{ Topic = 'http only for loopback'; Pattern = 'loopback' }
        @{ Topic = 'masked card numbers'; Pattern = 'masked' }
        @{ Topic = 'the audit log'; Pattern = '-AuditLogPath' }
    ) {
        $text | Should -Match $Pattern
    }
}

Describe 'Help examples' {
    BeforeEach {
        # Every example starts connected to the emulator, in a folder of its own with the CSV files.
        Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token
        $folder = Join-Path $work ([guid]::NewGuid().ToString('n'))
        Copy-Item $seed $folder -Recurse
    }

    It '<Command> <Title>' -ForEach $examples {
        if ($NoRun) {
            $script:skippedExamples.Add("${Command}: $Title ($NoRun)")
            Set-ItResult -Skipped -Because "the help marks it <!-- no-run: $NoRun -->"
            return
        }
        $r = Invoke-Example -Code $Code -Folder $folder -ApiKey $emu.ApiKey -AccessToken $emu.AccessToken
        $details = "`n--- code ---`n$Code`n--- output ---`n$($r.Output)"
        # For writing an example's ```output block: AHRVO_SHOW_EXAMPLE_OUTPUT=1 prints what it wrote.
        if ($env:AHRVO_SHOW_EXAMPLE_OUTPUT) { Write-Host "$details$(if ($r.Warnings) { "--- warnings ---`n$($r.Warnings -join "`n")" })" }
        $r.Thrown | Should -BeNullOrEmpty -Because "the example must not throw$details"
        ($r.Errors | Out-String) | Should -BeNullOrEmpty -Because "the example must not write errors$details"
    }

    It 'uses nothing obsolete or Windows-only: no Send-MailMessage, no $env:TEMP' {
        foreach ($e in $examples) {
            $e.Code | Should -Not -Match 'Send-MailMessage' -Because "$($e.Command) $($e.Title): Send-MailMessage is obsolete; post to a webhook with Invoke-RestMethod"
            $e.Code | Should -Not -Match '\$env:TEMP\b' -Because "$($e.Command) $($e.Title): `$env:TEMP is empty on Linux; use [IO.Path]::GetTempPath()"
        }
    }

    It 'has examples that parse, those not run included' {
        foreach ($e in $examples) {
            $tokens = $null; $parseErrors = $null
            [void][System.Management.Automation.Language.Parser]::ParseInput($e.Code, [ref]$tokens, [ref]$parseErrors)
            @($parseErrors) | Should -BeNullOrEmpty -Because "$($e.Command) $($e.Title) must parse"
        }
    }

    It 'has an example for every cmdlet' {
        # Guards the discovery above: no examples found would make this block pass vacuously.
        @($examples).Count | Should -BeGreaterOrEqual (2 * @($cmdlets).Count)
    }
}
