namespace Ahrvo.TestSupport;

/// <summary>
/// Raises the thread pool's minimum in a test process. The test host blocks two pool threads for
/// its whole life (vstest's message loop polls its socket synchronously; xunit's runner waits for
/// the assembly), which on 2 cores is the pool's whole minimum. The client's workers then waited
/// for the pool's starvation injection: stalls of 0.5 to 1 s in about a third of the hosted bulk
/// runs (dotnet-stack showed the two blocked threads), enough to let held-back cards go out and to
/// break timing bounds. Real hosts (pwsh) do not block pool threads this way.
/// </summary>
public static class ThreadPoolFloor
{
    public static void Raise()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), Math.Max(io, 16));
    }
}
