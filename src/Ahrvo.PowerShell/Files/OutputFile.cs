using System;
using System.IO;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Files
{
    /// <summary>
    /// Where an Export- cmdlet writes: -Path resolved against the current PowerShell location (as
    /// Export-Csv does), checked before any card is read so that a typo costs no queries.
    /// </summary>
    internal static class OutputFile
    {
        /// <summary>
        /// The full path; a terminating error otherwise. <c>errorPrefix</c> "Ahrvo.Report" gives the ids
        /// Ahrvo.ReportPathInvalid, Ahrvo.ReportPathIsDirectory and Ahrvo.ReportDirectoryNotFound;
        /// <c>what</c> names the content in messages ("the report"); <c>exampleName</c> is the file
        /// name suggested when -Path is a directory.
        /// </summary>
        public static string Resolve(PSCmdlet cmdlet, string path, string errorPrefix, string what, string exampleName)
        {
            string target;
            try
            {
                target = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
                if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException("'" + path + "' is on the " + provider.Name + " provider; " + what + " must go to a file system path.");
            }
            catch (Exception ex) when (ex is ArgumentException || ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is PSInvalidOperationException)
            {
                cmdlet.ThrowTerminatingError(new ErrorRecord(ex, errorPrefix + "PathInvalid", ErrorCategory.InvalidArgument, path));
                throw; // not reached
            }
            if (Directory.Exists(target))
                cmdlet.ThrowTerminatingError(new ErrorRecord(new IOException("'" + target + "' is a directory. Give a file name, e.g. " + Path.Combine(target, exampleName) + "."),
                    errorPrefix + "PathIsDirectory", ErrorCategory.InvalidArgument, target));
            var directory = Path.GetDirectoryName(target);
            if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
                cmdlet.ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException("The directory '" + directory + "' does not exist. Create it first, or give another -Path."),
                    errorPrefix + "DirectoryNotFound", ErrorCategory.ObjectNotFound, directory));
            return target;
        }
    }
}
