# Tab completion as a user gets it: TabExpansion2 on the command line, the module imported.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    Import-Module $env:AHRVO_MODULE_PATH -Force
    $script:emu = Start-AhrvoEmulator
    Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey (ConvertTo-SecureString $emu.ApiKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emu.AccessToken -AsPlainText -Force)
    # ForEach-Object unrolls the JSON array, which Invoke-RestMethod returns as one object.
    $cards = @(Get-AhrvoEmulatorCard $emu | ForEach-Object { $_ })
    $script:dedicated = @($cards | Where-Object type -EQ 'Dedicated' | ForEach-Object id)
    $script:shared = @($cards | Where-Object type -EQ 'Shared' | ForEach-Object id)
    if ($dedicated.Count -lt 2 -or $shared.Count -lt 1) { throw 'The emulator should serve its sample cards, Dedicated and Shared.' }
    # The registry learns only from successful answers: the Shared cards fail (HTTP 400).
    $null = Get-AhrvoCardBalance ($dedicated + $shared) -ErrorAction SilentlyContinue

    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }
}

AfterAll {
    Disconnect-Ahrvo -ErrorAction SilentlyContinue
    Stop-AhrvoEmulator $emu
}

Describe 'Completion: -CardId' {
    It 'offers the card ids read in this session, sorted' {
        $results = Get-Completion 'Get-AhrvoCardBalance -CardId card2019'
        $texts = @($results | ForEach-Object CompletionText)
        foreach ($id in $dedicated) { $texts | Should -Contain $id }
        $texts | Should -Be @($texts | Sort-Object)
        $texts | ForEach-Object { $_ | Should -BeLike 'card2019*' }
        $results[0].ResultType | Should -Be 'ParameterValue'
    }

    It 'never offers a card whose query failed' {
        $texts = @(Get-Completion 'Get-AhrvoCardBalance -CardId card2019' | ForEach-Object CompletionText)
        foreach ($id in $shared) { $texts | Should -Not -Contain $id }
    }

    It 'completes a positional card id, and the next id of a list, on Test-AhrvoCardBalance' {
        $first = @(Get-Completion 'Test-AhrvoCardBalance card20190702172307624' | ForEach-Object CompletionText)
        $first | Should -Contain 'card201907021723076245'
        $next = @(Get-Completion 'Test-AhrvoCardBalance -Amount 10 -CardId card201907021723076245, card20190702172307625' | ForEach-Object CompletionText)
        $next | Should -Contain 'card201907021723076250'
    }

    It 'offers nothing for an unknown prefix' {
        Get-Completion 'Get-AhrvoCardBalance -CardId zzz' | Should -BeNullOrEmpty
    }

    It 'sends no request to the API' {
        $before = (Get-AhrvoEmulatorStats $emu -Limit 0).balanceRequests
        $null = Get-Completion 'Get-AhrvoCardBalance -CardId card'
        (Get-AhrvoEmulatorStats $emu -Limit 0).balanceRequests | Should -Be $before
    }

    It 'is on every -CardId parameter of the module' {
        # A new cmdlet's -CardId needs [ArgumentCompleter(typeof(CardIdCompleter))] too.
        $withCardId = @(Get-Command -Module Ahrvo.PowerShell -CommandType Cmdlet | Where-Object { $_.Parameters.ContainsKey('CardId') })
        $withCardId.Count | Should -BeGreaterOrEqual 2
        foreach ($c in $withCardId) {
            $completer = $c.Parameters['CardId'].Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }
            $completer.Type.Name | Should -Be 'CardIdCompleter' -Because "$($c.Name) -CardId should complete seen card ids"
        }
    }
}

Describe 'Completion: -Environment' {
    It 'offers Production and Staging' {
        @(Get-Completion 'Connect-Ahrvo -Environment ' | ForEach-Object CompletionText) | Should -Be @('Production', 'Staging')
    }

    It 'completes a prefix' {
        @(Get-Completion 'Connect-Ahrvo -Environment st' | ForEach-Object CompletionText) | Should -Be @('Staging')
    }
}
