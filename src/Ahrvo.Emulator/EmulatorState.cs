namespace Ahrvo.Emulator;

/// <summary>Everything the endpoints share: cards, counters, the rate limiter, and the swappable live config.</summary>
public sealed class EmulatorState(CardStore cards, EmulatorConfig startupConfig)
{
    private volatile EmulatorConfig _config = startupConfig;

    public CardStore Cards { get; } = cards;
    public RequestStats Stats { get; } = new();
    public RateLimiter Limiter { get; } = new();
    public PreciseDelay Latency { get; } = new();

    /// <summary>The config from the command line, restored by POST /_emulator/reset?config=true.</summary>
    public EmulatorConfig StartupConfig { get; } = startupConfig;

    public EmulatorConfig Config
    {
        get => _config;
        set => _config = value;
    }
}
