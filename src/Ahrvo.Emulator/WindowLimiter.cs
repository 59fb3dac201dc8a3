namespace Ahrvo.Emulator;

/// <summary>
/// The account-wide rate limit as many gateways count it, instead of a token bucket: at most
/// <c>rate</c> requests in each second. <b>Fixed</b>: seconds of the emulator's clock, the count
/// starting over at each. <b>Sliding</b>: any second before now. Refused requests do not count. Once
/// a second's count is spent, everything is refused until it turns over, whatever the pace, which a
/// client that reads each 429 as "too fast" must not take for a lower limit.
/// </summary>
public sealed class WindowLimiter(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly long _frequency = time.TimestampFrequency;
    private long _window = long.MinValue;
    private int _inWindow;
    private readonly Queue<long> _accepted = new(); // sliding: accepted requests' timestamps within the last second

    /// <summary>Starts counting afresh (config changed the limit, or was restored).</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _window = long.MinValue;
            _inWindow = 0;
            _accepted.Clear();
        }
    }

    /// <summary>Counts one request if the second has room; else returns false and how long until it has.</summary>
    public bool TryAcquire(int ratePerSecond, bool sliding, out TimeSpan wait)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        long now = time.GetTimestamp();
        lock (_gate)
        {
            if (sliding)
            {
                while (_accepted.Count > 0 && _accepted.Peek() <= now - _frequency) _accepted.Dequeue();
                if (_accepted.Count >= ratePerSecond)
                {
                    wait = TimeSpan.FromSeconds((double)(_accepted.Peek() + _frequency - now) / _frequency);
                    return false;
                }
                _accepted.Enqueue(now);
                wait = TimeSpan.Zero;
                return true;
            }
            long window = now / _frequency;
            if (window != _window)
            {
                _window = window;
                _inWindow = 0;
            }
            if (_inWindow >= ratePerSecond)
            {
                wait = TimeSpan.FromSeconds((double)((window + 1) * _frequency - now) / _frequency);
                return false;
            }
            _inWindow++;
            wait = TimeSpan.Zero;
            return true;
        }
    }
}
