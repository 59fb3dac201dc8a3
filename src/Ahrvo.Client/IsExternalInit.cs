namespace System.Runtime.CompilerServices
{
    /// <summary>netstandard2.0 lacks it; the compiler needs it for init accessors (AhrvoError's facts).</summary>
    internal static class IsExternalInit { }
}
