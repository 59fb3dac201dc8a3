namespace Ahrvo.Emulator;

/// <summary>Fixed one-second window. The lock is only taken when a test has set rateLimitPerSecond.</summary>
public sealed class RateLimiter
{
    private readonly Lock _gate = new();
    private long _window = -1;
    private int _count;

    public bool TryAcquire(int limitPerSecond)
    {
        long window = Environment.TickCount64 / 1000;
        lock (_gate)
        {
            if (window != _window)
            {
                _window = window;
                _count = 0;
            }
            return ++_count <= limitPerSecond;
        }
    }
}
