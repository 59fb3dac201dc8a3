namespace Ahrvo.Client.Tests.Support;

/// <summary>
/// A fake clock that knows when the code under test is waiting: it keeps the timers that are set
/// (Task.Delay, timeouts) and <see cref="RunAsync{T}"/> moves time straight to the next one whenever
/// the code waits, so time-dependent logic runs in fake seconds and the outcome never depends on how
/// fast the machine is.
/// </summary>
/// <remarks>
/// The timers are its own, not FakeTimeProvider's: setting a timer and moving the clock take the
/// same lock. With FakeTimeProvider underneath, a timer set while another thread moved the clock
/// was due here at one time and there at a later one; the clock then stepped by zero for ever
/// (a client test hung that way on a loaded machine).
/// </remarks>
public sealed class SteppedClock : TimeProvider
{
    /// <summary>Where the clock starts.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // A wait left pending this many polls (of a millisecond or more) is stepped to: the code is waiting on it.
    private const int WaitPolls = 3;
    // A timeout (a CancellationTokenSource's timer) only after far longer: while it is pending an
    // attempt may merely be off the CPU, and stepping to it then would time out a live attempt.
    private const int TimeoutPolls = 50;
    // Liveness: nothing to step to for this many polls means the task waits on something else.
    private const int GiveUpPolls = 20_000;

    private readonly object _lock = new();
    private readonly List<Timer> _armed = new();
    private long _now; // ticks since Start
    private long _order; // tie-break: timers due at the same tick fire in the order they were set

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return Start.AddTicks(_now);
    }

    // Never zero, as a real Stopwatch timestamp (the client takes 0 for "not started yet").
    public override long GetTimestamp()
    {
        lock (_lock) return Start.UtcTicks + _now;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // A CancellationTokenSource passes itself as the state: its timer is a timeout, not a wait.
        var timer = new Timer(this, callback, state, isTimeout: state is CancellationTokenSource);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>How far ahead the earliest pending one-shot timer is; null when none is pending.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            lock (_lock)
                return NextOneShot() is long due ? TimeSpan.FromTicks(due - _now) : null;
        }
    }

    // Periodic timers (the service's hang check) tick for ever: they are no one's wait, so they are
    // fired on the way but never stepped to.
    private long? NextOneShot()
    {
        long? next = null;
        foreach (var t in _armed)
            if (t.Period == 0 && (next == null || t.Due < next)) next = t.Due;
        return next is long due ? Math.Max(due, _now) : null;
    }

    /// <summary>Moves time forward by <paramref name="by"/>, firing every timer due on the way at its own time, in order.</summary>
    public void Advance(TimeSpan by)
    {
        long target;
        lock (_lock) target = _now + Math.Max(0, by.Ticks);
        AdvanceTo(target);
    }

    private void AdvanceTo(long target)
    {
        while (true)
        {
            Timer? next = null;
            lock (_lock)
            {
                foreach (var t in _armed)
                    if (t.Due <= target && (next == null || t.Due < next.Due || (t.Due == next.Due && t.Order < next.Order)))
                        next = t;
                if (next == null)
                {
                    if (target > _now) _now = target;
                    return;
                }
                if (next.Due > _now) _now = next.Due;
                if (next.Period > 0)
                {
                    next.Due += next.Period;
                    next.Order = ++_order;
                }
                else
                {
                    _armed.Remove(next);
                }
            }
            // Outside the lock: the callback may set timers, and whatever it runs inline may too.
            next.Fire();
        }
    }

    /// <summary>Runs <paramref name="task"/> to its end, moving the clock to each pending timer in turn.</summary>
    /// <param name="limit">Fake time the task may take; passing it throws rather than run for ever.</param>
    public async Task<T> RunAsync<T>(Task<T> task, TimeSpan? limit = null)
    {
        long end = GetTimestamp() + (limit ?? TimeSpan.FromHours(1)).Ticks;
        for (int idle = 0; !task.IsCompleted;)
        {
            long? step = null;
            // Work queued on the thread pool (a continuation not run yet) may set an earlier timer.
            if (ThreadPool.PendingWorkItemCount == 0)
            {
                lock (_lock)
                {
                    if (idle >= (_armed.Exists(t => t.Period == 0 && !t.IsTimeout) ? WaitPolls : TimeoutPolls))
                        step = NextOneShot();
                }
            }
            if (step is long due)
            {
                if (due > end) throw new TimeoutException("The fake clock passed its limit and the task has not finished.");
                AdvanceTo(due);
                idle = 0;
            }
            else
            {
                // Let continuations run (they may set the next timer) before moving the clock.
                await Task.Delay(1).ConfigureAwait(false);
                if (++idle > GiveUpPolls) throw new TimeoutException("The task waits on something other than the clock.");
            }
        }
        return await task.ConfigureAwait(false);
    }

    private sealed class Timer(SteppedClock clock, TimerCallback callback, object? state, bool isTimeout) : ITimer
    {
        public readonly bool IsTimeout = isTimeout;
        public long Due;
        public long Period;
        public long Order;
        private bool _disposed;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                if (_disposed) return false;
                clock._armed.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                Due = clock._now + Math.Max(0, dueTime.Ticks);
                // As System.Threading.Timer: a zero or infinite period fires once.
                Period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : period.Ticks;
                Order = ++clock._order;
                clock._armed.Add(this);
                return true;
            }
        }

        public void Dispose()
        {
            lock (clock._lock)
            {
                _disposed = true;
                clock._armed.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
