using System;
using System.Security;
using Ahrvo.Client.Diagnostics;

namespace Ahrvo.Client.Parsing
{
    /// <summary>
    /// What the server sends is shown to people and written to logs, so it is cleaned first: a
    /// server that echoes the API key or token gets them redacted, a full card number is masked,
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
            // that cannot change the text: the result is the same, without revealing the secrets,
            // running the regex or copying the string per card.
            text = RedactSecret(text!, _apiKey);
            text = RedactSecret(text, _accessToken());
            text = MaskDigitRuns(text);
            if (HasControlChar(text))
            {
                var chars = text.ToCharArray();
                for (int i = 0; i < chars.Length; i++)
                    if (char.IsControl(chars[i])) chars[i] = ' ';
                text = new string(chars);
            }
            return text.Length > maxLength ? text.Substring(0, maxLength) + "…" : text;
        }

        public void Clean(ParsedBody body)
        {
            body.Code = Clean(body.Code, 100);
            body.Message = Clean(body.Message, 300);
            body.CardNumber = Clean(body.CardNumber, 40);
        }

        private static string RedactSecret(string text, SecureString secret)
        {
            // A secret shorter than 4 characters would redact noise; one longer than the text cannot be
            // in it, and then it is not revealed at all.
            int length = secret.Length;
            if (length < 4 || length > text.Length) return text;
            var plain = SecretText.Reveal(secret); // revealed only to compare
            return text.IndexOf(plain, StringComparison.Ordinal) >= 0 ? text.Replace(plain, SecretText.Redacted) : text;
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
