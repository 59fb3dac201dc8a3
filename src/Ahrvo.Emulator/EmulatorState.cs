namespace Ahrvo.Emulator;

/// <summary>Everything the endpoints share: cards, counters, the rate limiter, and the swappable live config.</summary>
public sealed class EmulatorState(CardStore cards, EmulatorConfig startupConfig, TimeProvider? time = null)
{
    private volatile EmulatorConfig _config = startupConfig;

    public CardStore Cards { get; } = cards;
    public RequestStats Stats { get; } = new();
    /// <summary>The clock for the rate limit and outage windows (TimeProvider.System in the app).</summary>
    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    public TokenBucket Limiter { get; } = new(time ?? TimeProvider.System);
    /// <summary>The rate limit when the config counts it in seconds ("fixed" or "sliding") instead of a bucket.</summary>
    public WindowLimiter Window { get; } = new(time ?? TimeProvider.System);

    /// <summary>
    /// The account-wide rate limit, for the balance endpoint and the routes alike: counts one request
    /// if <paramref name="config"/>'s limit has room (the bucket, or the window it names); else false
    /// and how long until it has. Always true when no limit is set.
    /// </summary>
    public bool TryAcquireRate(EmulatorConfig config, out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        if (config.RateLimitPerSecond <= 0) return true;
        return config.RateLimitWindow == EmulatorConfig.DefaultRateLimitWindow
            ? Limiter.TryAcquire(config.RateLimitPerSecond, config.RateLimitBurst, out wait)
            : Window.TryAcquire(config.RateLimitPerSecond, config.RateLimitWindow == "sliding", out wait);
    }
    public PreciseDelay Latency { get; } = new();

    /// <summary>The config from the command line, restored by POST /_emulator/reset?config=true.</summary>
    public EmulatorConfig StartupConfig { get; } = startupConfig;

    private volatile RouteTable _routes = RouteTable.Empty;

    /// <summary>The routes of the vendor's other endpoints (--routes, PUT /_emulator/routes); restored by reset?config=true.</summary>
    public RouteTable Routes
    {
        get => _routes;
        set => _routes = value;
    }

    /// <summary>The routes from the command line (--routes FILE).</summary>
    public RouteTable StartupRoutes { get; set; } = RouteTable.Empty;

    public EmulatorConfig Config
    {
        get => _config;
        set => _config = value;
    }
}
