using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Security;
using System.Security.Authentication;
using Ahrvo.Client.Resilience;
using Ahrvo.Emulator;
using Ahrvo.TestSupport;
using Polly;
using Polly.Timeout;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests;

/// <summary>What is retried and what is not, how long the client waits, and how its HttpClient is set up.</summary>
public sealed class AhrvoClientRetryTests(ClientEmulatorFixture fx, ITestOutputHelper log) : IClassFixture<ClientEmulatorFixture>
{
    private AhrvoClientOptions Options(Uri? baseUri = null) =>
        new(baseUri ?? fx.Emulator.BaseUri, ClientEmulatorFixture.Secure(fx.Emulator.ApiKey), ClientEmulatorFixture.Secure(fx.Emulator.AccessToken))
        {
            MaxRetries = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        };

    [Fact]
    public void HttpClient_never_times_out_on_its_own_and_the_handler_never_follows_redirects_or_skips_certificate_checks()
    {
        using var client = new AhrvoClient(Options());
        Assert.Equal(Timeout.InfiniteTimeSpan, client.CreateHttpClient().Timeout);

        var http = (HttpClientHandler)Http.ApiTransport.CreateHandler(Options());
        Assert.False(http.AllowAutoRedirect);
        Assert.Null(http.ServerCertificateCustomValidationCallback);
        Assert.False(http.UseProxy); // plain http (loopback): never to a system proxy

        var https = (HttpClientHandler)Http.ApiTransport.CreateHandler(Options(new Uri("https://api.example.test/")));
        Assert.True(https.UseProxy);
        Assert.Null(https.Proxy); // system settings
        Assert.Null(https.ServerCertificateCustomValidationCallback);

        var o = Options(new Uri("https://api.example.test/"));
        o.Proxy = new Uri("http://127.0.0.1:3128/");
        var explicitProxy = (HttpClientHandler)Http.ApiTransport.CreateHandler(o);
        Assert.Equal(new Uri("http://127.0.0.1:3128/"), explicitProxy.Proxy!.GetProxy(new Uri("https://api.example.test/x")));
    }

    [Theory]
    [InlineData("408", 2)]
    [InlineData("500", 2)]
    [InlineData("502", 2)]
    [InlineData("503", 2)]
    [InlineData("504", 2)]
    [InlineData("429", 2)]
    [InlineData("reset", 2)]
    [InlineData("html", 2)]
    public async Task Transient_failures_are_retried(string kind, int expectedRequests)
    {
        var emu = fx.Emulator;
        await emu.ResetAsync(includeConfig: true);
        string id = CardGenerator.IdFor(1);
        await emu.SetConfigAsync(new { faults = new[] { new { kind, firstAttempts = 1, cardIds = new[] { id } } } });
        using var client = new AhrvoClient(Options());
        var r = await client.GetBalanceAsync(id);
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(decimal.Parse(CardGenerator.Create(1).AvailableBalance!, System.Globalization.CultureInfo.InvariantCulture), r.AvailableBalance);
        Assert.Equal(expectedRequests, r.Attempts);
        Assert.Equal(expectedRequests, (await emu.GetStatsAsync(limit: 0)).RequestsPerCard[id]);
    }

    [Theory]
    [InlineData(400, """{"code":"INVALID_CARD_ID","message":"bad"}""", AhrvoErrorKind.InvalidCard)]
    [InlineData(401, """{"code":"UNAUTHORIZED","message":"no"}""", AhrvoErrorKind.Unauthorized)]
    [InlineData(403, """{"code":"FORBIDDEN","message":"no"}""", AhrvoErrorKind.Forbidden)]
    [InlineData(404, """{"code":"CARD_NOT_FOUND","message":"no"}""", AhrvoErrorKind.CardNotFound)]
    [InlineData(200, """{"code":"FAILED","message":"try later","data":{"available_balance":"0.00"}}""", AhrvoErrorKind.ApiError)]
    [InlineData(200, """{"code":"SUCCESS","data":{"available_balance":"NaN"}}""", AhrvoErrorKind.InvalidResponse)]
    [InlineData(501, """{"code":"NOT_IMPLEMENTED"}""", AhrvoErrorKind.UnexpectedStatus)]
    [InlineData(302, "", AhrvoErrorKind.Redirect)]
    public async Task Definite_answers_are_never_retried(int status, string body, AhrvoErrorKind kind)
    {
        var emu = fx.Emulator;
        await emu.ResetAsync(includeConfig: true);
        string id = CardGenerator.IdFor(2);
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "body", status, body, cardIds = new[] { id } } } });
        using var client = new AhrvoClient(Options());
        var r = await client.GetBalanceAsync(id);
        Assert.False(r.Success);
        Assert.Equal(kind, r.Error!.Kind);
        Assert.Equal(1, r.Attempts);
        Assert.Equal(1, (await emu.GetStatsAsync(limit: 0)).RequestsPerCard[id]);
    }

    [Fact]
    public async Task Retry_After_as_an_HTTP_date_is_honoured()
    {
        var emu = fx.Emulator;
        await emu.ResetAsync(includeConfig: true);
        string id = CardGenerator.IdFor(3);
        var at = DateTimeOffset.UtcNow.AddSeconds(4); // 3 to 4 s once truncated to whole seconds: room for a slow setup
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "503", retryAfter = at.ToString("r"), firstAttempts = 1, cardIds = new[] { id } } } });
        using var client = new AhrvoClient(Options());
        var r = await client.GetBalanceAsync(id);
        Assert.True(r.Success, r.Error?.Message);
        var reqs = (await emu.GetStatsAsync()).Requests.OrderBy(q => q.StartedAt).ToList();
        // The header carries whole seconds, so the client must wait until that second, measured from
        // the answer (not from when the test wrote the date: setting up may take a while on a busy machine).
        long until = at.ToUnixTimeSeconds() * 1000;
        long asked = until - reqs[0].EndedAt, waited = reqs[1].StartedAt - reqs[0].EndedAt;
        log.WriteLine($"HTTP-date Retry-After {at:r}: asked to wait {asked} ms, waited {waited} ms");
        Assert.True(asked > 1000, $"the test's date left only {asked} ms to wait");
        Assert.True(reqs[1].StartedAt >= until - 20, $"retried {until - reqs[1].StartedAt} ms before the date");
        Assert.True(waited <= asked + 1000, $"asked to wait {asked} ms, waited {waited} ms");
    }

    [Fact]
    public async Task A_hostile_Retry_After_is_capped_by_MaxRetryDelay()
    {
        var emu = fx.Emulator;
        await emu.ResetAsync(includeConfig: true);
        string id = CardGenerator.IdFor(4);
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "429", retryAfter = "86400", firstAttempts = 1, cardIds = new[] { id } } } });
        var o = Options();
        o.MaxRetryDelay = TimeSpan.FromSeconds(1);
        using var client = new AhrvoClient(o);
        var sw = Stopwatch.StartNew();
        var r = await client.GetBalanceAsync(id);
        Assert.True(r.Success, r.Error?.Message);
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 3);
    }

    [Fact]
    public async Task MaxRetryDelay_zero_means_retry_at_once_not_a_broken_pipeline()
    {
        var emu = fx.Emulator;
        await emu.ResetAsync(includeConfig: true);
        string id = CardGenerator.IdFor(7);
        await emu.SetConfigAsync(new { faults = new[] { new { kind = "503", retryAfter = "5", firstAttempts = 1, cardIds = new[] { id } } } });
        var o = Options();
        o.MaxRetryDelay = TimeSpan.Zero;
        using var client = new AhrvoClient(o);
        var sw = Stopwatch.StartNew();
        var r = await client.GetBalanceAsync(id);
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(2, r.Attempts);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), sw.Elapsed.ToString());
    }

}
