using System.Text.Json;
using Ahrvo.Client.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Client.Tests;

/// <summary>The audit log: owner-only, honest when it cannot be written, a line for cancelled queries, bounded waits.</summary>
public sealed class AuditLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ahrvo-audit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A clock nobody moves: the cancelled query ends by the test's cancellation, never by a timer.
    private static AhrvoClient Client(HttpMessageHandler handler, string auditPath) =>
        InMemoryClient.Create(handler, new FakeTimeProvider(), o => o.AuditLogPath = auditPath);

    [Fact]
    public async Task The_audit_log_is_created_readable_by_its_owner_only()
    {
        var path = Path.Combine(_dir, "audit.jsonl");
        using (var client = Client(new ScriptedHandler(r => ScriptedHandler.Balance(r.CardId)), path))
            Assert.True((await client.GetBalanceAsync("card1")).Success);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Single(File.ReadAllLines(path));
    }

    [LinuxFact("needs /dev/full, a file whose every write fails with ENOSPC")]
    public async Task An_audit_log_that_cannot_be_written_stops_the_run_naming_the_file_and_never_blames_the_API()
    {
        using var client = Client(new ScriptedHandler(r => ScriptedHandler.Balance(r.CardId)), "/dev/full");
        var r = await client.GetBalanceAsync("card1");
        Assert.False(r.Success);
        Assert.Equal(AhrvoErrorKind.AuditLogFailed, r.Error!.Kind);
        Assert.True(r.Error.AffectsEveryCard); // the bulk run stops: no further query unaudited
        Assert.Contains("/dev/full", r.Error.Message);
        Assert.Contains("Nothing is wrong with the API", r.Error.Message);
    }

    private sealed class AnswersNeverHandler : HttpMessageHandler
    {
        public readonly TaskCompletionSource Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    [Fact]
    public async Task A_query_cancelled_after_it_reached_the_API_leaves_its_audit_line()
    {
        var path = Path.Combine(_dir, "audit.jsonl");
        var handler = new AnswersNeverHandler();
        using var client = Client(handler, path);
        using var stop = new CancellationTokenSource();
        var query = client.GetBalanceAsync("card-cancelled", cancellationToken: stop.Token);
        await handler.Entered.Task.WaitAsync(InMemoryClient.Liveness);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query.WaitAsync(InMemoryClient.Liveness));
        var line = JsonDocument.Parse(Assert.Single(File.ReadAllLines(path))).RootElement;
        Assert.Equal("card-cancelled", line.GetProperty("cardId").GetString());
        Assert.Equal("Cancelled", line.GetProperty("outcome").GetString());
        Assert.Equal(1, line.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public void A_process_that_holds_the_files_lock_costs_one_wait_not_one_per_line()
    {
        var path = Path.GetFullPath(Path.Combine(_dir, "audit.jsonl"));
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using var m = new Mutex(false, AuditLog.MutexName(path));
            m.WaitOne();
            held.Set();
            release.Wait();
            m.ReleaseMutex();
        });
        holder.Start();
        held.Wait();
        try
        {
            using var log = new AuditLog(path, TimeSpan.FromMilliseconds(50));
            for (int i = 0; i < 20; i++)
                log.Write(BalanceResult.Ok("card" + i, null, 1m, "USD", DateTimeOffset.UtcNow, 200, TimeSpan.Zero, 1));
            Assert.Equal(1, log.MutexTimeouts);
        }
        finally
        {
            release.Set();
            holder.Join();
        }
        Assert.Equal(20, File.ReadAllLines(path).Length);
    }
}
