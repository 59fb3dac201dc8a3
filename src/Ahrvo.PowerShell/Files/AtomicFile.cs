using System;
using System.IO;
using System.Text;
using Ahrvo.Client.IO;

namespace Ahrvo.PowerShell.Files
{
    /// <summary>
    /// Writes a file so that readers see the old content or the whole new content, never half of
    /// it: the bytes go to a temporary file in the same directory (same volume, so the final step is
    /// a rename), which then replaces the target. On Linux and macOS the file is created readable
    /// and writable by its owner only (0600): what is written here holds card ids and balances.
    /// </summary>
    internal static class AtomicFile
    {
        public static void WriteAllText(string path, string content, Encoding encoding, bool overwrite) =>
            WriteAllBytes(path, encoding.GetBytes(content), overwrite);

        public static void WriteAllBytes(string path, byte[] bytes, bool overwrite)
        {
            var full = Path.GetFullPath(path);
            var directory = Path.GetDirectoryName(full) ?? throw new ArgumentException("The path has no directory: " + path, nameof(path));
            var temp = Path.Combine(directory, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".tmp");
            try
            {
                // Born 0600 (Unix), and the rename keeps the mode: the content is never readable by others.
                using (var stream = OwnerOnlyFile.CreateNew(temp))
                {
                    stream.Write(bytes, 0, bytes.Length);
                    // On disk before the rename, so a crash cannot leave a renamed but empty file.
                    stream.Flush(true);
                }
                // A rename on Unix: the target takes the temporary file's 0600 mode.
                if (overwrite && File.Exists(full)) File.Replace(temp, full, null);
                else File.Move(temp, full); // throws if the target appeared meanwhile: no overwrite unless asked
                temp = null;
            }
            finally
            {
                if (temp != null)
                {
                    try { File.Delete(temp); }
                    catch (IOException) { }
                    catch (UnauthorizedAccessException) { }
                }
            }
        }
    }
}
