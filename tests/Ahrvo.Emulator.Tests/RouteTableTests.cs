extern alias emu;
using System.Net;
using System.Text;
using Ahrvo.TestSupport;
using RouteTable = emu::Ahrvo.Emulator.RouteTable;
using ConfigException = emu::Ahrvo.Emulator.ConfigException;
using Xunit;

namespace Ahrvo.Emulator.Tests;

/// <summary>The route table for the vendor's other endpoints: parsing, and the real emulator answering and counting them.</summary>
public class RouteTableTests
{
    private const string TopUp = "/card/issuance/api/issuing/card/v2/normal/topup";

    [Fact]
    public void The_nth_request_to_a_route_gets_its_nth_response_and_the_last_repeats()
    {
        var table = RouteTable.Parse($$$"""[{"method":"post","path":"{{{TopUp}}}","responses":[{"status":503},{"status":200,"body":{"code":"SUCCESS"}}]}]""");
        var route = table.Find("POST", TopUp)!;
        Assert.Equal(503, table.Next(route).Response.Status);
        Assert.Equal(200, table.Next(route).Response.Status);
        Assert.Equal(200, table.Next(route).Response.Status);
        Assert.Null(table.Find("GET", TopUp));
        Assert.Equal(503, table.Restarted().Next(route).Response.Status);
    }

    [Theory]
    [InlineData("""{"method":"GET"}""")]                                       // not an array
    [InlineData("""[{"method":"GET","path":"card/x"}]""")]                    // no leading slash
    [InlineData("""[{"method":"FETCH","path":"/x"}]""")]                      // no such method
    [InlineData("""[{"method":"GET","path":"/x","stauts":200}]""")]           // a typo
    [InlineData("""[{"method":"GET","path":"/x","responses":[]}]""")]         // no response
    [InlineData("""[{"method":"GET","path":"/x","status":200,"responses":[{"status":200}]}]""")]
    [InlineData("""[{"method":"GET","path":"/x","fault":"hang"}]""")]
    [InlineData("""[{"method":"GET","path":"/_emulator/stats"}]""")]
    public void A_route_table_with_a_mistake_is_refused_naming_it(string json) =>
        Assert.Throws<ConfigException>(() => RouteTable.Parse(json));

    [Fact]
    public async Task Routes_set_through_the_admin_api_answer_in_order_check_credentials_and_are_counted()
    {
        await using var emulator = await EmulatorProcess.StartAsync();
        await emulator.SetRoutesAsync($$$$"""
            [{"method":"POST","path":"{{{{TopUp}}}}","responses":[
                {"status":503},
                {"status":200,"headers":{"X-Request-Id":"r-2"},"body":{"code":"SUCCESS","data":{"order_id":"20260101000000000001"}}}]},
             {"method":"GET","path":"/card/issuance/api/issuing/card/v2/normal/details","body":"plain text"}]
            """);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = emulator.BaseUri };
        HttpRequestMessage Request(HttpMethod method, string path, bool credentials = true)
        {
            var r = new HttpRequestMessage(method, path.TrimStart('/'));
            if (credentials)
            {
                r.Headers.Authorization = new("Bearer", emulator.AccessToken);
                r.Headers.Add("x-api-key", emulator.ApiKey);
            }
            r.Headers.Add("Idempotency-Key", "k-1");
            if (method == HttpMethod.Post) r.Content = new StringContent("""{"amount":"10.00","remark":"é"}""", Encoding.UTF8, "application/json");
            return r;
        }

        using (var r = await http.SendAsync(Request(HttpMethod.Post, TopUp, credentials: false)))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode); // a gateway's answer comes before the credentials
        using (var r = await http.SendAsync(Request(HttpMethod.Post, TopUp, credentials: false)))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);       // the API's own answer checks them
        using (var r = await http.SendAsync(Request(HttpMethod.Post, TopUp)))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("r-2", r.Headers.GetValues("X-Request-Id").Single());
            Assert.Contains("20260101000000000001", await r.Content.ReadAsStringAsync());
        }
        using (var r = await http.SendAsync(Request(HttpMethod.Get, "/card/issuance/api/issuing/card/v2/normal/details")))
        {
            Assert.Equal("plain text", await r.Content.ReadAsStringAsync());
            Assert.Equal("text/plain", r.Content.Headers.ContentType?.MediaType);
        }
        using (var r = await http.SendAsync(Request(HttpMethod.Get, "/card/issuance/api/nothing/here")))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);

        var stats = await emulator.GetStatsAsync();
        Assert.Equal(4, stats.RouteRequests);
        Assert.Equal(3, stats.RequestsPerRoute["POST " + TopUp]);
        Assert.Equal(1, stats.RequestsPerRoute["GET /card/issuance/api/issuing/card/v2/normal/details"]);
        Assert.Equal(0, stats.BalanceRequests);
        var posts = stats.Requests.Where(x => x.Route == "POST " + TopUp).ToList();
        Assert.Equal(new[] { 503, 401, 200 }, posts.Select(x => x.Status));
        Assert.All(posts, x => Assert.Equal("k-1", x.IdempotencyKey));
        Assert.Equal("""{"amount":"10.00","remark":"é"}""", Encoding.UTF8.GetString(Convert.FromBase64String(posts[2].BodyBase64!)));
        Assert.StartsWith("application/json", posts[2].ContentType);

        // A reset starts every route's answers over.
        await emulator.ResetAsync();
        using (var r = await http.SendAsync(Request(HttpMethod.Post, TopUp)))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
    }

    [Fact]
    public async Task A_reset_route_drops_the_connection_after_reading_the_request_and_routes_obey_the_account_s_rate_limit()
    {
        await using var emulator = await EmulatorProcess.StartAsync();
        await emulator.SetRoutesAsync($$$"""[{"method":"POST","path":"{{{TopUp}}}","fault":"reset"},{"method":"GET","path":"/card/x","body":{}}]""");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = emulator.BaseUri };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.PostAsync(TopUp.TrimStart('/'), new StringContent("{}")));

        await emulator.SetConfigAsync("""{"rateLimitPerSecond":1,"rateLimitBurst":1}""");
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "card/x");
            request.Headers.Authorization = new("Bearer", emulator.AccessToken);
            request.Headers.Add("x-api-key", emulator.ApiKey);
            using var r = await http.SendAsync(request);
            statuses.Add(r.StatusCode);
        }
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var stats = await emulator.GetStatsAsync();
        Assert.Equal(statuses.Count(s => s == HttpStatusCode.TooManyRequests), stats.RateLimited);
        Assert.Equal(0, stats.Requests.Single(x => x.Route == "POST " + TopUp).Status);

        // The same limit counted in seconds: one request a second, so of five back to back (which
        // would have to span five seconds to all pass) at least one is refused, with the seconds
        // until the count starts over. A bucket of this burst would let all five through.
        await emulator.SetConfigAsync("""{"rateLimitPerSecond":1,"rateLimitBurst":5,"rateLimitWindow":"fixed","rateLimitRetryAfter":"auto"}""");
        var windowed = new List<HttpResponseMessage>();
        for (int i = 0; i < 5; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "card/x");
            request.Headers.Authorization = new("Bearer", emulator.AccessToken);
            request.Headers.Add("x-api-key", emulator.ApiKey);
            windowed.Add(await http.SendAsync(request));
        }
        var refused = windowed.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.Equal(TimeSpan.FromSeconds(1), r.Headers.RetryAfter?.Delta));
        windowed.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task Routes_load_from_a_file_at_start_and_a_bad_file_stops_the_start_naming_it()
    {
        var dir = Directory.CreateTempSubdirectory("ahrvo-routes-").FullName;
        try
        {
            var good = Path.Combine(dir, "routes.json");
            File.WriteAllText(good, """[{"method":"GET","path":"/card/issuance/api/issuing/card/v2/normal/list","body":{"code":"SUCCESS","data":[]}}]""");
            await using (var emulator = await EmulatorProcess.StartAsync("--routes", good))
            {
                using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = emulator.BaseUri };
                var request = new HttpRequestMessage(HttpMethod.Get, "card/issuance/api/issuing/card/v2/normal/list");
                request.Headers.Authorization = new("Bearer", emulator.AccessToken);
                request.Headers.Add("x-api-key", emulator.ApiKey);
                using var r = await http.SendAsync(request);
                Assert.Equal("""{"code":"SUCCESS","data":[]}""", await r.Content.ReadAsStringAsync());
            }
            var bad = Path.Combine(dir, "bad.json");
            File.WriteAllText(bad, """[{"method":"GET","path":"nope"}]""");
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => EmulatorProcess.StartAsync("--routes", bad));
            Assert.Contains("bad.json", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
