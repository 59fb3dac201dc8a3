using System;
using System.Runtime.InteropServices;
using System.Security;

namespace Ahrvo.Client.Diagnostics
{
    /// <summary>Turns a SecureString into text only for the moment a header is built.</summary>
    internal static class SecretText
    {
        public static string Reveal(SecureString secret)
        {
            IntPtr ptr = IntPtr.Zero;
            try
            {
                ptr = Marshal.SecureStringToGlobalAllocUnicode(secret);
                return Marshal.PtrToStringUni(ptr) ?? string.Empty;
            }
            finally
            {
                if (ptr != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(ptr);
            }
        }

        /// <summary>The value shown wherever a secret header would be printed.</summary>
        public const string Redacted = "***REDACTED***";
    }
}
