using System;
using System.Diagnostics;
using System.Threading;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// The clock a cmdlet waits on: monotonic, so a step of the wall clock (NTP, a VM resumed) neither
    /// stretches a wait nor skips it. Not TimeProvider: this assembly loads in the default context,
    /// where Microsoft.Bcl.TimeProvider is not (see Watch-AhrvoCardBalance's WallClock). Tests give a
    /// fake one that moves only when waited on, so they can count waits without taking them.
    /// </summary>
    internal class CommandClock
    {
        public static readonly CommandClock System = new CommandClock();

        /// <summary>Time since an arbitrary start; only differences mean anything.</summary>
        public virtual TimeSpan Now => TimeSpan.FromSeconds((double)Stopwatch.GetTimestamp() / Stopwatch.Frequency);

        /// <summary>Waits <paramref name="delay"/>; returns false at once when <paramref name="cancel"/> fires.</summary>
        public virtual bool Wait(TimeSpan delay, CancellationToken cancel) => !cancel.WaitHandle.WaitOne(delay);
    }
}
