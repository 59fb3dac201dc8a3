using System.Security;

namespace Ahrvo.Client.Tests.Support;

/// <summary>Secrets as the client takes them.</summary>
public static class TestSecrets
{
    public static SecureString Secure(string s)
    {
        var ss = new SecureString();
        foreach (var c in s) ss.AppendChar(c);
        ss.MakeReadOnly();
        return ss;
    }
}
