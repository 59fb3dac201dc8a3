using System.Globalization;
using System.Management.Automation;
using Ahrvo.Client;
using Xunit;

namespace Ahrvo.PowerShell.Tests;

/// <summary>Connect-Ahrvo, Get-AhrvoCardBalance and Test-AhrvoCardBalance as PowerShell runs them.</summary>
public sealed class CoreCmdletTests : IClassFixture<EmulatorFixture>
{
    private const string Good = "card201907021723076245";   // 1468.87
    private const string Low = "card201907021723076248";    // 42.17
    private const string Shared = "card201907021723076255";
    private const string Unknown = "card999999999999999999";
    private readonly EmulatorFixture _fx;

    public CoreCmdletTests(EmulatorFixture fx) => _fx = fx;

    private ScriptResult Run(string script, params (string, object?)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, _fx.Variables(vars));

    [Fact]
    public void Emits_typed_balances_in_input_order()
    {
        var r = Run($"Get-AhrvoCardBalance -CardId {Low},{Good},card201907021723076252");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var balances = r.Output.Select(o => (CardBalance)o.BaseObject).ToList();
        Assert.Equal(new[] { Low, Good, "card201907021723076252" }, balances.Select(b => b.CardId));
        Assert.Equal(42.17m, balances[0].AvailableBalance);
        Assert.Equal(1468.87m, balances[1].AvailableBalance);
        Assert.Equal(12850.00m, balances[2].AvailableBalance);
        Assert.All(balances, b => Assert.Equal("USD", b.Currency));
        Assert.Equal("5157********2686", balances[1].CardNumber);
        Assert.All(balances, b => Assert.True((DateTimeOffset.UtcNow - b.RetrievedAt).Duration() < TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void Binds_by_value_and_by_property_name()
    {
        var r = Run($$"""
            '{{Good}}' | Get-AhrvoCardBalance
            [pscustomobject]@{ card_id = '{{Low}}' } | Get-AhrvoCardBalance
            [pscustomobject]@{ Id = '{{Good}}' } | Get-AhrvoCardBalance
            [pscustomobject]@{ CardId = '{{Low}}' } | Get-AhrvoCardBalance
            """);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { Good, Low, Good, Low }, r.Output.Select(o => ((CardBalance)o.BaseObject).CardId));
    }

    [Fact]
    public void Works_with_where_sort_and_json()
    {
        var r = Run($$"""
            $b = Get-AhrvoCardBalance {{Good}},{{Low}},card201907021723076249
            ($b | Where-Object AvailableBalance -lt 100 | Sort-Object AvailableBalance).CardId -join ','
            $b[0] | Select-Object CardId, AvailableBalance | ConvertTo-Json -Compress
            """);
        Assert.Empty(r.Errors);
        Assert.Equal("card201907021723076249," + Low, r.Output[0].ToString());
        Assert.Equal("{\"CardId\":\"card201907021723076245\",\"AvailableBalance\":1468.87}", r.Output[1].ToString());
    }

    [Theory]
    [InlineData(Unknown, "Ahrvo.CardNotFound", ErrorCategory.ObjectNotFound, 404)]
    [InlineData(Shared, "Ahrvo.InvalidCard", ErrorCategory.InvalidArgument, 400)]
    [InlineData("bad id!", "Ahrvo.InvalidCard", ErrorCategory.InvalidArgument, 400)]
    public void Per_card_errors_are_non_terminating_and_the_others_go_on(string failing, string errorId, ErrorCategory category, int status)
    {
        var r = Run($"Get-AhrvoCardBalance -CardId {Good},'{failing}',{Low}");
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { Good, Low }, r.Output.Select(o => ((CardBalance)o.BaseObject).CardId));
        var error = Assert.Single(r.Errors);
        Assert.StartsWith(errorId, error.FullyQualifiedErrorId);
        Assert.Equal(category, error.CategoryInfo.Category);
        Assert.Equal(failing, error.TargetObject);
        var ex = Assert.IsType<AhrvoException>(error.Exception);
        Assert.Equal(status, ex.HttpStatus);
        Assert.Contains(failing, ex.Message);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
    }

    [Fact]
    public void Not_dedicated_error_says_what_to_do()
    {
        var r = Run($"Get-AhrvoCardBalance {Shared}");
        var error = Assert.Single(r.Errors);
        Assert.Contains("Dedicated Funds", error.Exception.Message);
        Assert.Contains("budget account", error.Exception.Message);
    }

    [Fact]
    public async Task A_200_whose_code_is_not_success_is_an_error_with_the_api_code()
    {
        await _fx.Emulator.SetConfigAsync(new { faults = new[] { new { kind = "body", cardIds = new[] { Low }, body = "{\"code\":\"CARD_FROZEN\",\"message\":\"Card is frozen\"}", contentType = "application/json" } } });
        try
        {
            var r = Run($"Get-AhrvoCardBalance {Good},{Low}");
            Assert.Single(r.Output);
            var error = Assert.Single(r.Errors);
            Assert.Equal("Ahrvo.ApiError,Ahrvo.PowerShell.Cmdlets.GetAhrvoCardBalanceCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidResult, error.CategoryInfo.Category);
            Assert.Contains("CARD_FROZEN", error.Exception.Message);
            Assert.Contains("Card is frozen", error.Exception.Message);
        }
        finally
        {
            await _fx.Emulator.SetConfigAsync(new { faults = Array.Empty<object>() });
        }
    }

    [Fact]
    public async Task A_body_that_is_not_the_expected_json_is_an_error_not_a_zero()
    {
        await _fx.Emulator.SetConfigAsync(new { faults = new[] { new { kind = "nonjson", cardIds = new[] { Low } } } });
        try
        {
            var r = Run($"Get-AhrvoCardBalance {Low}");
            Assert.Empty(r.Output);
            var error = Assert.Single(r.Errors);
            Assert.StartsWith("Ahrvo.InvalidResponse", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
            Assert.Equal(Low, error.TargetObject);
        }
        finally
        {
            await _fx.Emulator.SetConfigAsync(new { faults = Array.Empty<object>() });
        }
    }

    [Fact]
    public async Task The_terminating_401_names_the_card_that_got_it_not_an_earlier_card_cancelled_by_it()
    {
        await _fx.Emulator.ResetAsync(includeConfig: true);
        const string Refused = "card201907021723076246";
        // The first card is slow, so the second card's 401 stops the run while the first is in flight.
        await _fx.Emulator.SetConfigAsync(new
        {
            faults = new object[]
            {
                new { kind = "slow", delayMs = 3000, cardIds = new[] { Good } },
                new { kind = "body", status = 401, body = "{\"code\":\"UNAUTHORIZED\",\"message\":\"token expired\"}", cardIds = new[] { Refused } },
            },
        });
        var r = Run($"try {{ Get-AhrvoCardBalance {Good},{Refused},{Low} -ThrottleLimit 4 }} catch {{ $caught = $_ }}; $caught");
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.StartsWith("Ahrvo.Unauthorized", record.FullyQualifiedErrorId);
        Assert.Equal(Refused, record.TargetObject);
        await _fx.Emulator.ResetAsync(includeConfig: true);
    }

    [Fact]
    public async Task Unauthorized_is_one_terminating_error_for_the_whole_run()
    {
        await _fx.Emulator.ResetAsync();
        var r = PowerShellHost.Run(
            "Connect-Ahrvo -BaseUri $emuUri -ApiKey (ConvertTo-SecureString 'wrong' -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emuToken -AsPlainText -Force)\n" +
            $"try {{ Get-AhrvoCardBalance {Good},{Low},{Good},{Low},{Good},{Low},{Good},{Low},{Good},{Low} -ThrottleLimit 1 }} catch {{ $caught = $_ }}; $caught",
            _fx.Variables());
        // One terminating error, caught by try/catch (a non-terminating one would not be).
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.Empty(r.Errors);
        Assert.StartsWith("Ahrvo.Unauthorized", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.AuthenticationError, record.CategoryInfo.Category);
        Assert.Contains("Connect-Ahrvo", record.Exception.Message);
        // It stops at once: not one request per card.
        var stats = await _fx.Emulator.GetStatsAsync();
        Assert.True(stats.BalanceRequests <= 2, $"{stats.BalanceRequests} requests were sent after a 401");
    }

    [Fact]
    public async Task Forbidden_is_one_terminating_error()
    {
        await _fx.Emulator.SetConfigAsync(new { issuanceDisabled = true });
        try
        {
            var r = Run($"try {{ Get-AhrvoCardBalance {Good},{Low} }} catch {{ $_ }}");
            Assert.Empty(r.Errors);
            var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
            Assert.StartsWith("Ahrvo.Forbidden", record.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.PermissionDenied, record.CategoryInfo.Category);
            Assert.Contains("not enabled", record.Exception.Message);
        }
        finally
        {
            await _fx.Emulator.SetConfigAsync(new { issuanceDisabled = false });
        }
    }

    [Fact]
    public void Not_connected_is_one_terminating_error_that_says_to_connect()
    {
        var r = PowerShellHost.Run($"Disconnect-Ahrvo; try {{ Get-AhrvoCardBalance {Good},{Low} }} catch {{ $_ }}");
        Assert.Empty(r.Errors);
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.Equal("Ahrvo.NotConnected,Ahrvo.PowerShell.Cmdlets.GetAhrvoCardBalanceCommand", record.FullyQualifiedErrorId);
        Assert.Contains("Connect-Ahrvo", record.Exception.Message);
    }

    [Theory]
    [InlineData("''")]
    [InlineData("'   '")]
    [InlineData("$null")]
    public void Empty_card_id_is_a_parameter_error(string value)
    {
        var r = Run($"try {{ Get-AhrvoCardBalance -CardId {value} }} catch {{ $_ }}");
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.IsAssignableFrom<ParameterBindingException>(record.Exception);
    }

    [Fact]
    public async Task Card_ids_are_url_encoded_so_no_other_card_can_be_read()
    {
        await _fx.Emulator.ResetAsync();
        var r = Run($"Get-AhrvoCardBalance -CardId 'card1&card_id={Good}'");
        Assert.Empty(r.Output);
        Assert.StartsWith("Ahrvo.InvalidCard", Assert.Single(r.Errors).FullyQualifiedErrorId);
        var stats = await _fx.Emulator.GetStatsAsync();
        var request = Assert.Single(stats.Requests);
        Assert.Equal($"card_id=card1%26card_id%3D{Good}", request.RawQuery.TrimStart('?'));
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    [InlineData("en-US")]
    public void Balances_and_amounts_are_culture_invariant(string culture)
    {
        var r = Run($$"""
            [System.Threading.Thread]::CurrentThread.CurrentCulture = '{{culture}}'
            [System.Globalization.CultureInfo]::CurrentCulture = '{{culture}}'
            (Get-AhrvoCardBalance {{Good}}).AvailableBalance
            [pscustomobject]@{ card_id = '{{Good}}'; amount = '1468.87' } | Test-AhrvoCardBalance
            [pscustomobject]@{ card_id = '{{Good}}'; amount = '1468.88' } | Test-AhrvoCardBalance
            """);
        Assert.Empty(r.Errors);
        Assert.Equal(1468.87m, (decimal)r.Output[0].BaseObject);
        Assert.True((bool)r.Output[1].BaseObject);
        Assert.False((bool)r.Output[2].BaseObject);
    }

    [Fact]
    public void Test_emits_booleans_and_detailed_checks()
    {
        var r = Run($$"""
            Test-AhrvoCardBalance -CardId {{Good}},{{Low}} -Amount 500
            Test-AhrvoCardBalance -CardId {{Good}},{{Low}} -Amount 500 -Detailed
            """);
        Assert.Empty(r.Errors);
        Assert.Equal(true, r.Output[0].BaseObject);
        Assert.Equal(false, r.Output[1].BaseObject);
        var ok = (BalanceCheck)r.Output[2].BaseObject;
        var short_ = (BalanceCheck)r.Output[3].BaseObject;
        Assert.True(ok.Sufficient);
        Assert.Equal(968.87m, ok.RemainingAfter);
        Assert.Null(ok.Shortage);
        Assert.False(short_.Sufficient);
        Assert.Equal(457.83m, short_.Shortage);
        Assert.Null(short_.RemainingAfter);
        Assert.Equal(500m, short_.Amount);
    }

    [Fact]
    public void Test_binds_card_and_amount_per_record()
    {
        var r = Run($$"""
            @(
              [pscustomobject]@{ card_id = '{{Good}}'; amount = '1000' },
              [pscustomobject]@{ card_id = '{{Low}}'; amount = '42.17' },
              [pscustomobject]@{ card_id = '{{Low}}'; amount = '42.18' }
            ) | Test-AhrvoCardBalance -Detailed
            """);
        Assert.Empty(r.Errors);
        var checks = r.Output.Select(o => (BalanceCheck)o.BaseObject).ToList();
        Assert.Equal(new[] { 1000m, 42.17m, 42.18m }, checks.Select(c => c.Amount));
        Assert.Equal(new[] { true, true, false }, checks.Select(c => c.Sufficient));
    }

    [Fact]
    public void Test_fails_closed()
    {
        var r = Run($"Test-AhrvoCardBalance -CardId {Unknown},{Good} -Amount 0");
        Assert.Equal(new object[] { true }, r.Output.Select(o => o.BaseObject));
        Assert.Equal(Unknown, Assert.Single(r.Errors).TargetObject);
    }

    [Fact]
    public void Negative_amount_is_a_validation_error()
    {
        var r = Run($"try {{ Test-AhrvoCardBalance -CardId {Good} -Amount -1 }} catch {{ $_ }}");
        var ex = Assert.IsAssignableFrom<ParameterBindingException>(((ErrorRecord)Assert.Single(r.Output).BaseObject).Exception);
        Assert.Contains("negative", ex.Message);
    }

    [Fact]
    public void Verbose_names_each_card_with_status_and_time()
    {
        var r = Run($"Get-AhrvoCardBalance {Good},{Unknown} -Verbose");
        Assert.Contains(r.Verbose, v => v.Contains(Good) && v.Contains("HTTP 200") && v.Contains(" ms"));
        Assert.Contains(r.Verbose, v => v.Contains(Unknown) && v.Contains("HTTP 404"));
    }

    [Fact]
    public void Debug_shows_requests_with_secrets_redacted()
    {
        var r = Run($"$DebugPreference = 'Continue'; Get-AhrvoCardBalance {Good}");
        var text = string.Join("\n", r.Debug);
        Assert.Contains("GET", text);
        Assert.Contains("card_id=" + Good, text);
        Assert.Contains("Authorization: Bearer ***REDACTED***", text);
        Assert.Contains("x-api-key: ***REDACTED***", text);
        Assert.DoesNotContain(_fx.Emulator.ApiKey, r.AllText());
        Assert.DoesNotContain(_fx.Emulator.AccessToken, r.AllText());
    }

    [Fact]
    public void Connection_shows_no_secret_and_two_connections_work_side_by_side()
    {
        var r = Run($$"""
            $a = Get-AhrvoConnection
            $b = Connect-Ahrvo -BaseUri $emuUri -ApiKey (ConvertTo-SecureString 'wrong-key' -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emuToken -AsPlainText -Force) -PassThru
            $a | ConvertTo-Json -Depth 5
            "$a $b"
            (Get-AhrvoCardBalance {{Good}} -Connection $a).AvailableBalance
            try { Get-AhrvoCardBalance {{Good}} -Connection $b -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }
            """);
        var all = r.AllText();
        Assert.DoesNotContain(_fx.Emulator.ApiKey, all);
        Assert.DoesNotContain(_fx.Emulator.AccessToken, all);
        Assert.DoesNotContain("wrong-key", all);
        Assert.Contains(r.Output, o => o.BaseObject is decimal d && d == 1468.87m);
        Assert.Contains(r.Output, o => o.ToString().StartsWith("Ahrvo.Unauthorized"));
    }

    [Fact]
    public void Connect_reads_environment_variables_and_says_what_is_missing()
    {
        var r = PowerShellHost.Run($$"""
            $env:AHRVO_API_KEY = $null; $env:AHRVO_ACCESS_TOKEN = $null
            try { Connect-Ahrvo -BaseUri $emuUri } catch { "missing: " + $_.Exception.Message }
            $env:AHRVO_API_KEY = $emuKey; $env:AHRVO_ACCESS_TOKEN = $emuToken
            try {
                Connect-Ahrvo -BaseUri $emuUri
                (Get-AhrvoConnection).CredentialSource
                (Get-AhrvoCardBalance {{Good}}).AvailableBalance
            } finally { $env:AHRVO_API_KEY = $null; $env:AHRVO_ACCESS_TOKEN = $null }
            """, _fx.Variables());
        Assert.Contains("AHRVO_API_KEY", r.Output[0].ToString());
        Assert.Contains("AHRVO_ACCESS_TOKEN", r.Output[0].ToString());
        Assert.Equal("environment", r.Output[1].ToString());
        Assert.Equal(1468.87m, (decimal)r.Output[2].BaseObject);
    }

    [Theory]
    [InlineData("http://example.com", "Plain http is refused")]
    [InlineData("ftp://127.0.0.1", "not supported")]
    public void Connect_refuses_insecure_base_uris(string uri, string message)
    {
        var r = PowerShellHost.Run($"try {{ Connect-Ahrvo -BaseUri '{uri}' -ApiKey (ConvertTo-SecureString k -AsPlainText -Force) -AccessToken (ConvertTo-SecureString t -AsPlainText -Force) }} catch {{ $_ }}");
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.Equal("Ahrvo.InvalidConnection,Ahrvo.PowerShell.Cmdlets.ConnectAhrvoCommand", record.FullyQualifiedErrorId);
        Assert.Contains(message, record.Exception.Message);
    }

    [Fact]
    public void Production_is_the_default_and_staging_is_selectable()
    {
        var r = PowerShellHost.Run("""
            Connect-Ahrvo -ApiKey (ConvertTo-SecureString k -AsPlainText -Force) -AccessToken (ConvertTo-SecureString t -AsPlainText -Force)
            "$((Get-AhrvoConnection).Environment) $((Get-AhrvoConnection).BaseUri)"
            Connect-Ahrvo -Environment Staging -ApiKey (ConvertTo-SecureString k -AsPlainText -Force) -AccessToken (ConvertTo-SecureString t -AsPlainText -Force)
            "$((Get-AhrvoConnection).Environment) $((Get-AhrvoConnection).BaseUri)"
            Disconnect-Ahrvo
            Get-AhrvoConnection -ErrorAction SilentlyContinue
            """);
        Assert.Equal("Production https://api.ahrvo.network/", r.Output[0].ToString());
        Assert.Equal("Staging https://gateway.ahrvo.network/", r.Output[1].ToString());
        Assert.Equal(2, r.Output.Count);
    }

    [Fact]
    public void Session_connection_is_seen_by_foreach_parallel_and_thread_jobs()
    {
        var r = Run($$"""
            $c = Get-AhrvoConnection
            '{{Good}}','{{Low}}' | ForEach-Object -Parallel { Import-Module $using:mod; (Get-AhrvoCardBalance $_).AvailableBalance } -ThrottleLimit 2 | Sort-Object
            '{{Good}}' | ForEach-Object -Parallel { Import-Module $using:mod; (Get-AhrvoCardBalance $_ -Connection $using:c).AvailableBalance }
            """, ("mod", PowerShellHost.ModuleAssemblyPath));
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { 42.17m, 1468.87m, 1468.87m }, r.Output.Select(o => (decimal)o.BaseObject));
    }

    [Fact]
    public async Task A_run_longer_than_a_second_shows_progress_and_completes()
    {
        await _fx.Emulator.SetConfigAsync(new { latencyMs = 250 });
        try
        {
            var r = Run($"$ProgressPreference = 'Continue'; Get-AhrvoCardBalance {Good},{Low},{Good},{Low},{Good},{Low},{Good} -ThrottleLimit 1");
            Assert.Empty(r.Errors);
            Assert.Equal(7, r.Output.Count);
            Assert.Contains(r.Progress, p => p.StatusDescription.Contains("of 7 cards"));
            Assert.Contains(r.Progress, p => p.RecordType == ProgressRecordType.Completed);
        }
        finally
        {
            await _fx.Emulator.SetConfigAsync(new { latencyMs = 0 });
        }
    }
}
