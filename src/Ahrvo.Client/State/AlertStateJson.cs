using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using Ahrvo.Client.Parsing;

namespace Ahrvo.Client.State
{
    /// <summary>
    /// The JSON of the alert state file. It lives in the client, not the module, because
    /// System.Text.Json must resolve in the client's load context: an older PowerShell's own copy
    /// can be too old for the module's (default) context.
    /// </summary>
    /// <remarks>
    /// Balances are written as JSON strings (exact decimals, never through double) and read back
    /// with the API's strict money rules, so a hand edit such as "1,5" or 1e3 is refused, not guessed.
    /// </remarks>
    public static class AlertStateJson
    {
        public const int CurrentVersion = 1;

        /// <summary>
        /// The file's bytes. <paramref name="generation"/> counts the saves: readings are ordered by it,
        /// not by <paramref name="savedAt"/> or the cards' times, which come from clocks that can step
        /// back or differ between machines. Both "generation" fields are optional for a reader (a file
        /// of an older module has none: generation 0), so the format stays version 1.
        /// </summary>
        public static byte[] Write(IEnumerable<AlertStateEntry> cards, DateTimeOffset savedAt, long generation)
        {
            if (generation < 0) throw new ArgumentOutOfRangeException(nameof(generation));
            var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartObject();
                json.WriteNumber("version", CurrentVersion);
                json.WriteString("savedAt", savedAt);
                json.WriteNumber("generation", generation);
                json.WriteStartObject("cards");
                foreach (var c in cards)
                {
                    json.WriteStartObject(c.CardId);
                    json.WriteString("level", c.Level);
                    json.WriteString("balance", c.Balance.ToString(CultureInfo.InvariantCulture));
                    json.WriteString("currency", c.Currency);
                    json.WriteString("observedAt", c.ObservedAt);
                    json.WriteString("levelSince", c.LevelSince);
                    if (c.LastAlertedAt is DateTimeOffset a) json.WriteString("lastAlertedAt", a);
                    else json.WriteNull("lastAlertedAt");
                    json.WriteNumber("generation", c.Generation);
                    json.WriteEndObject();
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
            return buffer.ToArray();
        }

        /// <summary>The cards of a state file; <see cref="InvalidDataException"/> saying what is wrong and where.</summary>
        public static IReadOnlyList<AlertStateEntry> Read(byte[] utf8) => Read(utf8, out _);

        /// <summary>The cards and the file's generation (0 when it has none).</summary>
        public static IReadOnlyList<AlertStateEntry> Read(byte[] utf8, out long generation)
        {
            if (utf8 == null) throw new ArgumentNullException(nameof(utf8));
            var offset = utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF ? 3 : 0; // a BOM from a hand edit
            if (utf8.Length - offset == 0) throw new InvalidDataException("the file is empty");
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(utf8, offset, utf8.Length - offset),
                    new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException("it is not valid JSON (" + ex.Message + ")", ex);
            }
            using (doc)
            {
                try
                {
                    return Read(doc.RootElement, out generation);
                }
                catch (InvalidOperationException ex)
                {
                    // Looking a property up compares names, which unescapes them and throws too.
                    throw NotText("a name or a value", ex);
                }
            }
        }

        private static IReadOnlyList<AlertStateEntry> Read(JsonElement root, out long generation)
        {
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException("it is not a JSON object");
            if (!root.TryGetProperty("version", out var version)) throw new InvalidDataException("it has no \"version\"");
            if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v < 1)
                throw new InvalidDataException("its \"version\" is not a positive whole number");
            if (v > CurrentVersion)
                throw new InvalidDataException(string.Format(CultureInfo.InvariantCulture,
                    "it is version {0}, written by a newer module; this one reads version {1}", v, CurrentVersion));
            generation = Generation(root, "the file");
            if (!root.TryGetProperty("cards", out var cards) || cards.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException("it has no \"cards\" object");

            var list = new List<AlertStateEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var card in cards.EnumerateObject())
            {
                var id = Name(card);
                if (id.Length == 0) throw new InvalidDataException("a card has an empty id");
                // JsonDocument keeps duplicate names; two entries for one card would make the outcome a guess.
                if (!seen.Add(id)) throw new InvalidDataException("card '" + id + "' is listed twice");
                var c = card.Value;
                if (c.ValueKind != JsonValueKind.Object) throw new InvalidDataException("card '" + id + "' is not a JSON object");
                list.Add(new AlertStateEntry(id,
                    RequiredString(c, id, "level"),
                    Money(c, id),
                    RequiredString(c, id, "currency"),
                    Time(c, id, "observedAt") ?? throw Missing(id, "observedAt"),
                    Time(c, id, "levelSince") ?? throw Missing(id, "levelSince"),
                    Time(c, id, "lastAlertedAt"),
                    Generation(c, "card '" + id + "'")));
            }
            return list;
        }

        private static long Generation(JsonElement e, string what)
        {
            if (!e.TryGetProperty("generation", out var p) || p.ValueKind == JsonValueKind.Null) return 0;
            if (p.ValueKind != JsonValueKind.Number || !p.TryGetInt64(out var g) || g < 0)
                throw new InvalidDataException(what + ": \"generation\" is not a whole number 0 or more");
            return g;
        }

        private static InvalidDataException Missing(string id, string name) =>
            new InvalidDataException("card '" + id + "' has no \"" + name + "\"");

        private static string RequiredString(JsonElement c, string id, string name)
        {
            if (!c.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) throw Missing(id, name);
            if (p.ValueKind != JsonValueKind.String) throw new InvalidDataException("card '" + id + "': \"" + name + "\" is not a string");
            return Text(p, "card '" + id + "': \"" + name + "\"");
        }

        // GetString() and JsonProperty.Name throw InvalidOperationException for an escape that is not
        // text (a lone surrogate such as \ud800), which a hand edit or a damaged file can hold: that is
        // the file's fault, said as such, never a raw exception.
        private static string Text(JsonElement p, string what)
        {
            try
            {
                return p.GetString()!;
            }
            catch (InvalidOperationException ex)
            {
                throw NotText(what, ex);
            }
        }

        private static string Name(JsonProperty card)
        {
            try
            {
                return card.Name;
            }
            catch (InvalidOperationException ex)
            {
                throw NotText("a card id", ex);
            }
        }

        private static InvalidDataException NotText(string what, Exception ex) =>
            new InvalidDataException(what + " holds an escape that is not text (a lone surrogate such as \\ud800)", ex);

        private static decimal Money(JsonElement c, string id)
        {
            if (!c.TryGetProperty("balance", out var p) || p.ValueKind == JsonValueKind.Null) throw Missing(id, "balance");
            // A number is taken from its text as written (GetRawText), never through double.
            string text = p.ValueKind switch
            {
                JsonValueKind.String => Text(p, "card '" + id + "': \"balance\""),
                JsonValueKind.Number => p.GetRawText(),
                _ => throw new InvalidDataException("card '" + id + "': \"balance\" is not a number or a string"),
            };
            if (!MoneyParser.TryParse(text, out var value, out var reason))
                throw new InvalidDataException("card '" + id + "': \"balance\" " + reason);
            return value;
        }

        private static DateTimeOffset? Time(JsonElement c, string id, string name)
        {
            if (!c.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return null;
            // ISO 8601 only (TryGetDateTimeOffset is culture-free), as written.
            bool isTime;
            DateTimeOffset t = default;
            try
            {
                isTime = p.ValueKind == JsonValueKind.String && p.TryGetDateTimeOffset(out t);
            }
            catch (InvalidOperationException ex)
            {
                throw NotText("card '" + id + "': \"" + name + "\"", ex);
            }
            if (!isTime)
                throw new InvalidDataException("card '" + id + "': \"" + name + "\" is not an ISO 8601 time such as 2026-01-31T09:00:00+00:00");
            return t;
        }
    }
}
