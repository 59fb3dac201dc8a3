using System.Security;
using System.Text;
using Ahrvo.Client.Auth;
using Ahrvo.Client.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Client.Tests.Auth;

/// <summary>Token renewal: shared by a wave of 401s, ahead of a JWT's exp, on a fake clock.</summary>
public sealed class AccessTokensTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private int _calls;

    private static SecureString S(string s) => TestSecrets.Secure(s);

    private static string Jwt(DateTimeOffset exp)
    {
        static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return B64("""{"alg":"none"}""") + "." + B64($$"""{"exp":{{exp.ToUnixTimeSeconds()}}}""") + ".";
    }

    private AccessTokens Tokens(Func<string> next, string first = "first")
    {
        return new AccessTokens(S(first), async _ =>
        {
            Interlocked.Increment(ref _calls);
            await Task.Yield();
            return S(next());
        }, _time);
    }

    [Fact]
    public async Task Every_card_refused_with_the_same_token_shares_one_renewal()
    {
        var tokens = Tokens(() => "second");
        var refused = tokens.Now.Generation;
        var all = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => tokens.RenewAsync(refused, default)));
        Assert.Equal(1, _calls);
        Assert.All(all, t => Assert.Equal(refused + 1, t.Generation));
        // A card refused with the old token after the renewal gets the new one without another call.
        Assert.Equal(refused + 1, (await tokens.RenewAsync(refused, default)).Generation);
        Assert.Equal(1, _calls);
    }

    [Fact]
    public async Task A_JWT_is_renewed_shortly_before_it_expires_not_after()
    {
        var exp = _time.GetUtcNow().AddMinutes(10);
        var tokens = Tokens(() => Jwt(_time.GetUtcNow().AddMinutes(10)), Jwt(exp));
        Assert.Equal(exp.ToUnixTimeSeconds(), tokens.Now.ExpiresAt!.Value.ToUnixTimeSeconds());
        _time.Advance(TimeSpan.FromMinutes(8));
        Assert.Equal(0, (await tokens.GetAsync(default)).Generation);
        _time.Advance(TimeSpan.FromSeconds(61)); // within the last minute
        Assert.Equal(1, (await tokens.GetAsync(default)).Generation);
        Assert.Equal(1, _calls);
    }

    [Theory]
    [InlineData("plain-opaque-token")]
    [InlineData("a.b")]
    [InlineData("a.!!!.c")]
    [InlineData("eyJhIjoxfQ.eyJleHAiOiJzb29uIn0.x")] // exp is not a number
    public void A_token_that_is_not_a_readable_JWT_has_no_expiry(string token)
    {
        Assert.Null(AccessTokens.ReadJwtExpiry(S(token)));
    }

    [Fact]
    public async Task A_provider_that_returns_nothing_fails_and_the_next_wave_asks_again()
    {
        int n = 0;
        var tokens = Tokens(() => n++ == 0 ? "" : "good");
        await Assert.ThrowsAsync<TokenProviderException>(() => tokens.RenewAsync(0, default));
        Assert.Equal(1, (await tokens.RenewAsync(0, default)).Generation);
    }
}
