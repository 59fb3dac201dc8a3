using Ahrvo.Client.Auth;
using Ahrvo.Client.Tests.Support;
using Xunit;

namespace Ahrvo.Client.Tests.Auth;

/// <summary>A token provider that never answers: bounded by the card's time and its own limit, cancelled, asked again next wave. On a fake clock.</summary>
public sealed class HungTokenProviderTests
{
    private readonly SteppedClock _clock = new();
    private int _calls;
    private readonly List<CancellationToken> _seen = new();
    private bool _answer; // from the next call on, the provider answers

    private AccessTokens Tokens(TimeSpan limit) => new(TestSecrets.Secure("first"), ct =>
    {
        Interlocked.Increment(ref _calls);
        lock (_seen) _seen.Add(ct);
        // Ignores its cancellation, as a script stuck in a native call would.
        return _answer ? Task.FromResult(TestSecrets.Secure("fresh")) : new TaskCompletionSource<System.Security.SecureString>().Task;
    }, _clock, limit);

    [Fact]
    public async Task A_card_waits_no_longer_than_its_time_and_is_told_the_provider_did_not_answer()
    {
        var tokens = Tokens(TimeSpan.FromSeconds(30));
        var wait = tokens.RenewAsync(0, TimeSpan.FromSeconds(5), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<TokenProviderException>(() => _clock.RunAsync(wait));
        Assert.True(ex.DidNotAnswer);
        Assert.Contains("did not answer", ex.Message);
        Assert.Equal(TimeSpan.FromSeconds(5), _clock.GetUtcNow() - SteppedClock.Start);
        // Nobody waits any more: the provider's call was cancelled, and the next wave asks again.
        Assert.True(_seen[0].IsCancellationRequested);
        _answer = true;
        var next = await _clock.RunAsync(tokens.RenewAsync(0, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(1, next.Generation);
        Assert.Equal(2, _calls);
    }

    [Fact]
    public async Task The_renewal_ends_at_its_own_limit_for_every_card_waiting_and_the_next_wave_asks_again()
    {
        var tokens = Tokens(TimeSpan.FromSeconds(10));
        var a = tokens.RenewAsync(0, TimeSpan.FromSeconds(120), CancellationToken.None);
        var b = tokens.RenewAsync(0, TimeSpan.FromSeconds(120), CancellationToken.None);
        var both = Task.WhenAll(a, b);
        await Assert.ThrowsAsync<TokenProviderException>(() => _clock.RunAsync(both));
        Assert.Equal(1, _calls); // shared
        Assert.Equal(TimeSpan.FromSeconds(10), _clock.GetUtcNow() - SteppedClock.Start);
        Assert.Contains("did not answer within 10 s", a.Exception!.InnerException!.Message);
        Assert.True(_seen[0].IsCancellationRequested);
        _answer = true;
        Assert.Equal(1, (await _clock.RunAsync(tokens.RenewAsync(0, TimeSpan.FromSeconds(120), CancellationToken.None))).Generation);
        Assert.Equal(2, _calls);
    }

    [Fact]
    public async Task Ctrl_C_ends_the_wait_at_once_and_stops_the_provider_when_no_one_else_waits()
    {
        var tokens = Tokens(TimeSpan.FromSeconds(30));
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var a = tokens.RenewAsync(0, TimeSpan.FromSeconds(60), stopA.Token);
        var b = tokens.RenewAsync(0, TimeSpan.FromSeconds(60), stopB.Token);
        stopA.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.WaitAsync(InMemoryClient.Liveness));
        Assert.False(_seen[0].IsCancellationRequested); // b still waits for it
        stopB.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.WaitAsync(InMemoryClient.Liveness));
        Assert.True(_seen[0].IsCancellationRequested);
        Assert.Equal(SteppedClock.Start, _clock.GetUtcNow()); // no time passed: nothing waited for a timer
    }
}
