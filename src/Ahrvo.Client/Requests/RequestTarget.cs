using System;
using System.Collections.Generic;
using System.Text;

namespace Ahrvo.Client.Requests
{
    /// <summary>
    /// Where a request goes: its path under the connection's base URI, or an absolute URI on the base
    /// URI's own scheme, host and port, so that the API key and token never go anywhere else.
    /// </summary>
    public static class RequestTarget
    {
        /// <summary>The URI to send to, or null with <paramref name="problem"/> saying why nothing may be sent.</summary>
        public static Uri? Resolve(Uri baseUri, string path, IEnumerable<KeyValuePair<string, string>>? query, out string? problem)
        {
            problem = null;
            if (string.IsNullOrWhiteSpace(path))
            {
                problem = "The path is empty: give the endpoint's path, for example /card/issuance/api/issuing/card/v2/normal/balance. Nothing was sent.";
                return null;
            }
            foreach (var c in path)
                if (char.IsControl(c) || c == ' ')
                {
                    problem = "The path '" + Printable(path) + "' holds a space or a control character: put values with spaces in the query, which encodes them. Nothing was sent.";
                    return null;
                }
            // "//host/x" is a URI of another host without a scheme: never resolved against the base.
            if (path.StartsWith("//", StringComparison.Ordinal) || path.StartsWith("\\\\", StringComparison.Ordinal) || path.IndexOf('\\') >= 0)
            {
                problem = "The path '" + Printable(path) + "' names another host (or holds a backslash): give a path under the connection's base URI, such as /card/issuance/api/... Nothing was sent.";
                return null;
            }
            var root = baseUri.AbsoluteUri.EndsWith("/", StringComparison.Ordinal) ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
            Uri target;
            if (Uri.TryCreate(path, UriKind.Absolute, out var absolute) && (absolute.Scheme == Uri.UriSchemeHttp || absolute.Scheme == Uri.UriSchemeHttps || path.Contains("://")))
            {
                if (!SameOrigin(absolute, root))
                {
                    problem = string.Format("The URI '{0}' is not on the connection's {1}://{2}:{3}: a request goes only there, so that the API key and token go nowhere else. Nothing was sent.",
                        Printable(absolute.GetLeftPart(UriPartial.Path)), root.Scheme, root.Host, root.Port);
                    return null;
                }
                if (!string.IsNullOrEmpty(absolute.UserInfo))
                {
                    problem = "The URI carries a user name or password: give the path alone. Nothing was sent.";
                    return null;
                }
                target = absolute;
            }
            else
            {
                // Relative to the base's path, leading slash or not: https://host/v1/ + /card/x = https://host/v1/card/x.
                target = new Uri(root, path.TrimStart('/'));
                if (!SameOrigin(target, root))
                {
                    problem = "The path '" + Printable(path) + "' does not stay on the connection's host. Nothing was sent.";
                    return null;
                }
            }
            var extra = QueryString(query);
            if (extra.Length == 0) return target;
            var b = new UriBuilder(target);
            var existing = b.Query.TrimStart('?');
            b.Query = existing.Length == 0 ? extra : existing + "&" + extra;
            return b.Uri;
        }

        /// <summary>name=value pairs joined by '&amp;', each name and each value encoded on its own (a value's '&amp;' or '=' stays a value).</summary>
        public static string QueryString(IEnumerable<KeyValuePair<string, string>>? query)
        {
            if (query == null) return string.Empty;
            var sb = new StringBuilder();
            foreach (var pair in query)
            {
                if (sb.Length > 0) sb.Append('&');
                sb.Append(Uri.EscapeDataString(pair.Key ?? string.Empty)).Append('=').Append(Uri.EscapeDataString(pair.Value ?? string.Empty));
            }
            return sb.ToString();
        }

        private static bool SameOrigin(Uri a, Uri b) =>
            string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
            && a.Port == b.Port;

        private static string Printable(string text)
        {
            var chars = text.ToCharArray();
            for (int i = 0; i < chars.Length; i++) if (char.IsControl(chars[i])) chars[i] = '?';
            var s = new string(chars);
            return s.Length > 200 ? s.Substring(0, 200) + "…" : s;
        }
    }
}
