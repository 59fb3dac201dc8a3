namespace Ahrvo.Client
{
    /// <summary>Where the API lives. Custom means an explicit base URI (a gateway or the emulator).</summary>
    public enum AhrvoEnvironment
    {
        Production,
        Staging,
        Custom,
    }
}
