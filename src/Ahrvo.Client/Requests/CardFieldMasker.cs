using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using Ahrvo.Client.Parsing;

namespace Ahrvo.Client.Requests
{
    /// <summary>
    /// Masks the card numbers in a JSON answer: the value of every field whose name says it holds a
    /// card number (card_number, cardNumber, pan, ...), as a balance's card_number is masked
    /// (<see cref="CardNumberMasker"/>), whether it is a string or a number and however its digits
    /// are grouped. Every other byte stays as the server sent it: order ids, timestamps and amounts
    /// are data, and a digit-run rule would corrupt them.
    /// </summary>
    public static class CardFieldMasker
    {
        // Compared after lower-casing and dropping '_', '-' and spaces.
        private static readonly string[] Endings = { "cardnumber", "cardno", "cardnum", "cardpan", "primaryaccountnumber" };

        /// <summary>Whether a field of this name holds a card number.</summary>
        public static bool IsCardNumberField(string name)
        {
            var sb = new StringBuilder(name.Length);
            foreach (var c in name)
                if (c != '_' && c != '-' && c != ' ') sb.Append(char.ToLowerInvariant(c));
            var n = sb.ToString();
            if (n == "pan" || n == "fullpan" || n == "maskedpan") return true;
            foreach (var e in Endings)
                if (n.EndsWith(e, StringComparison.Ordinal)) return true;
            return false;
        }

        /// <summary>The JSON text with the card-number fields masked; the text unchanged when it is not JSON or holds none.</summary>
        public static string Mask(string json)
        {
            var bytes = Encoding.UTF8.GetBytes(json);
            var edits = new List<(int Start, int Length, string Text)>();
            try
            {
                var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                bool cardField = false;
                while (reader.Read())
                {
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.PropertyName:
                            cardField = IsCardNumberField(reader.GetString() ?? string.Empty);
                            continue;
                        case JsonTokenType.String when cardField:
                        {
                            var value = reader.GetString() ?? string.Empty;
                            var masked = CardNumberMasker.Mask(value) ?? value;
                            if (masked != value) edits.Add(((int)reader.TokenStartIndex, (int)(reader.BytesConsumed - reader.TokenStartIndex), JsonString(masked)));
                            break;
                        }
                        case JsonTokenType.Number when cardField:
                        {
                            var value = Encoding.UTF8.GetString(reader.ValueSpan.ToArray());
                            var masked = CardNumberMasker.Mask(value) ?? value;
                            // A masked number is no longer a number: it becomes a string.
                            if (masked != value) edits.Add(((int)reader.TokenStartIndex, (int)(reader.BytesConsumed - reader.TokenStartIndex), JsonString(masked)));
                            break;
                        }
                    }
                    cardField = false;
                }
            }
            catch (JsonException)
            {
                return json; // not JSON: there are no fields to mask (its text is returned as text)
            }
            if (edits.Count == 0) return json;
            var output = new StringBuilder(json.Length);
            int at = 0;
            foreach (var edit in edits)
            {
                output.Append(Encoding.UTF8.GetString(bytes, at, edit.Start - at)).Append(edit.Text);
                at = edit.Start + edit.Length;
            }
            output.Append(Encoding.UTF8.GetString(bytes, at, bytes.Length - at));
            return output.ToString();
        }

        private static string JsonString(string value) => JsonSerializer.Serialize(value);
    }
}
