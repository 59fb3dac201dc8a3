using System.Net;
using Ahrvo.TestSupport;
using Xunit;

namespace Ahrvo.Emulator.Tests;

/// <summary>The real emulator process: an outage window and the new counters, over HTTP.</summary>
public class EmulatorEndToEndTests
{
    [Fact]
    public async Task Outage_window_answers_503_and_the_rate_limit_and_status_counters_count()
    {
        await using var emulator = await EmulatorProcess.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        const string card = "card201907021723076245";

        async Task<HttpResponseMessage> Get()
        {
            var request = new HttpRequestMessage(HttpMethod.Get, emulator.BalanceUri(card));
            request.Headers.Authorization = new("Bearer", emulator.AccessToken);
            request.Headers.Add("x-api-key", emulator.ApiKey);
            return await http.SendAsync(request);
        }

        // A window far longer than the test, so timing cannot matter.
        await emulator.SetConfigAsync("""{"outages":[{"kind":"503","startMs":0,"durationMs":600000,"retryAfter":"4"}]}""");
        using (var r = await Get())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(4), r.Headers.RetryAfter?.Delta);
        }

        // A CDN in front of the API that cannot reach it: 522 with its own HTML page.
        await emulator.SetConfigAsync("""{"outages":[{"kind":"522","startMs":0,"durationMs":600000}]}""");
        using (var r = await Get())
        {
            Assert.Equal(522, (int)r.StatusCode);
            Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Error 522", await r.Content.ReadAsStringAsync());
        }

        // 1 token/s, capacity 1: of 5 back-to-back requests at least one finds the bucket empty, however slow the machine.
        await emulator.SetConfigAsync("""{"outages":null,"rateLimitPerSecond":1,"rateLimitBurst":1,"rateLimitRetryAfter":"auto"}""");
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++)
        {
            using var r = await Get();
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests) Assert.Equal(TimeSpan.FromSeconds(1), r.Headers.RetryAfter?.Delta);
        }
        Assert.Equal(HttpStatusCode.OK, statuses[0]); // the config POST refilled the bucket

        var stats = await emulator.GetStatsAsync(limit: 0);
        long limited = statuses.Count(s => s == HttpStatusCode.TooManyRequests);
        Assert.InRange(limited, 1, 4);
        Assert.Equal(limited, stats.RateLimited);
        Assert.Equal(1, stats.StatusCounts["503"]);
        Assert.Equal(1, stats.StatusCounts["522"]);
        Assert.Equal(limited, stats.StatusCounts["429"]);
        Assert.Equal(5 - limited, stats.StatusCounts["200"]);
        Assert.Equal(stats.BalanceRequests, stats.StatusCounts.Values.Sum());

        await emulator.ResetAsync();
        var zeroed = await emulator.GetStatsAsync(limit: 0);
        Assert.Equal(0, zeroed.RateLimited);
        Assert.Empty(zeroed.StatusCounts);
    }
}
