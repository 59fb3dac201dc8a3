using System;
using System.Threading.Tasks;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// Where a connection's asynchronous work runs and how its waiters are woken: the thread pool, in
    /// production. The one seam that lets a test run the real client and bulk run as a deterministic
    /// simulation on one thread (tests/…/Support/PacingSimulation.cs): a worker loop started there,
    /// a signal fired there and a random draw all stay on its event loop, in its order.
    /// </summary>
    internal class WorkScheduler
    {
        public static readonly WorkScheduler ThreadPool = new WorkScheduler();

        /// <summary>Starts a bulk run's worker loop; never on the caller's (pipeline) thread.</summary>
        public virtual void Start(Func<Task> work) => Task.Run(work);

        /// <summary>
        /// A signal for waiters. Its continuations never run on the thread that fires it, which holds
        /// a lock (a pace or health change is announced under its lock).
        /// </summary>
        public virtual TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        public virtual void Fire(TaskCompletionSource<bool> signal) => signal.TrySetResult(true);

        /// <summary>A uniform draw in [0, 1) for jitter.</summary>
        public virtual double NextDouble() => Jitter.NextDouble();

        /// <summary>
        /// Whether a bulk run may hold a worker back for the caller to catch up: a few milliseconds
        /// on the machine's own clock (BulkBalanceRun.HoldBackAsync), which a simulation has not got.
        /// </summary>
        public virtual bool HoldsBack => true;
    }
}
