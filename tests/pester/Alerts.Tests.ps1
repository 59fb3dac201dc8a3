# The Prometheus rules and the Grafana dashboard shipped in examples/ (issue 21), against the real
# tools: promtool (Debian package 'prometheus') checks the rules and runs their unit tests
# (examples/prometheus/ahrvo-alerts.tests.yml: every alert firing and quiet), and every metric the
# rules and the dashboard name must be one that a real node_exporter (package
# 'prometheus-node-exporter') serves from a file Export-AhrvoBalanceMetric wrote against the
# emulator. build.ps1 Test installs both tools where apt-get runs as root; elsewhere these tests are
# skipped with the reason, except in CI (CI=true), where a missing tool fails them.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'MetricsTools.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'PromQL.psm1') -Force
    $script:examples = Join-Path $PSScriptRoot '../../examples'
    $script:rulesPath = Join-Path $examples 'prometheus/ahrvo-alerts.yml'
    $script:rulesTestPath = Join-Path $examples 'prometheus/ahrvo-alerts.tests.yml'
    $script:dashboardPath = Join-Path $examples 'grafana/ahrvo-balances.json'
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) ("ahrvo-alerts-" + [guid]::NewGuid())
    New-Item -ItemType Directory $dir | Out-Null

    $script:promtool = Find-MetricsTool 'promtool' 'prometheus'
    $script:nodeExporter = Find-MetricsTool 'prometheus-node-exporter', 'node_exporter' 'prometheus-node-exporter'

    # promtool with its output, and the exit code.
    function Invoke-Promtool([string[]] $Arguments, [string] $WorkingDirectory) {
        Push-Location $WorkingDirectory
        try { $out = & $promtool.Path @Arguments 2>&1 | Out-String; @{ Output = $out; Code = $LASTEXITCODE } }
        finally { Pop-Location }
    }

    # The metric names the rules and the dashboard use.
    $script:rules = Get-AhrvoRuleMetricName -Path $rulesPath
    $script:dashboard = Get-AhrvoDashboardMetricName -Path $dashboardPath
}

AfterAll {
    if ($script:exporter) { Stop-NodeExporter $exporter.Process }
    if ($script:emu) { Stop-AhrvoEmulator $emu }
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Prometheus rules (examples/prometheus/ahrvo-alerts.yml)' {
    It 'pass promtool check rules' {
        if (-not (Assert-MetricsTool $promtool)) { return }
        $r = Invoke-Promtool @('check', 'rules', (Split-Path -Leaf $rulesPath)) (Split-Path $rulesPath)
        $r.Code | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'SUCCESS: \d+ rules found'
    }

    It 'pass their unit tests (promtool test rules): every alert fires and stays quiet' {
        if (-not (Assert-MetricsTool $promtool)) { return }
        $r = Invoke-Promtool @('test', 'rules', (Split-Path -Leaf $rulesTestPath)) (Split-Path $rulesTestPath)
        $r.Code | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'SUCCESS'
    }

    It 'have unit tests that show each alert firing and quiet' {
        # A test for an alert that is never seen firing (or never seen quiet) proves nothing about it.
        $alerts = @(Select-String -LiteralPath $rulesPath -Pattern '^\s*- alert: (\w+)' | ForEach-Object { $_.Matches[0].Groups[1].Value })
        $alerts | Should -Be @('AhrvoCardBalanceCritical', 'AhrvoCardBalanceWarning', 'AhrvoCardBalanceLow', 'AhrvoCardBalanceRunsOut', 'AhrvoCardBalanceUnread', 'AhrvoBalanceExportStale')
        $cases = Get-AhrvoRuleTestCase -Path $rulesTestPath
        foreach ($a in $alerts) {
            @($cases | Where-Object { $_.Alert -eq $a -and $_.Fires }).Count | Should -BeGreaterThan 0 -Because "$a is shown firing"
            @($cases | Where-Object { $_.Alert -eq $a -and -not $_.Fires }).Count | Should -BeGreaterThan 0 -Because "$a is shown quiet"
        }
    }

    It 'give every alert a severity, the card''s labels, a summary and a description' {
        $yaml = Get-Content -LiteralPath $rulesPath -Raw
        foreach ($block in ($yaml -split '(?m)^\s*- alert: ' | Select-Object -Skip 1)) {
            $name = ($block -split '\s')[0]
            $block | Should -Match '(?m)^\s+severity: (critical|warning|info)\s*$' -Because "$name has a severity"
            $block | Should -Match '(?m)^\s+summary: ' -Because "$name has a summary"
            $block | Should -Match '(?m)^\s+description: ' -Because "$name has a description"
            if ($name -like 'AhrvoCard*') { $block | Should -Match '\$labels\.card_id' -Because "$name names the card" }
        }
    }
}

Describe 'Grafana dashboard (examples/grafana/ahrvo-balances.json)' {
    It 'uses a datasource variable, never a fixed datasource' {
        $d = Get-Content -LiteralPath $dashboardPath -Raw | ConvertFrom-Json
        @($d.templating.list | Where-Object { $_.type -eq 'datasource' -and $_.query -eq 'prometheus' }).Count | Should -Be 1
        $uids = @($d.panels | ForEach-Object { $_.datasource; $_.targets.datasource } | ForEach-Object uid | Sort-Object -Unique)
        $uids | Should -Be @('${datasource}')
    }

    It 'has the panels the issue asks for' {
        $titles = @((Get-Content -LiteralPath $dashboardPath -Raw | ConvertFrom-Json).panels.title)
        foreach ($t in 'Total balance by currency', 'Cards by level', 'Lowest cards', 'Predicted run-out', 'Unread cards', 'Requests, retries and 429s per minute') {
            $titles | Should -Contain $t
        }
    }

    It 'has queries that promtool parses' {
        if (-not (Assert-MetricsTool $promtool)) { return }
        # Grafana's variables replaced by values they take; each query made a recording rule.
        $file = Join-Path $dir 'dashboard-queries.yml'
        $rules = foreach ($e in $dashboard.Expressions) {
            $q = $e -replace '\$__rate_interval', '5m' -replace '\$trend', '6h' -replace '\$instance', '.*'
            "      - record: dashboard:query`n        expr: |`n" + (($q -split '\r?\n' | ForEach-Object { "          $_" }) -join "`n")
        }
        Set-Content -LiteralPath $file -Value ("groups:`n  - name: dashboard`n    rules:`n" + ($rules -join "`n") + "`n")
        $r = Invoke-Promtool @('check', 'rules', 'dashboard-queries.yml') $dir
        $r.Code | Should -Be 0 -Because $r.Output
    }
}

Describe 'The configuration in docs/dashboards.md' {
    BeforeAll {
        $doc = Get-Content -LiteralPath (Join-Path $PSScriptRoot '../../docs/dashboards.md') -Raw
        # The yaml block that starts with the comment '# <name>'.
        function Get-DocYaml([string] $Name) {
            $m = [regex]::Match($doc, '(?s)```yaml\n(# ' + [regex]::Escape($Name) + '\n.*?)```')
            if (-not $m.Success) { throw "docs/dashboards.md has no yaml block starting '# $Name'." }
            $m.Groups[1].Value
        }
    }

    It 'has a prometheus.yml that promtool check config accepts, with the shipped rules' {
        if (-not (Assert-MetricsTool $promtool)) { return }
        $yaml = (Get-DocYaml 'prometheus.yml') -replace '/etc/prometheus/rules/ahrvo-alerts.yml', ((Resolve-Path $rulesPath).ProviderPath)
        Set-Content -LiteralPath (Join-Path $dir 'prometheus.yml') -Value $yaml
        $r = Invoke-Promtool @('check', 'config', 'prometheus.yml') $dir
        $r.Code | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match 'SUCCESS: 1 rule files found'
    }

    It 'has an alertmanager.yml that amtool check-config accepts' {
        # build.ps1 Test installs amtool (prometheus-alertmanager) as it does promtool.
        $amtool = Find-MetricsTool 'amtool' 'prometheus-alertmanager'
        if (-not (Assert-MetricsTool $amtool)) { return }
        Set-Content -LiteralPath (Join-Path $dir 'alertmanager.yml') -Value (Get-DocYaml 'alertmanager.yml')
        $out = & $amtool.Path check-config (Join-Path $dir 'alertmanager.yml') 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $out
        $out | Should -Match '2 inhibit rules'
    }
}

Describe 'Every metric the rules and the dashboard name is one the module exports' {
    BeforeAll {
        # A real export against the emulator with every family in it: thresholds (levels), an open
        # connection (counters), and a card that cannot be read (Shared Funds).
        $script:emu = Start-AhrvoEmulator
        Import-Module $env:AHRVO_MODULE_PATH -Force
        Connect-Ahrvo -BaseUri $emu.BaseUri -ApiKey (ConvertTo-SecureString $emu.ApiKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emu.AccessToken -AsPlainText -Force)
        $script:prom = Join-Path $dir 'ahrvo.prom'
        $ids = @(245..254 | ForEach-Object { "card201907021723076$_" }) + 'card201907021723076255'
        Get-AhrvoCardBalance $ids -ErrorAction Continue 2>&1 | Export-AhrvoBalanceMetric -Path $prom -Critical 50 -Warning 100 -Low 250
        Disconnect-Ahrvo
        $script:written = @(Select-String -LiteralPath $prom -Pattern '^# TYPE (\S+) ' | ForEach-Object { $_.Matches[0].Groups[1].Value })
    }

    It 'the export wrote every family (the check below would be weaker otherwise)' {
        $written | Should -Contain 'ahrvo_card_balance_level'
        $written | Should -Contain 'ahrvo_requests_total'
        $written | Should -Contain 'ahrvo_card_last_success_timestamp_seconds'
    }

    It 'the reader of PromQL tells metric names from functions, keywords, labels, durations and variables' {
        $q = @'
sum by (le, job) (rate(foo_total{x="y", z=~"a|b"}[5m] offset 1h)) / on(b) group_left(c) bar:rec > bool 3e2
  and absent(baz{q='it\'s'}) unless qux[$__rate_interval:1m] # not_a_metric{"x"}
'@
        @($q | Get-PromQLMetricName) | Should -Be @('foo_total', 'bar:rec', 'baz', 'qux')
    }

    It 'the rules and the dashboard name metrics at all (the parser finds them)' {
        $rules.Metrics | Should -Contain 'ahrvo_card_available_balance'
        $rules.Metrics | Should -Contain 'node_textfile_mtime_seconds'
        $rules.Metrics | Should -Contain 'ahrvo_balance_alert_threshold' # from a description's query
        $rules.Recorded | Should -Contain 'ahrvo_card:balance_runs_out_timestamp_seconds'
        $dashboard.Metrics | Should -Contain 'ahrvo_throttled_responses_total'
        $dashboard.Metrics | Should -Not -Contain 'by' # keywords, functions, labels and variables are not metrics
        $dashboard.Metrics | Should -Not -Contain 'instance'
    }

    It 'names only metrics in the file the export wrote (and node_exporter''s mtime of it)' {
        $known = @($written) + 'node_textfile_mtime_seconds'
        @($rules.Metrics + $dashboard.Metrics | Sort-Object -Unique | Where-Object { $_ -notin $known }) | Should -BeNullOrEmpty
    }

    It 'names only metrics that node_exporter''s textfile collector serves from that file' {
        if (-not (Assert-MetricsTool $nodeExporter)) { return }
        $script:exporter = Start-NodeExporter $nodeExporter.Path $dir
        $metrics = $exporter.Metrics
        $log = $exporter.Log
        $metrics | Should -Match '(?m)^node_textfile_scrape_error 0$'
        # The mtime series of this very file, with the file label the rules' regex must match.
        $mtime = [regex]::Match($metrics, '(?m)^node_textfile_mtime_seconds\{file="([^"]+)"\}')
        $mtime.Success | Should -BeTrue
        $mtime.Groups[1].Value | Should -Match '^(.*/)?ahrvo[.]prom$' -Because 'ahrvo:export_age_seconds selects the file with file=~"(.*/)?ahrvo[.]prom"'
        $served = @([regex]::Matches($metrics, '(?m)^# TYPE (\S+) ') | ForEach-Object { $_.Groups[1].Value })
        @($rules.Metrics + $dashboard.Metrics | Sort-Object -Unique | Where-Object { $_ -notin $served }) | Should -BeNullOrEmpty
    }
}
