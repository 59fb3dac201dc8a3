using Ahrvo.Client.Bulk;

namespace Ahrvo.Client.Tests.Support;

/// <summary>Drives a bulk run as the cmdlets do: add while there is room, else wait and take.</summary>
public static class BulkDriver
{
    /// <summary>
    /// Cards card0..card{n-1} through <paramref name="run"/> on a thread-pool thread; the results in
    /// the order taken. The 50 ms waits are the caller's polls (on a fake clock, not a measure).
    /// </summary>
    public static Task<List<BulkItem>> DriveAsync(BulkBalanceRun run, int n) => Task.Run(() =>
    {
        var taken = new List<BulkItem>();
        foreach (var i in Enumerable.Range(0, n))
        {
            while (run.IsFull) { run.WaitForChange(TimeSpan.FromMilliseconds(50), default); while (run.TryTake(out var t)) taken.Add(t); }
            run.Add("card" + i);
        }
        while (!run.IsEmpty) { run.WaitForChange(TimeSpan.FromMilliseconds(50), default); while (run.TryTake(out var t)) taken.Add(t); }
        return taken;
    });
}
