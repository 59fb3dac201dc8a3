# Export-AhrvoBalanceMetric against the real consumers of its file: promtool (Debian package
# 'prometheus') must accept it and node_exporter's textfile collector (Debian package
# 'prometheus-node-exporter') must serve it. build.ps1 Test installs both where apt-get runs as
# root; elsewhere these tests are skipped with the reason, except in CI (CI=true), where a missing
# tool fails them: a proof that silently does not run is no proof.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'MetricsTools.psm1') -Force
    $script:emu = Start-AhrvoEmulator
    Import-Module $env:AHRVO_MODULE_PATH -Force
    Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey (ConvertTo-SecureString $emu.ApiKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emu.AccessToken -AsPlainText -Force)
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) ("ahrvo-metrics-" + [guid]::NewGuid())
    New-Item -ItemType Directory $dir | Out-Null
    $script:prom = Join-Path $dir 'ahrvo.prom'

    $script:promtool = Find-MetricsTool 'promtool' 'prometheus'
    $script:nodeExporter = Find-MetricsTool 'prometheus-node-exporter', 'node_exporter' 'prometheus-node-exporter'

    # The sample cards, a Shared Funds card (cannot be read), and a card id that needs every
    # escape, written under de-DE (decimal comma culture): what the tools must accept.
    $script:shared = 'card201907021723076255'
    $script:oddId = "odd`"id\x`ny"
    $ids = 245..254 | ForEach-Object { "card201907021723076$_" }
    $saved = [cultureinfo]::CurrentCulture
    try {
        [cultureinfo]::CurrentCulture = 'de-DE'
        $odd = [Ahrvo.PowerShell.CardBalance]::new($oddId, $null, [decimal]'1234.5', 'EUR', [DateTimeOffset]::UtcNow)
        @(Get-AhrvoCardBalance (@($ids) + $shared) -ErrorAction Continue 2>&1) + $odd | Export-AhrvoBalanceMetric -Path $prom -Critical 50 -Warning 100 -Low 250
    } finally { [cultureinfo]::CurrentCulture = $saved }
}

AfterAll {
    if ($script:exporter) { Stop-NodeExporter $exporter.Process }
    Disconnect-Ahrvo -ErrorAction SilentlyContinue
    Stop-AhrvoEmulator $emu
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Metrics file (Export-AhrvoBalanceMetric)' {
    It 'passes promtool check metrics' {
        if (-not (Assert-MetricsTool $promtool)) { return }
        # promtool reads the exposition on stdin; it prints lint problems and exits non-zero on any.
        $out = Get-Content -LiteralPath $prom -Raw | & $promtool.Path check metrics 2>&1
        $code = $LASTEXITCODE
        "$out" | Should -BeNullOrEmpty -Because 'promtool reports no problem'
        $code | Should -Be 0
    }

    It 'is served by node_exporter''s textfile collector' {
        if (-not (Assert-MetricsTool $nodeExporter)) { return }
        $script:exporter = Start-NodeExporter $nodeExporter.Path $dir
        $metrics = $exporter.Metrics
        $log = $exporter.Log
        $metrics | Should -Match '(?m)^node_textfile_scrape_error 0$' -Because "node_exporter parsed the file (log:`n$(if ($exporter.Process.HasExited) { $log.Result }))"
        $metrics | Should -Match '(?m)^ahrvo_card_available_balance\{card_id="card201907021723076245",currency="USD"\} 1468\.87$'
        $metrics | Should -Match '(?m)^ahrvo_card_available_balance\{card_id="card201907021723076249",currency="USD"\} 7\.05$'
        $metrics | Should -Match '(?m)^ahrvo_card_balance_level\{card_id="card201907021723076248"\} 3$'
        $metrics | Should -Match "(?m)^ahrvo_card_read_ok\{card_id=`"$shared`"\} 0$"
        $metrics | Should -Not -Match "ahrvo_card_available_balance\{card_id=`"$shared`""
        # The odd id went through the real parser and came out escaped the same way.
        $metrics | Should -Match ([regex]::Escape('ahrvo_card_available_balance{card_id="odd\"id\\x\ny",currency="EUR"} 1234.5'))
        $metrics | Should -Match '(?m)^ahrvo_cards_read 11$'
        $metrics | Should -Match '(?m)^ahrvo_cards_failed 1$'
        $metrics | Should -Match '(?m)^# TYPE ahrvo_requests_total counter$'
        $metrics | Should -Match '(?m)^# TYPE ahrvo_card_last_success_timestamp_seconds gauge$'
    }
}
