using System.Globalization;
using System.Text;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>
/// Strange answers from the API, through Get-AhrvoCardBalance: each gives a clear per-card error or the
/// exact value, never a crash, a wrong balance, or a zero standing in for an error.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class GetAhrvoCardBalanceCommandResponseTests(EmulatorFixture fx, ITestOutputHelper log) : IAsyncLifetime
{
    public Task InitializeAsync() => fx.FreshAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Connect(string parameters = "") => EmulatorFixtureBase.Connect(parameters);

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
        // A firewall's or a CDN's page, not the API's JSON: neither the card's fault nor the account's,
        // and the 403 page does not stop the run (the API's own 403 does).
        ("body-html-403", new { kind = "body", status = 403, contentType = "text/html", body = "<html><body>Access denied by the firewall</body></html>" }, "Ahrvo.UnexpectedStatus"),
        ("body-html-404", new { kind = "body", status = 404, contentType = "text/html", body = "<html><body><h1>404 Not Found</h1></body></html>" }, "Ahrvo.UnexpectedStatus"),
        ("body-escape-in-balance", new { kind = "body", body = "{\"code\":\"SUCCESS\",\"data\":{\"available_balance\":\"1\\u001b[2J\\nFORGED\",\"currency\":\"USD\"}}" }, "Ahrvo.InvalidResponse"),
        ("body-escape-in-message", new { kind = "body", status = 400, body = "{\"code\":\"BAD\",\"message\":\"line1\\n\\u001b[31mFORGED: ok\"}" }, "Ahrvo.InvalidCard"),
    ];

    [Fact]
    public async Task Strange_balances_and_bodies_give_a_clear_error_or_the_exact_value()
    {
        var emu = fx.Emulator;
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

    private static Dictionary<string, object?> Merge(object fault, string id)
    {
        var d = fault.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(fault));
        d["cardIds"] = new[] { id };
        return d;
    }
}
