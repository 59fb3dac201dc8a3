using Microsoft.Extensions.Time.Testing;

namespace Ahrvo.Client.Tests.Support;

/// <summary>
/// A fake clock that knows when the code under test is waiting: it tracks the one-shot timers
/// (Task.Delay, timeouts) that are pending, and <see cref="RunAsync{T}"/> moves time straight to
/// the next one whenever one is pending, so time-dependent logic runs in fake seconds, and the
/// outcome never depends on how fast the machine is.
/// </summary>
public sealed class SteppedClock : TimeProvider
{
    private readonly FakeTimeProvider _fake = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly object _lock = new();
    private readonly List<Entry> _oneShots = new();

    public override long GetTimestamp() => _fake.GetTimestamp();
    public override long TimestampFrequency => _fake.TimestampFrequency;
    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

    public void Advance(TimeSpan by) => _fake.Advance(by);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var entry = new Entry(this);
        entry.Set(dueTime, period);
        entry.Inner = _fake.CreateTimer(s => { entry.Fired(); callback(s); }, state, dueTime, period);
        return entry;
    }

    /// <summary>How far ahead the earliest pending one-shot timer is; null when none is pending.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            lock (_lock)
            {
                if (_oneShots.Count == 0) return null;
                var now = _fake.GetUtcNow();
                var next = _oneShots.Min(e => e.Due) - now;
                return next < TimeSpan.Zero ? TimeSpan.Zero : next;
            }
        }
    }

    /// <summary>Runs <paramref name="task"/> to its end, moving the clock to each pending timer in turn.</summary>
    public async Task<T> RunAsync<T>(Task<T> task, TimeSpan? limit = null)
    {
        var end = _fake.GetUtcNow() + (limit ?? TimeSpan.FromHours(1));
        for (int idle = 0; !task.IsCompleted; )
        {
            if (NextDue is TimeSpan due && idle > 2)
            {
                if (_fake.GetUtcNow() + due > end) throw new TimeoutException("The fake clock passed its limit and the task has not finished.");
                _fake.Advance(due);
                idle = 0;
            }
            else
            {
                // Let continuations run (they may create the next timer) before moving the clock.
                await Task.Delay(1);
                idle++;
                if (idle > 20000) throw new TimeoutException("The task waits on something other than the clock.");
            }
        }
        return await task;
    }

    private sealed class Entry(SteppedClock owner) : ITimer
    {
        public ITimer Inner = null!;
        public DateTimeOffset Due;

        public void Set(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                owner._oneShots.Remove(this);
                // Only one-shot timers are waits; periodic ones (the hang check) tick for ever.
                if (dueTime != Timeout.InfiniteTimeSpan && period == Timeout.InfiniteTimeSpan)
                {
                    Due = owner._fake.GetUtcNow() + dueTime;
                    owner._oneShots.Add(this);
                }
            }
        }

        public void Fired()
        {
            lock (owner._lock) owner._oneShots.Remove(this);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Set(dueTime, period);
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            lock (owner._lock) owner._oneShots.Remove(this);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
