# The core module as a user runs it: a fresh pwsh, the built module, the emulator.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    $script:emu = Start-AhrvoEmulator
    Import-Module $env:AHRVO_MODULE_PATH -Force
    $script:key = ConvertTo-SecureString $emu.ApiKey -AsPlainText -Force
    $script:token = ConvertTo-SecureString $emu.AccessToken -AsPlainText -Force
    $script:good = 'card201907021723076245'   # 1468.87
    $script:low = 'card201907021723076248'    # 42.17
    $script:zero = 'card201907021723076251'   # 0.00
    $script:shared = 'card201907021723076255'
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) ("ahrvo-core-" + [guid]::NewGuid())
    New-Item -ItemType Directory $dir | Out-Null
}

AfterAll {
    Disconnect-Ahrvo -ErrorAction SilentlyContinue
    Stop-AhrvoEmulator $emu
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Connecting' {
    It 'refuses data cmdlets before Connect-Ahrvo with one terminating error' {
        Disconnect-Ahrvo
        { Get-AhrvoCardBalance $good, $low } | Should -Throw -ErrorId 'Ahrvo.NotConnected,Ahrvo.PowerShell.Cmdlets.GetAhrvoCardBalanceCommand'
        $err = $null
        try { Test-AhrvoCardBalance $good -Amount 1 } catch { $err = $_ }
        $err.Exception.Message | Should -Match 'Connect-Ahrvo'
    }

    It 'connects from AHRVO_API_KEY and AHRVO_ACCESS_TOKEN' {
        $env:AHRVO_API_KEY = $emu.ApiKey; $env:AHRVO_ACCESS_TOKEN = $emu.AccessToken
        try {
            Connect-Ahrvo -BaseUri $emu.BaseUri
            (Get-AhrvoConnection).CredentialSource | Should -Be 'environment'
            (Get-AhrvoCardBalance $good).AvailableBalance | Should -Be 1468.87
        } finally {
            Remove-Item Env:AHRVO_API_KEY, Env:AHRVO_ACCESS_TOKEN -ErrorAction SilentlyContinue
        }
    }

    It 'says which secret is missing' {
        Remove-Item Env:AHRVO_API_KEY, Env:AHRVO_ACCESS_TOKEN -ErrorAction SilentlyContinue
        { Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key } | Should -Throw '*-AccessToken*AHRVO_ACCESS_TOKEN*'
    }

    It 'shows the connection without a secret' {
        Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token
        $c = Get-AhrvoConnection
        $c.Environment | Should -Be 'Custom'
        $c.BaseUri | Should -Be ([uri]"$($emu.BaseUri)")
        $text = ($c | Format-List * | Out-String) + ($c | ConvertTo-Json -Depth 4) + "$c"
        $text | Should -Not -Match ([regex]::Escape($emu.ApiKey))
        $text | Should -Not -Match ([regex]::Escape($emu.AccessToken))
    }

    It 'uses two connections in one script' {
        $a = Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token -PassThru
        $b = Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey (ConvertTo-SecureString 'another-account' -AsPlainText -Force) -AccessToken $token -PassThru
        (Get-AhrvoCardBalance $good -Connection $a).AvailableBalance | Should -Be 1468.87
        { Get-AhrvoCardBalance $good -Connection $b } | Should -Throw -ErrorId 'Ahrvo.Unauthorized*'
        # The session default is the newest connection.
        { Get-AhrvoCardBalance $good } | Should -Throw -ErrorId 'Ahrvo.Unauthorized*'
        Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token
    }
}

Describe 'Connections across runspaces' {
    BeforeAll { Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token }

    It 'is seen by thread jobs and ForEach-Object -Parallel' {
        $module = $env:AHRVO_MODULE_PATH
        $job = Start-ThreadJob { Import-Module $using:module; (Get-AhrvoCardBalance $using:good).AvailableBalance }
        $job | Receive-Job -Wait -AutoRemoveJob | Should -Be 1468.87
        $parallel = $good, $low | ForEach-Object -Parallel { Import-Module $using:module; Get-AhrvoCardBalance $_ } -ThrottleLimit 2
        ($parallel | Sort-Object AvailableBalance).AvailableBalance | Should -Be @(42.17, 1468.87)
    }

    It 'takes an explicit -Connection inside a thread job' {
        $module = $env:AHRVO_MODULE_PATH
        $c = Get-AhrvoConnection
        $job = Start-ThreadJob { Import-Module $using:module; (Get-AhrvoCardBalance $using:low -Connection $using:c).AvailableBalance }
        $job | Receive-Job -Wait -AutoRemoveJob | Should -Be 42.17
    }
}

Describe 'Get-AhrvoCardBalance' {
    BeforeAll { Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token }

    It 'returns typed balances shown as a table' {
        $b = Get-AhrvoCardBalance $good
        $b.PSObject.TypeNames[0] | Should -Be 'Ahrvo.PowerShell.CardBalance'
        $b.AvailableBalance | Should -BeOfType [decimal]
        $b.RetrievedAt | Should -BeOfType [DateTimeOffset]
        $table = $b | Out-String
        $table | Should -Match 'CardId\s+CardNumber\s+AvailableBalance\s+Currency'
        $table | Should -Match '5157\*{8}2686'
    }

    It 'reads a CSV with a card_id column, filters and exports' {
        $csv = Join-Path $dir 'cards.csv'
        @"
card_id,owner
$good,ops
$low,finance
$zero,finance
"@ | Set-Content $csv
        $out = Join-Path $dir 'low.csv'
        Import-Csv $csv | Get-AhrvoCardBalance | Where-Object AvailableBalance -lt 100 | Export-Csv $out -NoTypeInformation
        $rows = Import-Csv $out
        $rows.CardId | Should -Be @($low, $zero)
        $rows[0].AvailableBalance | Should -Be '42.17'
        $rows[1].AvailableBalance | Should -Be '0.00'
        $rows[0].CardNumber | Should -Be '5157********1175'
    }

    It 'round-trips through Export-Csv and Import-Csv with the same values' {
        $path = Join-Path $dir 'all.csv'
        $before = Get-AhrvoCardBalance $good, $low, $zero
        $before | Export-Csv $path -NoTypeInformation
        $after = Import-Csv $path
        $after.Count | Should -Be 3
        for ($i = 0; $i -lt 3; $i++) {
            [decimal]$after[$i].AvailableBalance | Should -Be $before[$i].AvailableBalance
            $after[$i].CardId | Should -Be $before[$i].CardId
        }
    }

    It 'sorts and filters naturally' {
        $sorted = Get-AhrvoCardBalance $good, $low, $zero | Sort-Object AvailableBalance -Descending
        $sorted.CardId | Should -Be @($good, $low, $zero)
    }

    It 'gives <Name> as error <ErrorId> with category <Category>' -ForEach @(
        @{ Name = '404 (unknown card)'; Card = 'card000000000000000000'; ErrorId = 'Ahrvo.CardNotFound'; Category = 'ObjectNotFound'; Message = 'not found' }
        @{ Name = '400 (Shared Funds card)'; Card = 'card201907021723076255'; ErrorId = 'Ahrvo.InvalidCard'; Category = 'InvalidArgument'; Message = 'Dedicated Funds' }
        @{ Name = '400 (malformed id)'; Card = 'not a card!'; ErrorId = 'Ahrvo.InvalidCard'; Category = 'InvalidArgument'; Message = 'invalid' }
    ) {
        $balances = Get-AhrvoCardBalance $good, $Card, $low -ErrorVariable errs -ErrorAction SilentlyContinue
        $balances.CardId | Should -Be @($good, $low)
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $errs[0].CategoryInfo.Category | Should -Be $Category
        $errs[0].TargetObject | Should -Be $Card
        $errs[0].Exception.Message | Should -Match $Message
    }

    It 'stops with one terminating error on 401' {
        Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey (ConvertTo-SecureString 'nope' -AsPlainText -Force) -AccessToken $token
        try {
            $errs = @()
            $caught = $null
            try { Get-AhrvoCardBalance $good, $low, $zero -ErrorVariable errs } catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -BeLike 'Ahrvo.Unauthorized,*'
            $caught.CategoryInfo.Category | Should -Be 'AuthenticationError'
            $caught.Exception.Message | Should -Match 'Connect-Ahrvo'
        } finally {
            Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token
        }
    }

    It 'stops with one terminating error on 403' {
        Set-AhrvoEmulatorConfig $emu -Config @{ issuanceDisabled = $true }
        try {
            { Get-AhrvoCardBalance $good, $low } | Should -Throw -ErrorId 'Ahrvo.Forbidden,*'
        } finally {
            Set-AhrvoEmulatorConfig $emu -Config @{ issuanceDisabled = $false }
        }
    }

    It 'honours -ErrorAction Stop on the first failed card' {
        { Get-AhrvoCardBalance 'card000000000000000000', $good -ErrorAction Stop } | Should -Throw -ErrorId 'Ahrvo.CardNotFound,*'
    }

    It 'refuses an empty card id as a parameter error' {
        { Get-AhrvoCardBalance -CardId '' } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        { Get-AhrvoCardBalance -CardId ' ' } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'writes -Verbose lines that name each card with status and time' {
        $verbose = Get-AhrvoCardBalance $good -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        "$verbose" | Should -Match "$good.*HTTP 200.*ms"
    }
}

Describe 'Test-AhrvoCardBalance' {
    BeforeAll { Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey $key -AccessToken $token }

    It 'answers $true or $false per card' {
        Test-AhrvoCardBalance -CardId $good, $low -Amount 500 | Should -Be @($true, $false)
    }

    It 'reads card_id,amount from a CSV' {
        $csv = Join-Path $dir 'payouts.csv'
        @"
card_id,amount
$good,1468.87
$good,1468.88
$low,40
"@ | Set-Content $csv
        $checks = Import-Csv $csv | Test-AhrvoCardBalance -Detailed
        $checks.Sufficient | Should -Be @($true, $false, $true)
        $checks[1].Shortage | Should -Be 0.01
        $checks[2].RemainingAfter | Should -Be 2.17
    }

    It 'fails closed for a card it cannot read' {
        $r = Test-AhrvoCardBalance -CardId 'card000000000000000000' -Amount 0 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
    }

    It 'refuses a negative amount' {
        { Test-AhrvoCardBalance -CardId $good -Amount -5 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}
