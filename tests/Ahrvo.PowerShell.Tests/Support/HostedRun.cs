using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Ahrvo.PowerShell.Tests.Support;

/// <summary>
/// A script running in a hosted runspace while the test looks on: it can wait for output or a
/// verbose line (signalled by the streams, not polled on a timer), press Ctrl+C (<see cref="Stop"/>)
/// and collect the result. Every wait ends at <see cref="Liveness.Timeout"/> with a failure, so a
/// regression shows as a failed test, never as a hung suite.
/// </summary>
public sealed class HostedRun : IDisposable
{
    private readonly Runspace _runspace;
    private readonly bool _ownRunspace;
    private readonly System.Management.Automation.PowerShell _ps;
    private readonly IAsyncResult _async;
    private readonly ManualResetEventSlim _changed = new(false);
    private readonly string _firstLine;
    private ScriptResult? _result;

    public HostedRun(string script, IDictionary<string, object?>? variables = null, Runspace? runspace = null)
    {
        _ownRunspace = runspace == null;
        _runspace = runspace ?? PowerShellHost.CreateRunspace();
        _firstLine = script.Split('\n').FirstOrDefault(l => l.Trim().Length > 0 && !l.StartsWith("Connect-Ahrvo", StringComparison.Ordinal))?.Trim() ?? script;
        if (variables != null)
            foreach (var (name, value) in variables)
                _runspace.SessionStateProxy.SetVariable(name, value);
        _ps = System.Management.Automation.PowerShell.Create();
        _ps.Runspace = _runspace;
        _ps.AddScript(script);
        Output = new PSDataCollection<PSObject>();
        Output.DataAdded += (_, _) => _changed.Set();
        _ps.Streams.Verbose.DataAdded += (_, _) => _changed.Set();
        _ps.Streams.Error.DataAdded += (_, _) => _changed.Set();
        _ps.Streams.Progress.DataAdded += (_, _) => _changed.Set();
        _ps.InvocationStateChanged += (_, _) => _changed.Set();
        _async = _ps.BeginInvoke<PSObject, PSObject>(null, Output);
    }

    /// <summary>
    /// The output so far; it grows while the script runs. Read it with Count, an index or
    /// <see cref="OutputSoFar"/>: enumerating an open PSDataCollection blocks until the script ends.
    /// </summary>
    public PSDataCollection<PSObject> Output { get; }

    /// <summary>A copy of the output so far, taken without waiting.</summary>
    public IReadOnlyList<PSObject> OutputSoFar => Snapshot(Output);

    /// <summary>The verbose messages so far.</summary>
    public IReadOnlyList<string> Verbose => Snapshot(_ps.Streams.Verbose).Select(v => v.Message).ToList();

    /// <summary>Progress records so far (the pipeline thread writes one each time it takes results, with <see cref="ProgressTiming.Always"/>).</summary>
    public int ProgressCount => _ps.Streams.Progress.Count;

    public bool IsRunning => _ps.InvocationStateInfo.State is PSInvocationState.Running or PSInvocationState.NotStarted;

    /// <summary>Blocks until <paramref name="condition"/> holds (checked whenever a stream grows or the state changes).</summary>
    public void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            _changed.Reset(); // before the check: a change from now on is not lost
            if (condition()) return;
            if (!IsRunning)
                throw new InvalidOperationException($"'{_firstLine}' ended ({_ps.InvocationStateInfo.State}) before: {what}. Errors: {string.Join(" | ", Snapshot(_ps.Streams.Error))}");
            var left = Liveness.Timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero || !_changed.Wait(left))
                throw new TimeoutException($"'{_firstLine}' did not get to: {what} within {Liveness.Timeout.TotalSeconds:0} s.");
        }
    }

    public void WaitForOutput(int count) => WaitUntil(() => Output.Count >= count, $"{count} output objects (has {Output.Count})");

    public void WaitForVerbose(Func<string, bool> match, string what) =>
        WaitUntil(() => Verbose.Any(match), "a verbose line " + what);

    /// <summary>Ctrl+C: returns once the pipeline has stopped, which must happen within the liveness limit.</summary>
    public void Stop()
    {
        var stop = _ps.BeginStop(null, null);
        if (!stop.AsyncWaitHandle.WaitOne(Liveness.Timeout))
            throw new TimeoutException($"'{_firstLine}' did not stop within {Liveness.Timeout.TotalSeconds:0} s of Ctrl+C.");
        _ps.EndStop(stop);
    }

    /// <summary>Waits for the end (bounded by the liveness limit) and returns every stream.</summary>
    public ScriptResult Finish()
    {
        if (_result != null) return _result;
        if (!_async.AsyncWaitHandle.WaitOne(Liveness.Timeout))
        {
            _ps.BeginStop(null, null).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10));
            throw new TimeoutException($"'{_firstLine}' did not finish within {Liveness.Timeout.TotalSeconds:0} s.");
        }
        Exception? terminating = null;
        try
        {
            _ps.EndInvoke(_async);
        }
        catch (Exception ex)
        {
            terminating = ex;
        }
        return _result = new ScriptResult
        {
            Output = new System.Collections.ObjectModel.Collection<PSObject>(Snapshot(Output)),
            Errors = Snapshot(_ps.Streams.Error),
            Verbose = Snapshot(_ps.Streams.Verbose).Select(v => v.Message).ToList(),
            Debug = Snapshot(_ps.Streams.Debug).Select(v => v.Message).ToList(),
            Warning = Snapshot(_ps.Streams.Warning).Select(v => v.Message).ToList(),
            Progress = Snapshot(_ps.Streams.Progress),
            Information = Snapshot(_ps.Streams.Information).Select(i => i.MessageData?.ToString() ?? "").ToList(),
            Terminating = terminating,
        };
    }

    // By index: items are only ever added, and the indexer does not wait for more.
    private static List<T> Snapshot<T>(PSDataCollection<T> items)
    {
        var copy = new List<T>();
        for (int i = 0, n = items.Count; i < n; i++) copy.Add(items[i]);
        return copy;
    }

    public void Dispose()
    {
        // A script that will not stop (a failed test) is left to the process: disposing it would
        // wait for it, and the test is to fail now, not hang.
        // Stopping counts too: a stop that never completes leaves the state there, and Dispose would wait.
        var state = _ps.InvocationStateInfo.State;
        if (state is PSInvocationState.Stopping) return;
        if (IsRunning && !_ps.BeginStop(null, null).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10))) return;
        _ps.Dispose();
        if (_ownRunspace) _runspace.Dispose();
        _changed.Dispose();
    }
}
