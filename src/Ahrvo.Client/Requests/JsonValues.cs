using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Globalization;
using System.Text.Json;

namespace Ahrvo.Client.Requests
{
    /// <summary>
    /// JSON as plain BCL values, for a host that must not see System.Text.Json: objects become
    /// <see cref="OrderedDictionary"/> (field order kept, names case-sensitive), arrays object[],
    /// numbers long or decimal (never double: amounts stay exact), strings stay strings (a
    /// timestamp is not turned into a date), true/false/null as such.
    /// </summary>
    public static class JsonValues
    {
        public static object? Parse(string json)
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 256 });
            return Convert(doc.RootElement);
        }

        /// <summary>Whether the text is JSON (the whole of it).</summary>
        public static bool IsJson(string? text)
        {
            if (string.IsNullOrWhiteSpace(text)) return false;
            try
            {
                using var doc = JsonDocument.Parse(text!, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 256 });
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        private static object? Convert(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    var o = new OrderedDictionary(StringComparer.Ordinal);
                    // A repeated name: the last one wins, as in most JSON readers.
                    foreach (var p in e.EnumerateObject()) o[p.Name] = Convert(p.Value);
                    return o;
                case JsonValueKind.Array:
                    var list = new List<object?>();
                    foreach (var item in e.EnumerateArray()) list.Add(Convert(item));
                    return list.ToArray();
                case JsonValueKind.String:
                    return e.GetString();
                case JsonValueKind.Number:
                    if (e.TryGetInt64(out var l)) return l;
                    if (decimal.TryParse(e.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
                    return e.GetRawText(); // beyond decimal's range: the digits as sent rather than a rounded double
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                default:
                    return null;
            }
        }
    }
}
