using System.Globalization;
using System.Management.Automation;
using System.Text;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.PowerShell.Tests;

/// <summary>
/// Bad card ids from the user and strange answers from the API: each gives a clear per-card error
/// or the correct value, never a crash, a wrong balance, or a zero standing in for an error.
/// </summary>
public sealed class BadInputTests(CardsEmulatorFixture fx, ITestOutputHelper log) : IClassFixture<CardsEmulatorFixture>
{
    private static string Connect(string parameters = "") => CardsEmulatorFixture.Connect(parameters);

    private static string ErrorId(ErrorRecord e) => e.FullyQualifiedErrorId.Split(',')[0];

    [Fact]
    public async Task Totals_and_differences_never_overflow_and_a_huge_balance_loses_no_other_card()
    {
        var emu = await fx.FreshAsync();
        await emu.PutCardAsync("card-huge-1", "79228162514264337593543950335");
        await emu.PutCardAsync("card-huge-2", "79228162514264337593543950335");
        await emu.PutCardAsync("card-limit-1", "1000000000000000.00");
        await emu.PutCardAsync("card-limit-2", "1000000000000000.00");
        var ids = new[] { "card-huge-1", "card-limit-1", "card-huge-2", "card-limit-2" };
        var r = PowerShellHost.Run(Connect() + "Measure-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { "card-huge-1", "card-huge-2" }, r.Errors.Select(e => (string)e.TargetObject));
        Assert.All(r.Errors, e => Assert.Equal("Ahrvo.InvalidResponse", ErrorId(e)));
        var summary = Assert.Single(r.Output).BaseObject;
        Assert.Contains("2000000000000000", string.Join(" ", summary.GetType().GetProperties().Select(p => Convert.ToString(p.GetValue(summary), CultureInfo.InvariantCulture))));

        // Amounts from the user follow the same rule, so a difference cannot overflow either.
        var c = PowerShellHost.Run(Connect() + "Compare-AhrvoCardBalance -CardId card-limit-1 -ExpectedBalance 79228162514264337593543950335", fx.Variables());
        Assert.Contains(c.Errors.Select(e => e.ToString()).Append(c.Terminating?.Message ?? ""), m => m.Contains("more than any card holds"));
    }

    [Theory]
    [InlineData("Test-AhrvoCardBalance -CardId $id -Amount '1,5'")]
    [InlineData("[pscustomobject]@{ card_id = $id; amount = '1,5' } | Test-AhrvoCardBalance")]
    [InlineData("Compare-AhrvoCardBalance -CardId $id -ExpectedBalance 10 -Tolerance '0,01'")]
    [InlineData("Get-AhrvoCardBalance $id | Export-AhrvoBalanceReport -Path $path -LowBalanceThreshold '1,5'")]
    [InlineData("Watch-AhrvoCardBalance -CardId $id -Once -Critical '1,5'")]
    [InlineData("Export-AhrvoBalanceMetric -CardId $id -Path $path -Low '1,5'")]
    public async Task Every_amount_parameter_follows_the_one_money_rule_so_1_comma_5_is_refused_not_read_as_15(string script)
    {
        var emu = await fx.FreshAsync();
        var path = Path.Combine(Path.GetTempPath(), "ahrvo-money-" + Guid.NewGuid() + ".html");
        var r = PowerShellHost.Run(Connect() + script, fx.Variables(("id", CardsEmulatorFixture.Ids(1)[0]), ("path", path)));
        // A parameter binding error that names the value and the rule; nothing compared or written.
        var all = r.Errors.Select(e => e.ToString()).Append(r.Terminating?.Message ?? "");
        Assert.Contains(all, m => m.Contains("'1,5'") || m.Contains("'0,01'"));
        Assert.Contains(all, m => m.Contains("'.' as the decimal point"));
        Assert.DoesNotContain(r.Output, o => o.BaseObject is bool);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Unusable_card_ids_are_parameter_errors_and_send_nothing()
    {
        var emu = await fx.FreshAsync();
        var cases = new (string script, string why)[]
        {
            ("Get-AhrvoCardBalance -CardId $null", "null"),
            ("Get-AhrvoCardBalance -CardId ''", "empty"),
            ("Get-AhrvoCardBalance -CardId '   '", "white space"),
            ("Get-AhrvoCardBalance -CardId ('c' * 129)", "129 characters"),
            ("Get-AhrvoCardBalance -CardId \"card`t1\"", "control character"),
            ("Get-AhrvoCardBalance -CardId ('card' + [char]0xD800)", "lone UTF-16 surrogate"),
            ("Test-AhrvoCardBalance -CardId '' -Amount 1", "empty"),
        };
        foreach (var (script, why) in cases)
        {
            var r = PowerShellHost.Run(Connect() + script, fx.Variables());
            var e = r.Errors.SingleOrDefault() ?? (r.Terminating as IContainsErrorRecord)?.ErrorRecord;
            Assert.True(e != null, $"{why}: no error");
            Assert.Empty(r.Output);
            Assert.Equal(ErrorCategory.InvalidData, e!.CategoryInfo.Category);
            Assert.StartsWith("ParameterArgumentValidationError", e.FullyQualifiedErrorId);
            log.WriteLine($"{why}: {e.Exception.Message.Split('\n')[0]}");
        }
        // From the pipeline: the bad ones are refused one by one, the good one still gets its balance.
        var p = PowerShellHost.Run(Connect() + "$null, '', '  ', 'card201900000000000001', ('x' * 300) | Get-AhrvoCardBalance", fx.Variables());
        Assert.Equal("card201900000000000001", Assert.Single(p.Output.Select(o => ((CardBalance)o.BaseObject).CardId)));
        Assert.Equal(4, p.Errors.Count);
        Assert.Equal(1, (await emu.GetStatsAsync(limit: 0)).BalanceRequests);
    }

    [Fact]
    public async Task Reserved_and_non_ASCII_characters_are_sent_URL_encoded_as_one_value()
    {
        var emu = await fx.FreshAsync();
        var ids = new[] { "a&b", "a/b", "a?b", "a#b", "a%b", "a+b", "a b", "a=b&card_id=card201900000000000000", "carté", "カード", "card-💳", "card_1-OK" };
        var r = PowerShellHost.Run(Connect() + "Get-AhrvoCardBalance -CardId $ids", fx.Variables(("ids", ids)));
        Assert.Empty(r.Output); // none of them exists: not even the smuggled card201900000000000000
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

    /// <summary>A planted balance string and what must come of it: a value, or an error id.</summary>
    public static readonly (string id, string? balance, string expected)[] Balances =
    [
        ("bal-comma", "1,234.50", "Ahrvo.InvalidResponse"),
        ("bal-exp", "1e3", "Ahrvo.InvalidResponse"),
        ("bal-nan", "NaN", "Ahrvo.InvalidResponse"),
        ("bal-inf", "Infinity", "Ahrvo.InvalidResponse"),
        ("bal-hex", "0x1F", "Ahrvo.InvalidResponse"),
        ("bal-fullwidth", "１２.５０", "Ahrvo.InvalidResponse"),
        ("bal-trailing-dot", "12.", "Ahrvo.InvalidResponse"),
        ("bal-null", null, "Ahrvo.InvalidResponse"),
        ("bal-empty", "", "Ahrvo.InvalidResponse"),
        ("bal-huge", "79228162514264337593543950336", "Ahrvo.InvalidResponse"),
        ("bal-too-precise", "0.12345678901234567890123456789", "Ahrvo.InvalidResponse"),
        ("bal-very-long", new string('9', 5000), "Ahrvo.InvalidResponse"),
        ("bal-spaces", " 12.50 ", "12.50"),
        ("bal-negative", "-5.25", "-5.25"),
        ("bal-three-decimals", "12.345", "12.345"),
        ("bal-zero", "0.00", "0.00"),
        ("bal-plus", "+7.10", "7.10"),
        ("bal-leading-zeros", "007.5", "7.5"),
        ("bal-max", "79228162514264337593543950335", "Ahrvo.InvalidResponse"),
        ("bal-limit", "1000000000000000.00", "1000000000000000.00"),
    ];

    /// <summary>A planted response body (status 200 unless given) and what must come of it.</summary>
    public static readonly (string id, object fault, string expected)[] Bodies =
    [
        ("body-no-data", new { kind = "body", body = """{"code":"SUCCESS"}""" }, "Ahrvo.InvalidResponse"),
        ("body-data-null", new { kind = "body", body = """{"code":"SUCCESS","data":null}""" }, "Ahrvo.InvalidResponse"),
        ("body-empty-data", new { kind = "body", body = """{"code":"SUCCESS","data":{}}""" }, "Ahrvo.InvalidResponse"),
        ("body-balance-object", new { kind = "body", body = """{"code":"SUCCESS","data":{"available_balance":{"v":1}}}""" }, "Ahrvo.InvalidResponse"),
        ("body-balance-bool", new { kind = "body", body = """{"code":"SUCCESS","data":{"available_balance":true}}""" }, "Ahrvo.InvalidResponse"),
        ("body-balance-number", new { kind = "body", body = """{"code":"SUCCESS","data":{"available_balance":1468.87}}""" }, "1468.87"),
        ("body-balance-number-exp", new { kind = "body", body = """{"code":"SUCCESS","data":{"available_balance":1e3}}""" }, "Ahrvo.InvalidResponse"),
        ("body-duplicate-balance", new { kind = "body", body = """{"code":"SUCCESS","data":{"available_balance":"1.00","available_balance":"999.00"}}""" }, "Ahrvo.InvalidResponse"),
        ("body-no-code", new { kind = "body", body = """{"data":{"available_balance":"1.00"}}""" }, "Ahrvo.ApiError"),
        ("body-code-fail", new { kind = "body", body = """{"code":"FAIL","message":"nope","data":{"available_balance":"0.00"}}""" }, "Ahrvo.ApiError"),
        ("body-array", new { kind = "body", body = "[1,2]" }, "Ahrvo.InvalidResponse"),
        ("body-deep", new { kind = "body", body = new string('[', 200) + new string(']', 200) }, "Ahrvo.InvalidResponse"),
        ("body-empty", new { kind = "emptybody" }, "Ahrvo.InvalidResponse"),
        ("body-10mb", new { kind = "body", body = "x", repeat = 10 * 1024 * 1024 }, "Ahrvo.InvalidResponse"),
        ("body-text-plain-json", new { kind = "body", contentType = "text/plain", body = """{"code":"SUCCESS","data":{"available_balance":"3.25"}}""" }, "3.25"),
        ("body-html-200", new { kind = "body", contentType = "text/html", body = "<html><body>Sign in to the Wi-Fi</body></html>" }, "Ahrvo.InvalidResponse"),
        ("body-nonjson", new { kind = "nonjson" }, "Ahrvo.InvalidResponse"),
        ("body-truncated", new { kind = "truncated" }, "Ahrvo.InvalidResponse"),
        ("body-invalid-utf8", new { kind = "body", bodyBase64 = Convert.ToBase64String([.. Encoding.ASCII.GetBytes("""{"code":"SUCCESS","data":{"available_balance":"1"""), 0xC3, 0x28, .. Encoding.ASCII.GetBytes("\"}}")]) }, "Ahrvo.InvalidResponse"),
        ("body-bom", new { kind = "body", bodyBase64 = Convert.ToBase64String([0xEF, 0xBB, 0xBF, .. Encoding.ASCII.GetBytes("""{"code":"SUCCESS","data":{"available_balance":"4.50"}}""")]) }, "4.50"),
        ("body-bad-currency", new { kind = "body", body = """{"code":"SUCCESS","data":{"available_balance":"1.00","currency":"US$"}}""" }, "Ahrvo.InvalidResponse"),
        ("body-eur", new { kind = "body", body = """{"code":"SUCCESS","data":{"available_balance":"2.00","currency":"eur"}}""" }, "2.00"),
        ("body-204", new { kind = "body", status = 204, body = "" }, "Ahrvo.UnexpectedStatus"),
        ("body-escape-in-balance", new { kind = "body", body = "{\"code\":\"SUCCESS\",\"data\":{\"available_balance\":\"1\\u001b[2J\\nFORGED\",\"currency\":\"USD\"}}" }, "Ahrvo.InvalidResponse"),
        ("body-escape-in-message", new { kind = "body", status = 400, body = "{\"code\":\"BAD\",\"message\":\"line1\\n\\u001b[31mFORGED: ok\"}" }, "Ahrvo.InvalidCard"),
    ];

    [Fact]
    public async Task Strange_balances_and_bodies_give_a_clear_error_or_the_exact_value()
    {
        var emu = await fx.FreshAsync();
        foreach (var (id, balance, _) in Balances) await emu.PutCardAsync(id, balance);
        await emu.SetConfigAsync(new { faults = Bodies.Select(b => Merge(b.fault, b.id)).ToArray() });
        var ids = Balances.Select(b => b.id).Concat(Bodies.Select(b => b.id)).ToArray();
        var expected = Balances.Select(b => (b.id, b.expected)).Concat(Bodies.Select(b => (b.id, b.expected))).ToArray();

        // Retries allowed, to show that none of these answers is retried: each is definite.
        var r = PowerShellHost.Run(Connect("-MaxRetries 2 -RetryBaseDelayMs 10") + "Get-AhrvoCardBalance -CardId $ids -ThrottleLimit 8", fx.Variables(("ids", ids)));
        Assert.Null(r.Terminating);
        var values = r.Output.Select(o => (CardBalance)o.BaseObject).ToDictionary(b => b.CardId);
        var errors = r.Errors.ToDictionary(e => (string)e.TargetObject);
        var stats = await emu.GetStatsAsync(limit: 0);
        foreach (var (id, want) in expected)
        {
            string got = values.TryGetValue(id, out var v) ? v.AvailableBalance.ToString(CultureInfo.InvariantCulture) + " " + v.Currency
                : errors.TryGetValue(id, out var e) ? ErrorId(e) + ": " + e.Exception.Message : "(nothing)";
            log.WriteLine($"{id,-26} {got}");
            if (want.StartsWith("Ahrvo.", StringComparison.Ordinal))
            {
                Assert.False(values.ContainsKey(id), $"{id}: a balance was output for a bad answer");
                Assert.True(errors.ContainsKey(id), $"{id}: no error");
                Assert.Equal(want, ErrorId(errors[id]));
                Assert.Contains(id, errors[id].Exception.Message); // the message names the card
            }
            else
            {
                Assert.False(errors.ContainsKey(id), $"{id}: {got}");
                Assert.Equal(decimal.Parse(want, CultureInfo.InvariantCulture), values[id].AvailableBalance);
                // Exactly, down to the scale: 12.50 stays 12.50, 12.345 is not rounded.
                Assert.Equal(want, values[id].AvailableBalance.ToString(CultureInfo.InvariantCulture));
            }
            Assert.Equal(1, stats.RequestsPerCard[id]); // a definite answer is never retried
        }
        Assert.Equal(ids.Length, r.Output.Count + r.Errors.Count); // each card once
        Assert.Equal("EUR", values["body-eur"].Currency);
        foreach (var id in new[] { "body-escape-in-message", "body-escape-in-balance" })
        {
            var forged = errors[id].Exception.Message;
            Assert.DoesNotContain('\u001b', forged);
            Assert.DoesNotContain('\n', forged);
        }
        Assert.Contains("larger than 1 MB", errors["body-10mb"].Exception.Message);
        Assert.Contains("UTF-8", errors["body-invalid-utf8"].Exception.Message);
        Assert.Contains("more than once", errors["body-duplicate-balance"].Exception.Message);
    }

    [Fact]
    public async Task Test_AhrvoCardBalance_never_answers_for_a_card_it_could_not_read()
    {
        var emu = await fx.FreshAsync();
        await emu.PutCardAsync("bal-nan-t", "NaN");
        await emu.PutCardAsync("bal-null-t", null);
        await emu.SetConfigAsync(new { faults = new object[] { new { kind = "emptybody", cardIds = new[] { "card201900000000000003" } } } });
        var r = PowerShellHost.Run(Connect() + "Test-AhrvoCardBalance -CardId bal-nan-t,bal-null-t,card201900000000000003,card201900000000000001 -Amount 0", fx.Variables());
        // Amount 0 would be "sufficient" for any balance, a zero included: only the readable card answers.
        Assert.Equal(new object[] { true }, r.Output.Select(o => o.BaseObject));
        Assert.Equal(3, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.Equal("Ahrvo.InvalidResponse", ErrorId(e)));
    }

    private static Dictionary<string, object?> Merge(object fault, string id)
    {
        var d = fault.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(fault));
        d["cardIds"] = new[] { id };
        return d;
    }
}
