using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>
    /// Whether the state file's lock reaches other machines. The lock is flock on Unix, and a
    /// network file system can be mounted so that flock is kept on the client only (NFS with
    /// nolock or local_lock, CIFS with nobrl, most FUSE file systems): it then still keeps runs on
    /// this machine apart (<see cref="AlertStateStore.Lock"/> checks that), but not runs on another
    /// machine sharing the folder, and nothing fails to say so. On Linux the mount table tells; on
    /// Windows share modes are enforced by the file server; elsewhere nothing is claimed.
    /// </summary>
    internal static class LockReach
    {
        /// <summary>A sentence saying where the lock does not reach; null when nothing says it does not.</summary>
        public static string? Caveat(string path)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return null;
            string table;
            try
            {
                table = File.ReadAllText("/proc/self/mountinfo");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return null;
            }
            return FromMountInfo(table, path);
        }

        /// <summary>The caveat for <paramref name="path"/> given the text of /proc/self/mountinfo (proc(5)).</summary>
        internal static string? FromMountInfo(string mountInfo, string path)
        {
            string? bestPoint = null, fsType = null, options = null;
            foreach (var line in mountInfo.Split('\n'))
            {
                // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue":
                // the mount point is field 5; after the lone "-" come the type, the source and the super options.
                var fields = line.Split(' ');
                int dash = Array.IndexOf(fields, "-");
                if (fields.Length < 5 || dash < 6 || dash + 1 >= fields.Length) continue;
                var point = Unescape(fields[4]);
                if (!Contains(point, path) || (bestPoint != null && point.Length < bestPoint.Length)) continue;
                bestPoint = point;
                fsType = fields[dash + 1];
                options = "," + (dash + 3 < fields.Length ? fields[dash + 3] : "") + "," + fields[5] + ",";
            }
            if (bestPoint == null || fsType == null || options == null) return null;

            string? why = null;
            if (fsType == "nfs" || fsType == "nfs4")
            {
                if (options.Contains(",nolock,")) why = "NFS mounted with nolock";
                else if (options.Contains(",local_lock=all,") || options.Contains(",local_lock=flock,")) why = "NFS mounted with local_lock (flock kept on this machine)";
            }
            else if (fsType == "cifs" || fsType == "smb3")
            {
                if (options.Contains(",nobrl,")) why = "SMB/CIFS mounted with nobrl";
            }
            else if (fsType.StartsWith("fuse.", StringComparison.Ordinal) || fsType == "fuse")
            {
                why = "a FUSE file system (" + fsType + "), which may keep locks on this machine only";
            }
            else if (fsType == "9p" || fsType == "virtiofs" || fsType == "vboxsf" || fsType == "vmhgfs" || fsType == "fuse.vmhgfs-fuse")
            {
                why = "a folder shared with a host or another VM (" + fsType + "), whose locks stay on this side";
            }
            if (why == null) return null;
            return "The alert state '" + path + "' is on " + why + " (mounted at " + bestPoint + "): its lock keeps runs on this machine apart,"
                + " but not runs on other machines that share the folder, which could then alert a change twice or not at all."
                + " Run the scheduled check from one machine only, or keep the file on a local disk or a mount that passes locks to the server.";
        }

        private static bool Contains(string mountPoint, string path)
        {
            if (mountPoint == "/") return path.StartsWith("/", StringComparison.Ordinal);
            return path.Length > mountPoint.Length
                ? path.StartsWith(mountPoint, StringComparison.Ordinal) && path[mountPoint.Length] == '/'
                : path == mountPoint;
        }

        // Spaces, tabs, newlines and backslashes in mount points are written as octal escapes (\040).
        private static string Unescape(string field)
        {
            if (field.IndexOf('\\') < 0) return field;
            var chars = new List<char>(field.Length);
            for (int i = 0; i < field.Length; i++)
            {
                if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
                {
                    chars.Add((char)((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
                    i += 3;
                }
                else chars.Add(field[i]);
            }
            return new string(chars.ToArray());
        }

        private static bool IsOctal(char c) => c >= '0' && c <= '7';
    }
}
