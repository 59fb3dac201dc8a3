using System;
using System.Collections.Generic;
using System.Text;

namespace Ahrvo.Client.Diagnostics
{
    /// <summary>
    /// Finds a secret in server text in every form a server may echo it: as is; JSON-escaped
    /// (<c>\/</c>, <c>\uXXXX</c> of any character, <c>\"</c>, <c>\\</c>, the short control escapes);
    /// URL-encoded (<c>%XX</c> of its UTF-8 bytes in either case, <c>+</c> for a space and a space
    /// for a <c>+</c>, as form decoding leaves it); and as HTML character references
    /// (<c>&amp;#47;</c>, <c>&amp;#x2F;</c>, <c>&amp;amp;</c>). The forms may be mixed character by
    /// character, as encoders that escape only some characters produce.
    /// </summary>
    /// <remarks>
    /// Matching runs the secret's characters against the text as a small automaton: each character
    /// may end at a few text positions (one per form), so the set of live positions stays small and
    /// the work is linear in the secret, with no backtracking blow-up.
    /// </remarks>
    internal static class SecretForms
    {
        /// <summary>A form of one character is at most this long (a 4-byte UTF-8 rune as %XX%XX%XX%XX is 12 for 2 UTF-16 units; an HTML reference with leading zeros is longer, and is still found in full text).</summary>
        internal const int MaxFormLengthPerChar = 12;

        /// <summary>Replaces every occurrence of each secret (4 characters or more), in any form, with <see cref="SecretText.Redacted"/>.</summary>
        public static string Redact(string text, IReadOnlyList<string> secrets)
        {
            StringBuilder? sb = null;
            int copied = 0;
            for (int i = 0; i < text.Length;)
            {
                int end = -1;
                foreach (var secret in secrets)
                {
                    if (secret.Length < 4 || !MayStart(text[i], secret[0])) continue;
                    int e = MatchAt(text, i, secret);
                    if (e > end) end = e;
                }
                if (end > i)
                {
                    sb ??= new StringBuilder(text.Length);
                    sb.Append(text, copied, i - copied).Append(SecretText.Redacted);
                    i = copied = end;
                }
                else i++;
            }
            if (sb == null) return text;
            return sb.Append(text, copied, text.Length - copied).ToString();
        }

        // Every form of a character starts with the character itself or one of these.
        private static bool MayStart(char c, char first) =>
            c == first || c == '\\' || c == '%' || c == '&' || (c == ' ' && first == '+') || (c == '+' && first == ' ');

        /// <summary>The end of the longest occurrence of <paramref name="secret"/> starting at <paramref name="start"/>, or -1.</summary>
        public static int MatchAt(string text, int start, string secret) => Run(text, start, text.Length, secret, out _);

        /// <summary>
        /// Whether <paramref name="text"/> from <paramref name="start"/> to <paramref name="limit"/>
        /// (at least one character) could be the beginning of an occurrence of <paramref name="secret"/>
        /// that a cut at <paramref name="limit"/> cuts short, or is a whole one.
        /// </summary>
        public static bool BeginsAt(string text, int start, int limit, string secret)
        {
            if (start >= limit) return false;
            return Run(text, start, limit, secret, out bool cutShort) >= 0 || cutShort;
        }

        /// <summary>
        /// Where to cut <paramref name="text"/> so that it keeps at most <paramref name="max"/>
        /// characters and never ends inside a redaction mark, a surrogate pair, or anything that
        /// could be the beginning of a secret (which would show a prefix of it): the cut moves
        /// back before it.
        /// </summary>
        public static int SafeCut(string text, int max, IReadOnlyList<string> secrets)
        {
            if (text.Length <= max) return text.Length;
            int cut = Math.Max(0, max);
            while (true)
            {
                int moved = cut;
                if (moved > 0 && moved < text.Length && char.IsLowSurrogate(text[moved]) && char.IsHighSurrogate(text[moved - 1])) moved--;
                // A mark cut in two shows nothing secret, but reads as garbage: keep it whole or not at all.
                // (LastIndexOf finds only marks that end by its start index: start where one spanning the cut would end.)
                if (moved > 0)
                {
                    int mark = text.LastIndexOf(SecretText.Redacted, Math.Min(text.Length - 1, moved + SecretText.Redacted.Length - 2), StringComparison.Ordinal);
                    if (mark >= 0 && mark < moved && mark + SecretText.Redacted.Length > moved) moved = mark;
                }
                foreach (var secret in secrets)
                {
                    if (secret.Length < 4) continue;
                    int from = Math.Max(0, moved - secret.Length * MaxFormLengthPerChar);
                    for (int p = from; p < moved; p++)
                        if (MayStart(text[p], secret[0]) && BeginsAt(text, p, moved, secret)) { moved = p; break; }
                }
                if (moved == cut) return cut;
                cut = moved;
            }
        }

        /// <summary>
        /// Runs the secret against text[start..limit). Returns the furthest end of a whole match, or
        /// -1; <paramref name="cutShort"/> is set when some form was still matching when the text ran
        /// out at <paramref name="limit"/> (after at least one character).
        /// </summary>
        private static int Run(string text, int start, int limit, string secret, out bool cutShort)
        {
            cutShort = false;
            var live = new List<int>(4) { start };
            var next = new List<int>(4);
            for (int k = 0; k < secret.Length;)
            {
                int units = char.IsHighSurrogate(secret[k]) && k + 1 < secret.Length && char.IsLowSurrogate(secret[k + 1]) ? 2 : 1;
                int rune = units == 2 ? char.ConvertToUtf32(secret[k], secret[k + 1]) : secret[k];
                next.Clear();
                foreach (int pos in live)
                {
                    if (pos == limit)
                    {
                        // The text ran out between two characters of the secret.
                        if (pos > start) cutShort = true;
                        continue;
                    }
                    AddJson(text, pos, limit, secret, k, units, next, ref cutShort);
                    AddUrl(text, pos, limit, rune, next, ref cutShort);
                    AddHtml(text, pos, limit, rune, next, ref cutShort);
                }
                if (next.Count == 0) return -1;
                (live, next) = (next, live);
                k += units;
            }
            int best = -1;
            foreach (int end in live) if (end > best) best = end;
            return best;
        }

        private static void Add(List<int> ends, int end)
        {
            if (!ends.Contains(end)) ends.Add(end);
        }

        // JSON: each UTF-16 unit as is or escaped (a pair may mix the two).
        private static void AddJson(string text, int pos, int limit, string secret, int k, int units, List<int> ends, ref bool cutShort)
        {
            if (units == 1)
            {
                Unit(text, pos, limit, secret[k], ends, ref cutShort);
                return;
            }
            var first = new List<int>(2);
            Unit(text, pos, limit, secret[k], first, ref cutShort);
            foreach (var mid in first)
            {
                if (mid == limit) { cutShort = true; continue; }
                Unit(text, mid, limit, secret[k + 1], ends, ref cutShort);
            }
        }

        private static void Unit(string text, int pos, int limit, char u, List<int> ends, ref bool cutShort)
        {
            char c = text[pos];
            if (c == u) Add(ends, pos + 1);
            // Form decoding turns '+' into a space; a space may have been sent as '+'.
            if ((u == '+' && c == ' ') || (u == ' ' && c == '+')) Add(ends, pos + 1);
            if (c != '\\') return;
            if (pos + 1 >= limit) { cutShort = true; return; }
            char e = text[pos + 1];
            char shortForm = u switch
            {
                '/' => '/', '"' => '"', '\\' => '\\', '\b' => 'b', '\f' => 'f', '\n' => 'n', '\r' => 'r', '\t' => 't',
                _ => '\0',
            };
            if (shortForm != '\0' && e == shortForm) Add(ends, pos + 2);
            if (e == 'u' || e == 'U')
            {
                int end = HexRun(text, pos + 2, limit, 4, u, out bool shortHex);
                if (end > 0) Add(ends, end);
                else if (shortHex) cutShort = true;
            }
        }

        // %XX for each UTF-8 byte of the rune, hex in either case.
        private static void AddUrl(string text, int pos, int limit, int rune, List<int> ends, ref bool cutShort)
        {
            if (text[pos] != '%') return;
            Span<byte> bytes = stackalloc byte[4];
            int n = Utf8(rune, bytes);
            int p = pos;
            for (int i = 0; i < n; i++)
            {
                if (p >= limit) { cutShort = true; return; }
                if (text[p] != '%') return;
                int end = HexRun(text, p + 1, limit, 2, bytes[i], out bool shortHex);
                if (end < 0)
                {
                    if (shortHex) cutShort = true;
                    return;
                }
                p = end;
            }
            Add(ends, p);
        }

        // &#DDD; or &#xHH; (any number of leading zeros), or the named references XML and HTML share.
        private static void AddHtml(string text, int pos, int limit, int rune, List<int> ends, ref bool cutShort)
        {
            if (text[pos] != '&') return;
            string? name = rune switch { '&' => "amp;", '<' => "lt;", '>' => "gt;", '"' => "quot;", '\'' => "apos;", _ => null };
            if (name != null)
            {
                int i = 0;
                while (i < name.Length && pos + 1 + i < limit && char.ToLowerInvariant(text[pos + 1 + i]) == name[i]) i++;
                if (i == name.Length) Add(ends, pos + 1 + i);
                else if (pos + 1 + i == limit) cutShort = true;
            }
            int p = pos + 1;
            if (p >= limit) { cutShort = true; return; }
            if (text[p] != '#') return;
            p++;
            bool hex = false;
            if (p < limit && (text[p] == 'x' || text[p] == 'X')) { hex = true; p++; }
            long value = 0;
            int digits = 0;
            while (p < limit)
            {
                int d = hex ? HexValue(text[p]) : text[p] >= '0' && text[p] <= '9' ? text[p] - '0' : -1;
                if (d < 0) break;
                value = value * (hex ? 16 : 10) + d;
                if (value > rune) return; // only grows from here
                digits++;
                p++;
            }
            if (p >= limit) { cutShort = true; return; }
            if (digits > 0 && value == rune && text[p] == ';') Add(ends, p + 1);
        }

        /// <summary>The end of <paramref name="count"/> hex digits at <paramref name="pos"/> whose value is <paramref name="value"/>, or -1; <paramref name="cutShort"/> when the digits so far agree and the text ran out.</summary>
        private static int HexRun(string text, int pos, int limit, int count, int value, out bool cutShort)
        {
            cutShort = false;
            for (int i = 0; i < count; i++)
            {
                if (pos + i >= limit) { cutShort = true; return -1; }
                int d = HexValue(text[pos + i]);
                if (d < 0 || d != ((value >> (4 * (count - 1 - i))) & 0xF)) return -1;
            }
            return pos + count;
        }

        private static int Utf8(int rune, Span<byte> bytes)
        {
            if (rune < 0x80) { bytes[0] = (byte)rune; return 1; }
            if (rune < 0x800) { bytes[0] = (byte)(0xC0 | (rune >> 6)); bytes[1] = (byte)(0x80 | (rune & 0x3F)); return 2; }
            if (rune < 0x10000)
            {
                bytes[0] = (byte)(0xE0 | (rune >> 12)); bytes[1] = (byte)(0x80 | ((rune >> 6) & 0x3F)); bytes[2] = (byte)(0x80 | (rune & 0x3F));
                return 3;
            }
            bytes[0] = (byte)(0xF0 | (rune >> 18)); bytes[1] = (byte)(0x80 | ((rune >> 12) & 0x3F));
            bytes[2] = (byte)(0x80 | ((rune >> 6) & 0x3F)); bytes[3] = (byte)(0x80 | (rune & 0x3F));
            return 4;
        }

        private static int HexValue(char c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
