# The metric names that the shipped Prometheus rules and Grafana dashboard use, for
# tests/pester/Alerts.Tests.ps1. A small reader of PromQL, enough to tell metric names from functions,
# keywords, label names and values, durations and Grafana variables; no YAML module needed.
Set-StrictMode -Version Latest

$script:Keywords = @('and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2', 'start', 'end')

function Get-PromQLMetricName {
    <#
    .SYNOPSIS
    The metric names (and recording-rule names) a PromQL expression selects.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory, ValueFromPipeline)] [AllowEmptyString()] [string] $Expression)
    process {
        $e = $Expression
        $e = [regex]::Replace($e, '"(?:[^"\\]|\\.)*"|''(?:[^''\\]|\\.)*''|`[^`]*`', '""') # string literals
        $e = [regex]::Replace($e, '#[^\n]*', '')                                         # comments
        $e = [regex]::Replace($e, '\{[^{}]*\}', '')                                      # label matchers
        $e = [regex]::Replace($e, '\[[^\[\]]*\]', '')                                    # ranges, subqueries
        $e = [regex]::Replace($e, '(?i)\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)', ' ') # label lists
        foreach ($m in [regex]::Matches($e, '(?<![\w:.$])(?>[a-zA-Z_:][\w:]*)(?!\s*\()')) {
            if ($m.Value.ToLowerInvariant() -notin $script:Keywords) { $m.Value }
        }
    }
}

function Get-AhrvoRuleMetricName {
    <#
    .SYNOPSIS
    The metrics a Prometheus rules file reads (in its exprs and in the queries of its annotation
    templates), apart from those it records itself; and the names it records.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Path)
    $lines = @(Get-Content -LiteralPath $Path)
    $expressions = [System.Collections.Generic.List[string]]::new()
    $recorded = [System.Collections.Generic.List[string]]::new()
    for ($i = 0; $i -lt $lines.Count; $i++) {
        if ($lines[$i] -match '^\s*-?\s*record:\s*(\S+)') { $recorded.Add($Matches[1]) }
        if ($lines[$i] -notmatch '^(\s*)-?\s*expr:\s*(.*)$') { continue }
        $indent = $Matches[1].Length
        $value = $Matches[2]
        if ($value -match '^[|>][-+]?\s*$') {
            # A block scalar: the lines indented deeper than the key.
            $block = while ($i + 1 -lt $lines.Count -and ($lines[$i + 1] -match '^\s*$' -or ($lines[$i + 1] -match '^(\s*)' -and $Matches[1].Length -gt $indent))) {
                $i++; $lines[$i]
            }
            $expressions.Add(($block -join "`n"))
        } else {
            $expressions.Add($value)
        }
    }
    # Annotation templates query with printf "<PromQL>" ...
    foreach ($m in [regex]::Matches(($lines -join "`n"), 'printf\s+"((?:[^"\\]|\\.)*)"')) { $expressions.Add($m.Groups[1].Value.Replace('\"', '"')) }
    $names = @($expressions | Get-PromQLMetricName | Sort-Object -Unique)
    [pscustomobject]@{
        Expressions = $expressions.ToArray()
        Recorded    = $recorded.ToArray()
        Metrics     = @($names | Where-Object { $_ -notin $recorded })
    }
}

function Get-AhrvoDashboardMetricName {
    <#
    .SYNOPSIS
    The metrics a Grafana dashboard's panel targets and template variables query.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Path)
    $d = Get-Content -LiteralPath $Path -Raw | ConvertFrom-Json
    $panels = @($d.panels) + @($d.panels | Where-Object { $_.PSObject.Properties['panels'] } | ForEach-Object { $_.panels })
    $expressions = @($panels | Where-Object { $_ -and $_.PSObject.Properties['targets'] } | ForEach-Object { $_.targets } |
        Where-Object { $_.PSObject.Properties['expr'] } | ForEach-Object expr)
    # Variables: label_values(<metric>, <label>) names the metric it reads.
    $variableMetrics = @($d.templating.list | Where-Object { $_.PSObject.Properties['definition'] } | ForEach-Object {
            if ($_.definition -match '^label_values\(\s*([^,]+),') { $Matches[1].Trim() } })
    [pscustomobject]@{
        Expressions = $expressions
        Metrics     = @(@($expressions | Get-PromQLMetricName) + ($variableMetrics | Get-PromQLMetricName) | Sort-Object -Unique)
    }
}

function Get-AhrvoRuleTestCase {
    <#
    .SYNOPSIS
    The alert_rule_test cases of a promtool unit-test file: the alert, the time, and whether it is
    expected firing (exp_alerts not empty) or quiet (exp_alerts: []).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Path)
    $lines = @(Get-Content -LiteralPath $Path)
    for ($i = 0; $i -lt $lines.Count; $i++) {
        if ($lines[$i] -notmatch '\balertname:\s*(\w+)') { continue }
        $alert = $Matches[1]
        $j = $i
        while ($j -lt $lines.Count -and $lines[$j] -notmatch '\bexp_alerts:') { $j++ }
        if ($j -ge $lines.Count) { break }
        [pscustomobject]@{ Alert = $alert; Fires = $lines[$j] -notmatch '\bexp_alerts:\s*\[\s*\]'; Line = $i + 1 }
    }
}

Export-ModuleMember -Function Get-PromQLMetricName, Get-AhrvoRuleMetricName, Get-AhrvoDashboardMetricName, Get-AhrvoRuleTestCase
