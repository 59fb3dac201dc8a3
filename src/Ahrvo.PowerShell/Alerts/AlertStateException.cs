using System;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>Why the -StatePath file could not be used; Watch-AhrvoCardBalance maps each to one error id.</summary>
    internal enum AlertStateFailure
    {
        /// <summary>The path is a folder, or its folder does not exist.</summary>
        PathInvalid,
        /// <summary>The folder (or the lock file in it) cannot be written: read-only, or no permission.</summary>
        NotWritable,
        /// <summary>The file could not be read (an I/O error other than "not there").</summary>
        Unreadable,
        /// <summary>The file is not a state file that can be trusted.</summary>
        Invalid,
        /// <summary>Another run held the lock all the time allowed.</summary>
        Locked,
        /// <summary>The lock was granted but does not exclude anyone: the file system or the runtime ignores it.</summary>
        LockUnsupported,
        /// <summary>A save failed.</summary>
        NotSaved,
    }

    /// <summary>
    /// A failure of the state file, with the text a user needs: what happened to which file, and
    /// what to do (<see cref="RecommendedAction"/>). The store words it; the cmdlet only maps
    /// <see cref="Failure"/> to an error id and category.
    /// </summary>
    internal sealed class AlertStateException : Exception
    {
        public AlertStateException(AlertStateFailure failure, string path, string message, string? recommendedAction = null, Exception? inner = null)
            : base(message, inner)
        {
            Failure = failure;
            Path = path;
            RecommendedAction = recommendedAction;
        }

        public AlertStateFailure Failure { get; }

        /// <summary>The file or folder concerned.</summary>
        public string Path { get; }

        public string? RecommendedAction { get; }
    }
}
