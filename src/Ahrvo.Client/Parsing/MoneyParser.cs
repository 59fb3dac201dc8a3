using System;
using System.Globalization;

namespace Ahrvo.Client.Parsing
{
    /// <summary>
    /// Strict, culture-invariant parsing of money strings. Accepted: optional surrounding white
    /// space, an optional sign, digits, and an optional decimal point followed by digits. Refused:
    /// thousands separators ("1,234.50" means 1234.50 in en-US but 1.2345 in de-DE: too risky to
    /// guess), exponents, NaN/Infinity, hex, and any amount beyond ±10^15, far more than any card
    /// holds, so that sums and differences of any number of amounts stay within decimal's range
    /// (7.9 × 10^28) and never end a command with an overflow. Digits after the point are kept
    /// exactly: a balance is never rounded.
    /// </summary>
    public static class MoneyParser
    {
        private const int MaxLength = 64;

        /// <summary>The largest amount accepted, either sign: 1,000,000,000,000,000.</summary>
        public const decimal MaxMagnitude = 1_000_000_000_000_000m;

        /// <summary>Why <paramref name="value"/> is out of range, or null when it is within ±<see cref="MaxMagnitude"/>.</summary>
        public static string? CheckRange(decimal value) =>
            value > MaxMagnitude || value < -MaxMagnitude
                ? $"{value.ToString(CultureInfo.InvariantCulture)} is beyond ±1,000,000,000,000,000, more than any card holds"
                : null;

        public static bool TryParse(string? text, out decimal value, out string? reason)
        {
            value = 0m;
            if (text == null) { reason = "the balance is missing (null)"; return false; }
            var s = text.Trim();
            if (s.Length == 0) { reason = "the balance is empty"; return false; }
            if (s.Length > MaxLength) { reason = $"the balance is {s.Length} characters long"; return false; }

            int i = 0;
            if (s[0] == '+' || s[0] == '-') i++;
            int intDigits = 0, fracDigits = 0;
            while (i < s.Length && IsAsciiDigit(s[i])) { i++; intDigits++; }
            if (i < s.Length && s[i] == '.')
            {
                i++;
                while (i < s.Length && IsAsciiDigit(s[i])) { i++; fracDigits++; }
                if (fracDigits == 0) { reason = $"'{Shorten(s)}' has no digits after the decimal point"; return false; }
            }
            if (i != s.Length || intDigits == 0)
            {
                reason = $"'{Shorten(s)}' is not a plain decimal number (expected digits with an optional '.' and no thousands separators or exponent)";
                return false;
            }

            // The shape is checked above; NumberStyles here only admits that same shape.
            if (!decimal.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value))
            {
                reason = $"'{Shorten(s)}' is outside the range of a decimal";
                return false;
            }
            // decimal.Parse silently rounds past 28-29 significant digits; refuse rather than round.
            if (intDigits + fracDigits > 28 && Trim(s) != Trim(value.ToString(CultureInfo.InvariantCulture)))
            {
                value = 0m;
                reason = $"'{Shorten(s)}' has more precision than a decimal holds";
                return false;
            }
            reason = CheckRange(value);
            if (reason != null)
            {
                value = 0m;
                reason = $"'{Shorten(s)}' is beyond ±1,000,000,000,000,000, more than any card holds";
                return false;
            }
            return true;
        }

        private static bool IsAsciiDigit(char c) => c >= '0' && c <= '9';

        // Compares numbers textually without sign, leading zeros and trailing fractional zeros.
        private static string Trim(string s)
        {
            s = s.TrimStart('+');
            var neg = s.StartsWith("-", StringComparison.Ordinal);
            if (neg) s = s.Substring(1);
            if (s.Contains(".")) s = s.TrimEnd('0').TrimEnd('.');
            s = s.TrimStart('0');
            return (neg ? "-" : "") + s;
        }

        private static string Shorten(string s) => s.Length <= 40 ? s : s.Substring(0, 40) + "…";
    }
}
