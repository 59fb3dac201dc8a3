using System;
using System.Collections.Generic;
using System.Security;
using Ahrvo.Client.Diagnostics;

namespace Ahrvo.Client.Parsing
{
    /// <summary>
    /// What the server sends is shown to people and written to logs, so it is cleaned first: a
    /// server that echoes the API key or token gets them redacted (in any form it may escape them
    /// in, see <see cref="SecretForms"/>, and before any cut), a full card number is masked,
    /// control characters (forged log lines, terminal escapes) become spaces, and length is capped.
    /// </summary>
    internal sealed class ServerText
    {
        private readonly SecureString _apiKey;
        private readonly Func<SecureString> _accessToken; // the current one: a provider renews it

        public ServerText(SecureString apiKey, Func<SecureString> accessToken)
        {
            _apiKey = apiKey;
            _accessToken = accessToken;
        }

        public string? Clean(string? text, int maxLength)
        {
            if (string.IsNullOrEmpty(text)) return text;
            // Runs on every answer ("SUCCESS", the masked card number), so each step skips the work
            // that cannot change the text: a secret longer than the text cannot be in it (every form
            // of a character is at least as long as the character), and is then not revealed at all.
            text = CleanWhole(text!, Secrets(text!.Length));
            if (text.Length <= maxLength) return text;
            // Cut only after redacting, and never inside what could be the start of a secret.
            return text.Substring(0, SecretForms.SafeCut(text, maxLength, Secrets(int.MaxValue))) + "…";
        }

        /// <summary>
        /// The first <paramref name="maxChars"/> characters of a body, for -Debug: secrets redacted in
        /// every form over a stretch long enough to hold any secret that starts before the cut, then
        /// cut where no prefix of a secret is left.
        /// </summary>
        public string Preview(byte[] body, int length, int maxChars)
        {
            var secrets = Secrets(int.MaxValue);
            int longest = 0;
            foreach (var s in secrets) longest = Math.Max(longest, s.Length);
            // UTF-8 takes at most 4 bytes a character: this many bytes hold at least the characters needed.
            long window = 4L * (maxChars + (long)longest * SecretForms.MaxFormLengthPerChar) + 4;
            int take = (int)Math.Min(length, window);
            var text = CleanWhole(System.Text.Encoding.UTF8.GetString(body, 0, take), secrets);
            int cut = SecretForms.SafeCut(text, maxChars, secrets);
            return text.Substring(0, cut) + (cut < text.Length || take < length ? "…" : string.Empty);
        }

        /// <summary>
        /// Only the secrets redacted, nothing else changed: for what a caller gets back as data (an
        /// answer's body and headers), whose digits and characters must stay as the server sent them.
        /// </summary>
        public string? RedactSecrets(string? text)
        {
            if (string.IsNullOrEmpty(text)) return text;
            var secrets = Secrets(text!.Length);
            return secrets.Count > 0 ? SecretForms.Redact(text, secrets) : text;
        }

        public void Clean(ParsedBody body)
        {
            body.Code = Clean(body.Code, 100);
            body.Message = Clean(body.Message, 300);
            body.CardNumber = Clean(body.CardNumber, 40);
        }

        private static string CleanWhole(string text, List<string> secrets)
        {
            if (secrets.Count > 0) text = SecretForms.Redact(text, secrets);
            text = MaskDigitRuns(text);
            if (HasControlChar(text))
            {
                var chars = text.ToCharArray();
                for (int i = 0; i < chars.Length; i++)
                    if (char.IsControl(chars[i])) chars[i] = ' ';
                text = new string(chars);
            }
            return text;
        }

        // The secrets that could be in a text this long; a secret shorter than 4 characters would redact noise.
        private List<string> Secrets(int textLength)
        {
            var list = new List<string>(2);
            Add(_apiKey);
            Add(_accessToken());
            return list;

            void Add(SecureString secret)
            {
                int length = secret.Length;
                if (length >= 4 && length <= textLength) list.Add(SecretText.Reveal(secret)); // revealed only to compare
            }
        }

        private static bool HasControlChar(string text)
        {
            foreach (var c in text)
                if (char.IsControl(c)) return true;
            return false;
        }

        internal static string MaskDigitRuns(string text) =>
            MayHoldDigitRun(text)
                ? System.Text.RegularExpressions.Regex.Replace(text, "[0-9][0-9 -]{11,}[0-9]", m => CardNumberMasker.Mask(m.Value) ?? m.Value)
                : text;

        // The pattern above needs 13 characters in a row from [0-9 -]; without such a run it cannot
        // match, and the regex (a cache lookup and a scan) is skipped.
        private static bool MayHoldDigitRun(string text)
        {
            int run = 0;
            foreach (var c in text)
            {
                if ((c >= '0' && c <= '9') || c == ' ' || c == '-')
                {
                    if (++run >= 13) return true;
                }
                else run = 0;
            }
            return false;
        }
    }
}
