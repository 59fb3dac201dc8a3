# The spec's "Common Use Cases" as a user runs them: a fresh pwsh, the built module, the emulator.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    $script:emu = Start-AhrvoEmulator
    Import-Module $env:AHRVO_MODULE_PATH -Force
    Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey (ConvertTo-SecureString $emu.ApiKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emu.AccessToken -AsPlainText -Force)
    # The emulator's sample cards, Dedicated ones only.
    $script:cards = @{
        'card201907021723076245' = 1468.87
        'card201907021723076246' = 2500.00
        'card201907021723076247' = 850.50
        'card201907021723076248' = 42.17
        'card201907021723076249' = 7.05
        'card201907021723076250' = 312.40
        'card201907021723076251' = 0.00
        'card201907021723076252' = 12850.00
        'card201907021723076253' = 5000.00
        'card201907021723076254' = 199.99
    }
    $script:ids = @($cards.Keys | Sort-Object)
    $script:unknown = 'card999999999999999999'
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) ("ahrvo-usecases-" + [guid]::NewGuid())
    New-Item -ItemType Directory $dir | Out-Null
}

AfterAll {
    Disconnect-Ahrvo -ErrorAction SilentlyContinue
    Stop-AhrvoEmulator $emu
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Balance reconciliation (Compare-AhrvoCardBalance)' {
    It 'reconciles an Import-Csv ledger with the spec''s card_id,balance columns' {
        $ledger = Join-Path $dir 'ledger.csv'
        @(
            'card_id,balance'
            'card201907021723076245,1468.87'
            'card201907021723076246,2500.00'
            'card201907021723076247,850.511'
            "$unknown,10.00"
            'card201907021723076248,42.16'
        ) | Set-Content -LiteralPath $ledger
        $result = Import-Csv $ledger | Compare-AhrvoCardBalance -ErrorVariable failures -ErrorAction SilentlyContinue
        $result.CardId | Should -Be @('card201907021723076245', 'card201907021723076246', 'card201907021723076247', $unknown, 'card201907021723076248')
        $result.Status | Should -Be @('Matched', 'Matched', 'Discrepancy', 'Failed', 'Matched')
        $result[2].Difference | Should -Be -0.011
        $result[3].ActualBalance | Should -BeNullOrEmpty
        $result[3].Difference | Should -BeNullOrEmpty
        $result[4].Difference | Should -Be 0.01
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'Ahrvo.CardNotFound,*'
        $result[0].PSObject.TypeNames[0] | Should -Be 'Ahrvo.PowerShell.BalanceReconciliation'
    }

    It 'reads the ledger the same under de-DE' {
        $saved = [cultureinfo]::CurrentCulture
        try {
            [cultureinfo]::CurrentCulture = 'de-DE'
            $result = "CardId,ExpectedBalance`ncard201907021723076245,1468.87`ncard201907021723076247,850.50" | ConvertFrom-Csv | Compare-AhrvoCardBalance
            $result.Status | Should -Be @('Matched', 'Matched')
            $result.ExpectedBalance | Should -Be @(1468.87, 850.50)
        } finally { [cultureinfo]::CurrentCulture = $saved }
    }

    It 'shows only discrepancies and failures with -DiscrepancyOnly, in an 80-column table' {
        $rows = @(
            [pscustomobject]@{ card_id = 'card201907021723076245'; expected = '1468.87' }
            [pscustomobject]@{ card_id = 'card201907021723076246'; expected = '2400.00' }
            [pscustomobject]@{ card_id = $unknown; expected = '1.00' }
        )
        $result = $rows | Compare-AhrvoCardBalance -DiscrepancyOnly -ErrorAction SilentlyContinue
        $result.Status | Should -Be @('Discrepancy', 'Failed')
        $table = $result | Format-Table | Out-String -Width 80
        $table | Should -Match 'card201907021723076246\s+2,400\.00\s+2,500\.00\s+\+100\.00 Discrepancy'
    }

    It 'refuses a negative tolerance' {
        { Compare-AhrvoCardBalance card201907021723076245 1468.87 -Tolerance -0.01 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}

Describe 'Balance report (Measure-AhrvoCardBalance)' {
    It 'summarizes Get-AhrvoCardBalance output with the spec''s distribution' {
        $summary = $ids | Get-AhrvoCardBalance | Measure-AhrvoCardBalance
        $summary.PSObject.TypeNames[0] | Should -Be 'Ahrvo.PowerShell.BalanceSummary'
        $summary.Count | Should -Be 10
        $summary.Total | Should -Be 23230.98
        $summary.Minimum | Should -Be 0.00
        $summary.Maximum | Should -Be 12850.00
        $summary.Average | Should -Be ([decimal]23230.98 / 10)
        $summary.Currency | Should -Be 'USD'
        $summary.Distribution.Label | Should -Be @("`$0$([char]0x2013)100", "`$100$([char]0x2013)500", "`$500$([char]0x2013)1,000", "`$1,000$([char]0x2013)5,000", '$5,000+')
        # ForEach-Object: .Count on the array would be the array's own length.
        $summary.Distribution | ForEach-Object Count | Should -Be @(3, 2, 1, 2, 2)
        $summary.Failed | Should -BeNullOrEmpty
    }

    It 'reads the cards itself with -CardId and lists the ones it could not read' {
        $summary = Measure-AhrvoCardBalance -CardId ($ids + $unknown + 'card201907021723076255') -ErrorVariable failures -ErrorAction SilentlyContinue
        $summary.Count | Should -Be 10
        $summary.Failed | Should -Be @($unknown, 'card201907021723076255')
        $failures.Count | Should -Be 2
    }

    It 'draws the distribution as bars in its default view' {
        $text = $ids | Get-AhrvoCardBalance | Measure-AhrvoCardBalance | Out-String -Width 120
        $bar = [string][char]0x2588
        $text | Should -Match ("\`$0$([char]0x2013)100\s+3 " + $bar * 15)
        $text | Should -Match ("\`$5,000\+\s+2 " + $bar * 10)
        $text | Should -Match 'Total\s+: 23,230\.98'
    }

    It 'gives Count 0 and no statistics for no cards' {
        $summary = @() | Measure-AhrvoCardBalance
        $summary.Count | Should -Be 0
        $summary.Average | Should -BeNullOrEmpty
        $summary.Minimum | Should -BeNullOrEmpty
    }
}

Describe 'Balance report file (Export-AhrvoBalanceReport)' {
    It 'writes a self-contained HTML report with the card rows, totals, low balances and failed cards' {
        Push-Location $dir
        try {
            # 2>&1: the unknown card's error record goes to the report as a failed card.
            $file = Get-AhrvoCardBalance ($ids + $unknown) -ErrorAction Continue 2>&1 | Export-AhrvoBalanceReport -Path 'balances.html' -PassThru
        } finally { Pop-Location }
        $file.FullName | Should -Be (Join-Path $dir 'balances.html')
        $html = Get-Content -LiteralPath $file.FullName -Raw

        foreach ($id in $ids) { $html | Should -Match "<tr data-card-id=""$id""" }
        $html | Should -Match 'id="total-cards">10<'
        $html | Should -Match 'id="total-balance">23,230\.98<'
        $html | Should -Match 'id="failed-cards">1<'
        # Below 100 is low: 42.17, 7.05 and 0.00.
        $low = [regex]::Matches($html, '<tr data-card-id="(card\d+)" class="low">') | ForEach-Object { $_.Groups[1].Value }
        $low | Should -Be @('card201907021723076248', 'card201907021723076249', 'card201907021723076251')
        $html | Should -Match '12,850\.00'
        $html | Should -Match "<li><code>$unknown</code>: Card &#39;$unknown&#39; was not found"
        # Highest balance first.
        $rows = [regex]::Matches($html, '<tr data-card-id="(card\d+)"') | ForEach-Object { $_.Groups[1].Value }
        $rows[0] | Should -Be 'card201907021723076252'
        $rows[-1] | Should -Be 'card201907021723076251'

        # Self-contained: nothing to fetch from anywhere.
        $html | Should -Not -Match '<script'
        $html | Should -Not -Match '<link'
        $html | Should -Not -Match '<img'
        $html | Should -Not -Match 'https?://'
        $html | Should -Not -Match 'url\('
        $html | Should -Match '<style>'
    }

    It 'refuses to overwrite without -Force and overwrites with it' {
        $path = Join-Path $dir 'twice.html'
        'keep me' | Set-Content -LiteralPath $path
        { Export-AhrvoBalanceReport -CardId $ids[0] -Path $path } | Should -Throw -ErrorId 'Ahrvo.ReportFileExists,*'
        Get-Content -LiteralPath $path -Raw | Should -Match 'keep me'
        Export-AhrvoBalanceReport -CardId $ids[0] -Path $path -Force
        Get-Content -LiteralPath $path -Raw | Should -Match $ids[0]
        @(Get-ChildItem -LiteralPath $dir -Force -Filter '*.tmp').Count | Should -Be 0
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $dir 'whatif.html'
        Export-AhrvoBalanceReport -CardId $ids -Path $path -WhatIf
        Test-Path -LiteralPath $path | Should -BeFalse
    }
}

Describe 'Balance alerts (Watch-AhrvoCardBalance)' {
    BeforeAll {
        $script:watched = 'cardwatch0000000000001'
        Set-AhrvoEmulatorCard $emu -Id $watched -AvailableBalance '300.00' | Out-Null
    }

    It 'notifies once per level change, not once per pass' {
        $next = @{ 1 = '240.00'; 2 = '230.00'; 3 = '45.00'; 4 = '500.00' }
        $alerts = Watch-AhrvoCardBalance -CardId $watched, 'card201907021723076249' -Critical 50 -Warning 100 -Low 250 -Interval 0.2 -Count 5 -Verbose 4>&1 |
            ForEach-Object {
                # Between passes (the verbose record arrives before the wait), change the card's balance.
                if ($_ -is [System.Management.Automation.VerboseRecord]) {
                    if ($_.Message -match '^Pass (\d+) finished' -and $next.ContainsKey([int]$Matches[1])) {
                        Set-AhrvoEmulatorCard $emu -Id $watched -AvailableBalance $next[[int]$Matches[1]] | Out-Null
                    }
                } else { $_ }
            }
        # Pass 1: 7.05 is Critical (first sight), 300 is Normal (quiet). Pass 2: Low. Pass 3: still Low (quiet).
        # Pass 4: Critical, two levels down. Pass 5: back to Normal.
        @($alerts | ForEach-Object { "$($_.CardId) $($_.PreviousLevel)->$($_.Level)" }) | Should -Be @(
            'card201907021723076249 ->Critical'
            "$watched Normal->Low"
            "$watched Low->Critical"
            "$watched Critical->Normal"
        )
        $alerts[0].PSObject.TypeNames[0] | Should -Be 'Ahrvo.PowerShell.BalanceAlert'
        $alerts[1].Threshold | Should -Be 250
        $alerts[3].Threshold | Should -BeNullOrEmpty
    }

    It 'reports -Once the cards below Normal, in a table' {
        $alerts = Watch-AhrvoCardBalance -CardId $ids -Critical 10 -Warning 50 -Low 250 -Once
        ($alerts | Sort-Object CardId).Level | Should -Be @('Warning', 'Critical', 'Critical', 'Low')
        $alerts | Format-Table | Out-String -Width 80 | Should -Match 'card201907021723076249\s+7\.05 Critical\s+10\.00'
    }

    It 'names the values when the thresholds are out of order' {
        { Watch-AhrvoCardBalance -CardId $ids[0] -Critical 100 -Warning 50 -Once } | Should -Throw '*-Critical 100 is above -Warning 50*'
    }
}
