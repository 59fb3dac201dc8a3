namespace Ahrvo.Client.Tests.Support;

/// <summary>A client whose requests never leave the process: answered by a handler, timed by a fake clock.</summary>
public static class InMemoryClient
{
    public const string ApiKey = "test-api-key";
    public const string Token = "test-token";
    public static readonly Uri BaseUri = new("https://api.example.test/");

    /// <summary>
    /// How long a test waits for something that should happen at once before it fails instead of
    /// hanging. Never reached when the code works; not a measure of speed.
    /// </summary>
    public static readonly TimeSpan Liveness = TimeSpan.FromSeconds(60);

    /// <param name="time">The client's clock: a SteppedClock where waits matter; one nobody moves (no timer ever fires) elsewhere.</param>
    public static AhrvoClient Create(HttpMessageHandler handler, TimeProvider time, Action<AhrvoClientOptions>? tune = null)
    {
        var o = new AhrvoClientOptions(BaseUri, TestSecrets.Secure(ApiKey), TestSecrets.Secure(Token))
        {
            HandlerFactory = () => handler,
            Time = time,
        };
        tune?.Invoke(o);
        return new AhrvoClient(o);
    }
}
