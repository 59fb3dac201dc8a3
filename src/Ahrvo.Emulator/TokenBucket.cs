namespace Ahrvo.Emulator;

/// <summary>
/// The account-wide rate limit: a token bucket refilled continuously at <c>rate</c> tokens/s up to
/// <c>capacity</c>. Tokens are kept in fixed point (1 token = TimestampFrequency units) so refills are
/// exact on a fake clock and never drift. The tiny lock is only taken when a rate limit is configured.
/// </summary>
public sealed class TokenBucket(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly long _frequency = time.TimestampFrequency;
    private int _rate;
    private long _capacity; // in fixed-point units
    private long _credit;   // in fixed-point units
    private long _last;
    private bool _reset = true;

    public TimeProvider Time => time;

    /// <summary>Refill to full on the next request (config changed the limit, or was restored).</summary>
    public void Reset()
    {
        lock (_gate) _reset = true;
    }

    /// <summary>Takes one token. When the bucket is empty returns false and how long until a token is available.</summary>
    /// <param name="ratePerSecond">Refill rate; must be &gt; 0.</param>
    /// <param name="burst">Capacity; 0 means one second's worth (= <paramref name="ratePerSecond"/>).</param>
    public bool TryAcquire(int ratePerSecond, int burst, out TimeSpan wait)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        long capacity = (long)(burst > 0 ? burst : ratePerSecond) * _frequency;
        long now = time.GetTimestamp();
        lock (_gate)
        {
            // Settings differing from the last request's (e.g. reset?config=true) also start a full bucket.
            if (_reset || ratePerSecond != _rate || capacity != _capacity)
            {
                _reset = false;
                _rate = ratePerSecond;
                _capacity = capacity;
                _credit = capacity;
            }
            else if (now > _last)
            {
                long elapsed = now - _last;
                long missing = _capacity - _credit;
                // Compare before multiplying so a long idle period cannot overflow.
                _credit = elapsed >= missing / _rate + 1 ? _capacity : _credit + elapsed * _rate;
            }
            _last = Math.Max(_last, now);

            if (_credit >= _frequency)
            {
                _credit -= _frequency;
                wait = TimeSpan.Zero;
                return true;
            }

            long waitUnits = (_frequency - _credit + _rate - 1) / _rate; // ceiling: the first moment a whole token exists
            wait = TimeSpan.FromSeconds((double)waitUnits / _frequency);
            return false;
        }
    }

    /// <summary>Retry-After for "auto": whole seconds until a token is available, at least 1.</summary>
    public static string AutoRetryAfter(TimeSpan wait) =>
        Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds - 1e-9)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
