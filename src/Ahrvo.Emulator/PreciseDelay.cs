using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Ahrvo.Emulator;

/// <summary>
/// Completes waits at their deadline to within about 0.1 ms, never early; the emulator's configured
/// latency goes through here.
/// </summary>
/// <remarks>
/// Task.Delay is not precise enough for a latency model: on Linux .NET's timers run on
/// CLOCK_MONOTONIC_COARSE (4 ms ticks), so a "20 ms" server answered late on average and some
/// answers early (figures: docs/performance.md). One dedicated thread sleeps with usleep (microsecond resolution) in steps
/// of at most 1 ms while anything waits, and blocks untimed when nothing does. Where usleep is not
/// available (Windows) the waits fall back to Task.Delay.
/// </remarks>
public sealed unsafe class PreciseDelay
{
    private static readonly delegate* unmanaged<uint, int> Usleep = LoadUsleep();
    private static readonly long MaxStepTicks = Stopwatch.Frequency / 1000; // 1 ms

    private readonly PriorityQueue<Waiter, long> _queue = new();
    private readonly object _gate = new();
    private Thread? _thread;

    /// <summary>True when waits are precise (usleep found); false when they fall back to Task.Delay.</summary>
    public static bool IsPrecise => Usleep != null;

    /// <summary>Completes when <paramref name="dueTimestamp"/> (a Stopwatch timestamp) has passed.</summary>
    public Task DelayUntilAsync(long dueTimestamp, CancellationToken cancellationToken)
    {
        long remaining = dueTimestamp - Stopwatch.GetTimestamp();
        if (remaining <= 0) return Task.CompletedTask;
        if (Usleep == null)
            return Task.Delay(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency), cancellationToken);

        var waiter = new Waiter();
        if (cancellationToken.CanBeCanceled)
            waiter.Registration = cancellationToken.Register(static (w, ct) => ((Waiter)w!).Source.TrySetCanceled(ct), waiter);
        lock (_gate)
        {
            _queue.Enqueue(waiter, dueTimestamp);
            if (_thread == null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "Ahrvo.Emulator latency" };
                _thread.Start();
            }
            else if (_queue.Count == 1)
            {
                Monitor.Pulse(_gate); // the thread is blocked untimed on an empty queue
            }
        }
        return waiter.Source.Task;
    }

    private void Run()
    {
        var due = new List<Waiter>();
        while (true)
        {
            long sleepTicks;
            lock (_gate)
            {
                while (_queue.Count == 0) Monitor.Wait(_gate);
                long now = Stopwatch.GetTimestamp();
                while (_queue.TryPeek(out var w, out long at) && (at <= now || w.Source.Task.IsCompleted))
                    due.Add(_queue.Dequeue());
                sleepTicks = _queue.TryPeek(out _, out long next) ? Math.Min(next - now, MaxStepTicks) : 0;
            }
            // Completed outside the lock; continuations run on the thread pool (RunContinuationsAsynchronously).
            foreach (var w in due)
            {
                w.Registration.Unregister();
                w.Source.TrySetResult();
            }
            due.Clear();
            if (sleepTicks > 0)
                Usleep((uint)Math.Max(1, sleepTicks * 1_000_000 / Stopwatch.Frequency));
        }
    }

    private static delegate* unmanaged<uint, int> LoadUsleep()
    {
        string[] names = OperatingSystem.IsLinux() ? ["libc.so.6", "libc"]
            : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? ["libc", "/usr/lib/libSystem.dylib"]
            : [];
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "usleep", out var fn))
                return (delegate* unmanaged<uint, int>)fn;
        }
        return null;
    }

    private sealed class Waiter
    {
        public readonly TaskCompletionSource Source = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration;
    }
}
