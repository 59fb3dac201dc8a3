using System;

namespace Ahrvo.Client.Parsing
{
    /// <summary>What a card id may be before it is sent. Anything accepted is URL-encoded as one value.</summary>
    public static class CardIdRules
    {
        /// <summary>Ids from the API are about 22 characters; anything this long is a mistake, not an id.</summary>
        public const int MaxLength = 128;

        /// <summary>Returns null when the id may be sent, else why not.</summary>
        public static string? Check(string? cardId)
        {
            if (cardId == null) return "The card id is null.";
            if (cardId.Trim().Length == 0) return "The card id is empty or white space.";
            // Never sent as given: the API would look up a different id, and the audit log would
            // hold it with the blanks. Callers trim first (and say so) with Trim below.
            if (Trim(cardId).Length != cardId.Length) return "The card id has white space around it.";
            if (cardId.Length > MaxLength) return $"The card id is {cardId.Length} characters long; card ids are at most {MaxLength}.";
            for (int i = 0; i < cardId.Length; i++)
            {
                char c = cardId[i];
                if (char.IsControl(c)) return "The card id contains a control character.";
                // A lone surrogate is not text: URL encoding would silently turn it into U+FFFD and
                // ask the API about a different id.
                if (char.IsHighSurrogate(c) && i + 1 < cardId.Length && char.IsLowSurrogate(cardId[i + 1])) { i++; continue; }
                if (char.IsSurrogate(c)) return "The card id contains an invalid character (a lone UTF-16 surrogate).";
            }
            return null;
        }

        /// <summary>
        /// The id without the white space around it (what text files and spreadsheets add: spaces,
        /// tabs, line ends, no-break spaces, a byte order mark). White space inside is left alone.
        /// </summary>
        public static string Trim(string cardId)
        {
            int start = 0, end = cardId.Length;
            while (start < end && IsBlank(cardId[start])) start++;
            while (end > start && IsBlank(cardId[end - 1])) end--;
            return start == 0 && end == cardId.Length ? cardId : cardId.Substring(start, end - start);
        }

        private static bool IsBlank(char c) => char.IsWhiteSpace(c) || c == '\uFEFF' || c == '\u200B';

        /// <summary>The relative URI of the balance query; the id is one encoded query value.</summary>
        public static string BalancePathAndQuery(string cardId) =>
            "card/issuance/api/issuing/card/v2/normal/balance?card_id=" + Uri.EscapeDataString(cardId);
    }
}
