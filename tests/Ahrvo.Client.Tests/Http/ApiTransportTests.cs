using System.Net;
using Ahrvo.Client.Http;
using Ahrvo.Client.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Client.Tests.Http;

/// <summary>
/// The HTTP side of a connection: how its HttpClient and handler are set up, and what one request
/// carries. In memory; the real socket path is exercised against the emulator by the module's tests
/// (tests/Ahrvo.PowerShell.Tests: URL encoding, redirects, resets, headers the emulator checks).
/// </summary>
public sealed class ApiTransportTests
{
    private static AhrvoClientOptions Options(Uri baseUri) =>
        new(baseUri, TestSecrets.Secure(InMemoryClient.ApiKey), TestSecrets.Secure(InMemoryClient.Token));

    [Fact]
    public void HttpClient_never_times_out_on_its_own_and_the_handler_never_follows_redirects_or_skips_certificate_checks()
    {
        var loopback = new Uri("http://127.0.0.1:5000/");
        using var client = new AhrvoClient(Options(loopback));
        Assert.Equal(Timeout.InfiniteTimeSpan, client.CreateHttpClient().Timeout);

        var http = (HttpClientHandler)ApiTransport.CreateHandler(Options(loopback));
        Assert.False(http.AllowAutoRedirect);
        Assert.Null(http.ServerCertificateCustomValidationCallback);
        Assert.False(http.UseProxy); // plain http (loopback): never to a system proxy

        var https = (HttpClientHandler)ApiTransport.CreateHandler(Options(new Uri("https://api.example.test/")));
        Assert.True(https.UseProxy);
        Assert.Null(https.Proxy); // system settings
        Assert.Null(https.ServerCertificateCustomValidationCallback);

        var o = Options(new Uri("https://api.example.test/"));
        o.Proxy = new Uri("http://127.0.0.1:3128/");
        var explicitProxy = (HttpClientHandler)ApiTransport.CreateHandler(o);
        Assert.Equal(new Uri("http://127.0.0.1:3128/"), explicitProxy.Proxy!.GetProxy(new Uri("https://api.example.test/x")));
    }

    /// <summary>Keeps what the handler was given: the request is disposed once answered.</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        public readonly List<(HttpMethod Method, Uri Uri, Dictionary<string, string> Headers)> Seen = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Seen.Add((request.Method, request.RequestUri!, request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase)));
            return Task.FromResult(ScriptedHandler.Balance("any"));
        }
    }

    [Fact]
    public async Task A_request_is_one_GET_under_the_base_path_with_the_card_id_as_one_encoded_value_and_the_credentials_in_headers()
    {
        var handler = new RecordingHandler();
        using var client = InMemoryClient.Create(handler, new FakeTimeProvider(), o => o.UserAgent = "Ahrvo.Test/1.0");
        const string id = "card1&card_id=card2 #é";
        Assert.True((await client.GetBalanceAsync(id)).Success);

        var (method, uri, headers) = Assert.Single(handler.Seen);
        Assert.Equal(HttpMethod.Get, method);
        Assert.Equal("https://api.example.test/card/issuance/api/issuing/card/v2/normal/balance?card_id=card1%26card_id%3Dcard2%20%23%C3%A9", uri.AbsoluteUri);
        Assert.Equal("Bearer " + InMemoryClient.Token, headers["Authorization"]);
        Assert.Equal(InMemoryClient.ApiKey, headers["x-api-key"]);
        Assert.Equal("application/json", headers["Accept"]);
        Assert.Equal("Ahrvo.Test/1.0", headers["User-Agent"]);
    }

    [Fact]
    public async Task A_base_uri_with_a_path_keeps_it()
    {
        var handler = new RecordingHandler();
        using var gateway = new AhrvoClient(new AhrvoClientOptions(new Uri("https://gw.example.test/ahrvo"), TestSecrets.Secure("k"), TestSecrets.Secure("t"))
        {
            HandlerFactory = () => handler,
            Time = new FakeTimeProvider(),
        });
        Assert.True((await gateway.GetBalanceAsync("card1")).Success);
        Assert.Equal("/ahrvo/card/issuance/api/issuing/card/v2/normal/balance", Assert.Single(handler.Seen).Uri.AbsolutePath);
    }
}
