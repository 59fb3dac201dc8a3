using System;
using System.Threading;
using Ahrvo.Client;

namespace Ahrvo.PowerShell
{
    /// <summary>
    /// The session's default connection. Process-wide on purpose (as Microsoft.Graph and PnP do):
    /// runspaces of ForEach-Object -Parallel and thread jobs see the connection made in the main
    /// one. Scripts that need two accounts pass -Connection explicitly.
    /// </summary>
    internal static class AhrvoSession
    {
        private static AhrvoConnection? _current;

        public static AhrvoConnection? Current => Volatile.Read(ref _current);

        /// <summary>
        /// Makes a connection the default. The previous one is not closed (a script may still hold
        /// it from Connect-Ahrvo -PassThru and use it with -Connection), but its HTTP client is
        /// released once no command uses it, so replaced connections do not keep sockets and timers
        /// for the life of the process.
        /// </summary>
        public static void Set(AhrvoConnection connection)
        {
            var previous = Interlocked.Exchange(ref _current, connection);
            if (previous != null && previous != connection) previous.ReleaseWhenIdle();
        }

        public static AhrvoConnection? Clear()
        {
            var previous = Interlocked.Exchange(ref _current, null);
            previous?.Close();
            return previous;
        }

        /// <summary>Closes <paramref name="connection"/> and forgets it if it is the session's; false when it is not the session's.</summary>
        public static bool Clear(AhrvoConnection connection)
        {
            if (Interlocked.CompareExchange(ref _current, null, connection) != connection) return false;
            connection.Close();
            return true;
        }
    }
}
