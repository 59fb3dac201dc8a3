using System.Net;
using System.Text;
using Ahrvo.Client.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Ahrvo.Client.Tests.Parsing;

/// <summary>What an answer (or a local failure) means for a card, through the client, in memory.</summary>
public sealed class ResponseInterpreterTests
{
    // A clock nobody moves: no answer here waits, and no timer may end an attempt.
    private static AhrvoClient Client(HttpMessageHandler handler) =>
        InMemoryClient.Create(handler, new FakeTimeProvider(), o => o.MaxRetries = 0);

    private static HttpResponseMessage WithCardNumber(string number) => new(HttpStatusCode.OK)
    {
        Content = new StringContent(
            "{\"code\":\"SUCCESS\",\"data\":{\"card_number\":" + System.Text.Json.JsonSerializer.Serialize(number) + ",\"available_balance\":\"10.00\"}}",
            Encoding.UTF8, "application/json"),
    };

    [Theory]
    [InlineData("=HYPERLINK(\"http://evil.example/\",\"details\")")]
    [InlineData("+cmd|' /C calc'!A0")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("5157 **** **** 2686 please call us")]
    [InlineData("515712345678268651571234567826865")]
    [InlineData("----")]
    public async Task A_card_number_that_is_not_shaped_like_one_is_an_invalid_response_for_that_card(string number)
    {
        using var client = Client(new ScriptedHandler(_ => WithCardNumber(number)));
        var r = await client.GetBalanceAsync("card1");
        Assert.False(r.Success);
        Assert.Equal(AhrvoErrorKind.InvalidResponse, r.Error!.Kind);
        Assert.Contains("card_number", r.Error.Message);
        Assert.DoesNotContain("HYPERLINK", r.Error.Message);
    }

    [Theory]
    [InlineData("5157********2686", "5157********2686")]
    [InlineData("5157 **** **** 2686", "5157 **** **** 2686")]
    [InlineData("XXXX-XXXX-XXXX-2686", "XXXX-XXXX-XXXX-2686")]
    [InlineData("5157123456782686", "515712******2686")]
    [InlineData("", "")]
    public async Task Card_numbers_of_the_usual_shapes_pass_masked(string number, string shown)
    {
        using var client = Client(new ScriptedHandler(_ => WithCardNumber(number)));
        var r = await client.GetBalanceAsync("card1");
        Assert.True(r.Success, r.Error?.Message);
        Assert.Equal(shown, r.CardNumber ?? "");
    }

    private sealed class ThrowingHandler(Exception ex) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => throw ex;
    }

    [Fact]
    public async Task A_local_exception_of_an_unknown_kind_is_the_clients_failure_not_the_APIs_and_its_text_is_cleaned()
    {
        using var client = Client(new ThrowingHandler(new InvalidOperationException("broken \u001b[31mstate test-token")));
        var r = await client.GetBalanceAsync("card1");
        Assert.Equal(AhrvoErrorKind.ClientFailure, r.Error!.Kind);
        Assert.Contains("this module failed", r.Error.Message);
        Assert.False(r.Error.Message.Contains('\u001b'), "a control character reached the message");
        Assert.DoesNotContain("test-token", r.Error.Message);
        Assert.False(r.Error.AffectsEveryCard);
    }
}
