using System.Net.Http;
using Ahrvo.TestSupport;
using Xunit;

namespace Ahrvo.Emulator.Tests;

/// <summary>
/// The emulator's configured latency is a floor the benchmarks divide by, so it must hold for every request,
/// one at a time and many at once. How close to the floor the answers come (PreciseDelay's point) is a
/// timing figure: build.ps1 Bench prints the mean server-side time next to the configured latency.
/// </summary>
public sealed class EmulatorLatencyTests
{
    [Fact]
    public async Task No_request_is_answered_before_the_configured_latency_has_passed()
    {
        await using var emu = await EmulatorProcess.StartAsync("--generate", "50", "--latency-ms", "20");
        using var http = new HttpClient();
        async Task Get(int i)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, emu.BalanceUri($"card2019{i:D14}"));
            req.Headers.Add("Authorization", "Bearer " + emu.AccessToken);
            req.Headers.Add("x-api-key", emu.ApiKey);
            using var resp = await http.SendAsync(req);
            Assert.True((int)resp.StatusCode is 200 or 400, $"status {(int)resp.StatusCode}"); // 400: a generated Shared card
        }

        for (int i = 0; i < 30; i++) await Get(i % 40);                          // one at a time
        await Task.WhenAll(Enumerable.Range(0, 48).Select(i => Get(i % 40)));    // many at once

        var stats = await emu.GetStatsAsync();
        Assert.Equal(78, stats.Requests.Count);
        Assert.All(stats.Requests, q => Assert.True(q.DurationMs >= 20.0, $"answered after {q.DurationMs} ms"));
    }
}
