extern alias emu;
using System.Text.Json.Nodes;
using emu::Ahrvo.Emulator;
using Xunit;

namespace Ahrvo.Emulator.Tests;

public class FaultSelectionTests
{
    private static EmulatorConfig Config(string json) => EmulatorConfig.Merge(new EmulatorConfig(), JsonNode.Parse(json)!.AsObject());

    private static readonly string[] CardIds = Enumerable.Range(0, 10_000).Select(i => $"card2019{i:D14}").ToArray();

    [Fact]
    public void FirstAttemptOnly_fires_only_on_attempt_one()
    {
        var config = Config("""{"faults":[{"kind":"503","firstAttemptOnly":true}]}""");
        Assert.True(config.Faults[0].FirstAttemptOnly);
        foreach (var card in CardIds.Take(100))
        {
            Assert.Equal("503", FaultInjector.Select(config, card, 1)?.Kind);
            Assert.Null(FaultInjector.Select(config, card, 2));
            Assert.Null(FaultInjector.Select(config, card, 3));
        }
    }

    [Fact]
    public void FirstAttemptOnly_rate_selects_about_that_fraction_of_cards_exactly_once()
    {
        var config = Config("""{"faults":[{"kind":"503","rate":0.01,"firstAttemptOnly":true,"seed":3}]}""");
        int faulted = CardIds.Count(c => FaultInjector.Select(config, c, 1) is not null);
        Assert.InRange(faulted, 70, 130); // 1% of 10,000, binomial sd ~10
        Assert.All(CardIds, c => Assert.Null(FaultInjector.Select(config, c, 2)));
    }

    [Fact]
    public void Several_once_rules_make_a_mix_and_the_first_match_wins()
    {
        var config = Config("""
            {"faults":[{"kind":"503","rate":0.05,"firstAttemptOnly":true,"seed":1},
                       {"kind":"reset","rate":0.05,"firstAttemptOnly":true,"seed":2},
                       {"kind":429,"rate":0.05,"firstAttemptOnly":true,"seed":3,"retryAfter":2}]}
            """);
        var kinds = CardIds.Select(c => FaultInjector.Select(config, c, 1)?.Kind).Where(k => k is not null)
            .GroupBy(k => k!).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(kinds["503"], 400, 600);
        Assert.InRange(kinds["reset"], 350, 600); // 5% of the 95% the first rule left
        Assert.InRange(kinds["429"], 320, 600);
        Assert.Equal("2", config.Faults[2].RetryAfter);
        // Where both rules would fire, the earlier one is chosen.
        Assert.All(CardIds.Where(c => FaultInjector.Matches(config.Faults[0], c, 1)), c => Assert.Equal("503", FaultInjector.Select(config, c, 1)!.Kind));
    }

    [Fact]
    public void Without_firstAttemptOnly_a_rate_rule_can_fire_on_later_attempts()
    {
        var config = Config("""{"faults":[{"kind":"503","rate":0.5}]}""");
        Assert.Contains(CardIds.Take(200), c => FaultInjector.Select(config, c, 2) is not null);
    }

    [Fact]
    public void Command_line_faults_become_once_rules_with_distinct_seeds()
    {
        var options = EmulatorOptions.Parse(["--faults", "503:0.01:once,reset:0.02:once", "--fault=500:0.5",
            "--rate-limit", "50", "--rate-limit-burst", "10", "--rate-limit-retry-after", "auto"]);
        var config = options.ToConfig();
        Assert.Equal(["503", "reset", "500"], config.Faults.Select(f => f.Kind));
        Assert.Equal([1, 2, 3], config.Faults.Select(f => f.Seed));
        Assert.Equal([true, true, false], config.Faults.Select(f => f.FirstAttemptOnly));
        Assert.Equal([0.01, 0.02, 0.5], config.Faults.Select(f => f.Rate));
        Assert.Equal((50, 10, "auto"), (config.RateLimitPerSecond, config.RateLimitBurst, config.RateLimitRetryAfter));
    }

    [Theory]
    [InlineData("--fault", "503")]
    [InlineData("--fault", "503:2")]
    [InlineData("--fault", "503:0.1:twice")]
    [InlineData("--fault", "nope:0.1")]
    [InlineData("--rate-limit", "-1")]
    public void Bad_flags_are_rejected(string flag, string value) =>
        Assert.Throws<ArgumentException>(() => EmulatorOptions.Parse([flag, value]).ToConfig());

    [Fact]
    public void Rate_limit_config_keys_merge_and_validate()
    {
        var c = Config("""{"rateLimitPerSecond":5,"rateLimitBurst":20,"rateLimitRetryAfter":"AUTO"}""");
        Assert.Equal((5, 20, "auto"), (c.RateLimitPerSecond, c.RateLimitBurst, c.RateLimitRetryAfter));
        c = EmulatorConfig.Merge(c, JsonNode.Parse("""{"rateLimitRetryAfter":null}""")!.AsObject());
        Assert.Equal("1", c.RateLimitRetryAfter);
        c = EmulatorConfig.Merge(c, JsonNode.Parse("""{"rateLimitRetryAfter":3}""")!.AsObject());
        Assert.Equal("3", c.RateLimitRetryAfter);
        Assert.Throws<ConfigException>(() => Config("""{"rateLimitRetryAfter":"soon"}"""));
        Assert.Throws<ConfigException>(() => Config("""{"rateLimitBurst":-1}"""));
        Assert.True(EmulatorConfig.TouchesRateLimit(JsonNode.Parse("""{"RateLimitBurst":1}""")!.AsObject()));
        Assert.False(EmulatorConfig.TouchesRateLimit(JsonNode.Parse("""{"latencyMs":1}""")!.AsObject()));
    }
}
