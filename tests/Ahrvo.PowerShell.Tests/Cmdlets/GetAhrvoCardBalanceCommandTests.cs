using System.Management.Automation;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>Get-AhrvoCardBalance as PowerShell runs it, against the emulator's sample cards: output, binding, errors, encoding, transport security.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class GetAhrvoCardBalanceCommandTests(EmulatorFixture fx, ITestOutputHelper log) : IAsyncLifetime
{
    private const string Good = EmulatorFixture.Sample;     // 1468.87
    private const string Low = "card201907021723076248";    // 42.17
    private const string Shared = "card201907021723076255";
    private const string Unknown = "card999999999999999999";
    private const string FullPan = "5157123456782686";
    private const string MaskedPan = "515712******2686";

    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Connect(string parameters = "") => EmulatorFixtureBase.Connect(parameters);

    private ScriptResult Run(string script, params (string, object?)[] vars) =>
        PowerShellHost.Run(PowerShellHost.ConnectLine + script, fx.Variables(vars));

    [Fact]
    public void Emits_typed_balances_in_input_order()
    {
        var before = DateTimeOffset.UtcNow;
        var r = Run($"Get-AhrvoCardBalance -CardId {Low},{Good},card201907021723076252");
        var after = DateTimeOffset.UtcNow;
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var balances = r.Output.Select(o => (CardBalance)o.BaseObject).ToList();
        Assert.Equal(new[] { Low, Good, "card201907021723076252" }, balances.Select(b => b.CardId));
        Assert.Equal(42.17m, balances[0].AvailableBalance);
        Assert.Equal(1468.87m, balances[1].AvailableBalance);
        Assert.Equal(12850.00m, balances[2].AvailableBalance);
        Assert.All(balances, b => Assert.Equal("USD", b.Currency));
        Assert.Equal("5157********2686", balances[1].CardNumber);
        Assert.All(balances, b => Assert.InRange(b.RetrievedAt, before, after)); // when it was read, not some other time
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

    [Fact]
    public void Prints_as_a_table_of_id_masked_number_balance_and_currency()
    {
        var r = Run($"Update-FormatData -AppendPath $format\nGet-AhrvoCardBalance {Good},{Low} | Out-String -Width 120", ("format", FormatFile));
        NoTerminating(r);
        var lines = string.Concat(r.Output.Select(o => o.ToString())).Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.Matches(@"^CardId\s+CardNumber\s+AvailableBalance\s+Currency$", lines[0]);
        Assert.Matches($@"^{Good}\s+5157\*{{8}}2686\s+1,468\.87 USD$", lines[2]);
        Assert.Matches($@"^{Low}\s+5157\*{{8}}1175\s+42\.17 USD$", lines[3]);
    }

    [Fact]
    public void Round_trips_through_Export_Csv_and_Import_Csv_with_the_same_values()
    {
        // The use case of the README's first pipeline: balances to a CSV file and back, exactly.
        var dir = NewTempDir("ahrvo-csv-");
        try
        {
            var r = Run($$"""
                [cultureinfo]::CurrentCulture = 'en-US'
                $before = Get-AhrvoCardBalance {{Good}},{{Low}},card201907021723076251
                $before | Export-Csv $path -NoTypeInformation
                $after = Import-Csv $path
                $after.Count
                for ($i = 0; $i -lt 3; $i++) { $after[$i].CardId -eq $before[$i].CardId -and [decimal]$after[$i].AvailableBalance -eq $before[$i].AvailableBalance }
                $after[2].AvailableBalance
                """, ("path", Path.Combine(dir, "all.csv")));
            Assert.Empty(r.Errors);
            NoTerminating(r);
            Assert.Equal(new object[] { 3, true, true, true, "0.00" }, r.Output.Select(o => o.BaseObject));
        }
        finally { Directory.Delete(dir, true); }
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
    public void Each_400_gets_the_remedy_of_the_case_the_API_named()
    {
        // The emulator answers INVALID_CARD_ID for an id of the wrong shape, NOT_DEDICATED_FUNDS_CARD for a Shared card.
        var r = Run($"Get-AhrvoCardBalance 'bad id!', {Shared}");
        Assert.Equal(2, r.Errors.Count);
        var invalid = r.Errors[0].ErrorDetails.RecommendedAction;
        var shared = r.Errors[1].ErrorDetails.RecommendedAction;
        Assert.Contains("missing or invalid", invalid);
        Assert.DoesNotContain("Shared Funds", invalid);
        Assert.Contains("budget account", shared);
        Assert.DoesNotContain("Check the card id", shared);
    }

    [Fact]
    public async Task A_200_whose_code_is_not_success_is_an_error_with_the_api_code()
    {
        await fx.Emulator.SetConfigAsync(new { faults = new[] { new { kind = "body", cardIds = new[] { Low }, body = "{\"code\":\"CARD_FROZEN\",\"message\":\"Card is frozen\"}", contentType = "application/json" } } });
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
            await fx.Emulator.SetConfigAsync(new { faults = Array.Empty<object>() });
        }
    }

    [Fact]
    public async Task A_body_that_is_not_the_expected_json_is_an_error_not_a_zero()
    {
        await fx.Emulator.SetConfigAsync(new { faults = new[] { new { kind = "nonjson", cardIds = new[] { Low } } } });
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
            await fx.Emulator.SetConfigAsync(new { faults = Array.Empty<object>() });
        }
    }

    [Fact]
    public async Task The_terminating_401_names_the_card_that_got_it_not_an_earlier_card_cancelled_by_it()
    {
        const string Refused = "card201907021723076246";
        // The first card is held (ten minutes), so the second card's 401 stops the run while the first is in flight.
        await fx.Emulator.SetConfigAsync(new
        {
            faults = new object[]
            {
                new { kind = "slow", delayMs = 600_000, cardIds = new[] { Good } },
                new { kind = "body", status = 401, body = "{\"code\":\"UNAUTHORIZED\",\"message\":\"token expired\"}", cardIds = new[] { Refused } },
            },
        });
        var r = Run($"try {{ Get-AhrvoCardBalance {Good},{Refused},{Low} -ThrottleLimit 4 }} catch {{ $caught = $_ }}; $caught");
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.StartsWith("Ahrvo.Unauthorized", record.FullyQualifiedErrorId);
        Assert.Equal(Refused, record.TargetObject);
        var stats = await fx.Emulator.WaitUntilIdleAsync(); // the held request was cancelled, not left to run
        // The first card's request is usually in flight when the 401 comes back; when the 401 is
        // quicker, it is never sent (a clean-clone run saw that). Either way it is never sent again.
        Assert.InRange(stats.RequestsPerCard.TryGetValue(Good, out var sent) ? sent : 0, 0, 1);
    }

    [Fact]
    public async Task Unauthorized_is_one_terminating_error_for_the_whole_run()
    {
        var r = PowerShellHost.Run(
            "Connect-Ahrvo -BaseUri $emuUri -ApiKey (ConvertTo-SecureString 'wrong' -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $emuToken -AsPlainText -Force)\n" +
            $"try {{ Get-AhrvoCardBalance {Good},{Low},{Good},{Low},{Good},{Low},{Good},{Low},{Good},{Low} -ThrottleLimit 1 }} catch {{ $caught = $_ }}; $caught",
            fx.Variables());
        // One terminating error, caught by try/catch (a non-terminating one would not be).
        var record = (ErrorRecord)Assert.Single(r.Output).BaseObject;
        Assert.Empty(r.Errors);
        Assert.StartsWith("Ahrvo.Unauthorized", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.AuthenticationError, record.CategoryInfo.Category);
        Assert.Contains("Connect-Ahrvo", record.Exception.Message);
        // It stops at once: not one request per card.
        var stats = await fx.Emulator.GetStatsAsync();
        Assert.True(stats.BalanceRequests <= 2, $"{stats.BalanceRequests} requests were sent after a 401");
    }

    public static TheoryData<int, string> HostileRefusals()
    {
        // Issue 18: bodies whose reading threw InvalidOperationException (a lone surrogate escape,
        // in a value or a name), or that are not text at all; each as a 401 and as a 403.
        var bodies = new[]
        {
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(@"{""code"":""\ud800""}")),
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(@"{""code"":""UNAUTHORIZED"",""message"":""token \udc00 expired""}")),
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(@"{""\ud800"":1,""code"":""E""}")),
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(@"{""code"":""\ud8")),
            Convert.ToBase64String(new byte[] { 0x7B, 0x22, 0x63, 0x6F, 0x64, 0x65, 0x22, 0x3A, 0x22, 0xFF, 0xC0, 0xAF, 0x22, 0x7D }), // {"code":"<invalid UTF-8>"}
        };
        var data = new TheoryData<int, string>();
        foreach (var status in new[] { 401, 403 })
            foreach (var body in bodies) data.Add(status, body);
        return data;
    }

    [Theory]
    [MemberData(nameof(HostileRefusals))]
    public async Task A_401_or_403_whose_body_cannot_be_read_still_stops_the_command_with_one_terminating_error(int status, string bodyBase64)
    {
        await fx.Emulator.SetConfigAsync(new { faults = new object[] { new { kind = "body", status, bodyBase64 } } });
        var r = Run($"try {{ Get-AhrvoCardBalance {Good},{Low},{Good},{Low},{Good},{Low} -ThrottleLimit 1 }} catch {{ $caught = $_ }}; $caught");
        log.WriteLine(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(bodyBase64)) + " -> " + string.Join(" | ", r.Output.Select(o => o.ToString())));
        // Caught by try/catch, so terminating; and not one error per card.
        var record = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.Empty(r.Errors);
        Assert.StartsWith(status == 401 ? "Ahrvo.Unauthorized," : "Ahrvo.Forbidden,", record.FullyQualifiedErrorId);
        Assert.Equal(Good, record.TargetObject);
        var stats = await fx.Emulator.GetStatsAsync();
        Assert.True(stats.BalanceRequests <= 2, $"{stats.BalanceRequests} requests were sent after a {status}");
    }

    [Fact]
    public async Task Forbidden_is_one_terminating_error()
    {
        await fx.Emulator.SetConfigAsync(new { issuanceDisabled = true });
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
            await fx.Emulator.SetConfigAsync(new { issuanceDisabled = false });
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
        Assert.DoesNotContain(fx.Emulator.ApiKey, r.AllText());
        Assert.DoesNotContain(fx.Emulator.AccessToken, r.AllText());
    }

    [Fact]
    public async Task Reserved_and_non_ASCII_characters_are_sent_URL_encoded_as_one_value()
    {
        var emu = fx.Emulator;
        var ids = new[] { "a&b", "a/b", "a?b", "a#b", "a%b", "a+b", "a b", "a=b&card_id=" + Good, "carté", "カード", "card-💳", "card_1-OK" };
        var r = PowerShellHost.Run(Connect() + "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));
        Assert.Empty(r.Output); // none of them exists: not even the smuggled card, which does
        Assert.Equal(ids, r.Errors.Select(e => (string)e.TargetObject));
        var stats = await emu.GetStatsAsync();
        Assert.Equal(ids.Length, stats.BalanceRequests);
        foreach (var id in ids)
        {
            var q = Assert.Single(stats.Requests, q => q.CardId == id); // the server decoded exactly the id given
            Assert.Equal("card_id=" + Uri.EscapeDataString(id), q.RawQuery);
            log.WriteLine($"{id} -> ?{q.RawQuery} -> HTTP {q.Status}");
        }
        Assert.Contains("card_id=a%26b", stats.Requests.Select(q => q.RawQuery));
        Assert.Contains("card_id=a%2Bb", stats.Requests.Select(q => q.RawQuery));
        Assert.Contains("card_id=cart%C3%A9", stats.Requests.Select(q => q.RawQuery));
        // The API's own verdict, clearly per card: 400 for the characters it refuses, 404 for a well-formed unknown id.
        Assert.All(r.Errors.Take(ids.Length - 1), e => Assert.Equal("Ahrvo.InvalidCard", ErrorId(e)));
        Assert.Equal("Ahrvo.CardNotFound", ErrorId(r.Errors[^1]));
    }

    [Fact]
    public async Task Redirects_are_not_followed_and_the_card_gets_a_Redirect_error()
    {
        var emu = fx.Emulator;
        var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        try
        {
            int port = ((IPEndPoint)target.LocalEndpoint).Port;
            await emu.SetConfigAsync(new { redirectTo = $"http://127.0.0.1:{port}" });
            var r = PowerShellHost.Run(Connect() + "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", new[] { Good, Low })));

            Assert.Empty(r.Output);
            Assert.Equal(2, r.Errors.Count);
            Assert.All(r.Errors, e =>
            {
                Assert.Equal("Ahrvo.Redirect", ErrorId(e));
                Assert.Equal(ErrorCategory.SecurityError, e.CategoryInfo.Category);
                Assert.Contains("not followed", e.Exception.Message);
            });
            // The cmdlet has returned, so a redirect it followed would have connected by now: the
            // kernel completes a connection to a listening socket without the listener accepting it.
            Assert.False(target.Pending(), "the redirect target received a connection");
            var stats = await emu.GetStatsAsync();
            Assert.Equal(2, stats.BalanceRequests); // one each: a redirect is not retried
            Assert.All(stats.Requests, q => Assert.Equal(302, q.Status));
        }
        finally
        {
            target.Stop();
        }
    }

    [Fact]
    public async Task An_untrusted_certificate_fails_once_with_a_TLS_error_and_nothing_is_sent()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var cert = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int connections = 0, requestsRead = 0;
        var cts = new CancellationTokenSource();
        var server = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                TcpClient c;
                try { c = await listener.AcceptTcpClientAsync(cts.Token); } catch { return; }
                Interlocked.Increment(ref connections);
                _ = Task.Run(async () =>
                {
                    using (c)
                    using (var ssl = new SslStream(c.GetStream()))
                    {
                        try
                        {
                            await ssl.AuthenticateAsServerAsync(cert);
                            if (await ssl.ReadAsync(new byte[1]) > 0) Interlocked.Increment(ref requestsRead);
                        }
                        catch (Exception) { /* the client refused our certificate: expected */ }
                    }
                });
            }
        });
        try
        {
            var uri = new Uri($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
            var r = PowerShellHost.Run(Connect("-MaxRetries 3 -RetryBaseDelayMs 10") + "Get-AhrvoCardBalance -CardId card201907021723076245", fx.Variables(("emuUri", uri)));
            var e = Assert.Single(r.Errors);
            log.WriteLine(e.Exception.Message);
            Assert.Equal("Ahrvo.TlsFailure", ErrorId(e));
            Assert.Equal(ErrorCategory.SecurityError, e.CategoryInfo.Category);
            Assert.Contains("never turned off", e.ErrorDetails.RecommendedAction);
            Assert.Equal(1, connections); // not retried
            Assert.Equal(0, requestsRead); // no request (and so no header) ever crossed
        }
        finally
        {
            cts.Cancel();
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_full_card_number_from_the_API_is_masked_in_output_and_diagnostics()
    {
        var emu = fx.Emulator;
        await emu.PutCardAsync("cardpanfull", "99.50", cardNumber: FullPan);
        await emu.PutCardAsync("cardpanspaced", "1.00", cardNumber: "5157 1234 5678 2686");
        await emu.PutCardAsync("cardpan19", "2.00", cardNumber: "5157123456789012345");
        var r = PowerShellHost.Run(Connect() + "Get-AhrvoCardBalance -CardId cardpanfull,cardpanspaced,cardpan19 -Verbose -Debug\nTest-AhrvoCardBalance -CardId cardpanfull -Amount 1 -Detailed", fx.Variables());
        Assert.Empty(r.Errors);
        var b = r.Output.Take(3).Select(o => (CardBalance)o.BaseObject).ToList();
        Assert.Equal(MaskedPan, b[0].CardNumber);
        Assert.Equal("5157 12** **** 2686", b[1].CardNumber);
        Assert.Equal("515712*********2345", b[2].CardNumber);
        Assert.Equal(MaskedPan, ((BalanceCheck)r.Output[3].BaseObject).CardNumber);
        var all = r.AllText();
        Assert.DoesNotContain(FullPan, all);
        Assert.DoesNotContain("5157 1234 5678 2686", all);
        Assert.DoesNotContain("5157123456789012345", all);
        Assert.Contains(r.Debug, d => d.Contains(MaskedPan)); // the debug body preview is masked too
    }
}
