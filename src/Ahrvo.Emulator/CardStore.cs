using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ahrvo.Emulator;

/// <summary>The live card set. Each entry caches its 200 body so the hot path only looks up and writes bytes.</summary>
public sealed class CardStore
{
    public sealed record Entry(EmulatorCard Card, byte[] SuccessBody);

    private readonly ConcurrentDictionary<string, Entry> _cards = new(StringComparer.Ordinal);

    public CardStore(IEnumerable<EmulatorCard> cards)
    {
        foreach (var card in cards)
        {
            Upsert(card);
        }
    }

    public int Count => _cards.Count;

    public bool TryGet(string id, out Entry entry) => _cards.TryGetValue(id, out entry!);

    public Entry Upsert(EmulatorCard card)
    {
        var entry = new Entry(card, BuildSuccessBody(card));
        _cards[card.Id] = entry;
        return entry;
    }

    public bool Remove(string id) => _cards.TryRemove(id, out _);

    /// <summary>All cards ordered by id (generated ids are zero-padded, so this is index order).</summary>
    public List<EmulatorCard> Snapshot()
    {
        var list = _cards.Values.Select(e => e.Card).ToList();
        list.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return list;
    }

    // Relaxed escaping keeps planted balances byte-for-byte as given (no \u002B for '+', etc.).
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] BuildSuccessBody(EmulatorCard card)
    {
        var buffer = new MemoryStream(128);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("code", "SUCCESS");
            w.WriteStartObject("data");
            w.WriteString("card_number", card.CardNumber);
            w.WriteString("available_balance", card.AvailableBalance);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    // ---- loading -------------------------------------------------------------------------------

    public static IReadOnlyList<EmulatorCard> LoadFile(string path)
    {
        string text = File.ReadAllText(path, Encoding.UTF8);
        var cards = path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ParseCsv(text) : ParseJsonArray(text);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var card in cards)
        {
            if (!seen.Add(card.Id)) throw new FormatException($"{path}: duplicate card id '{card.Id}'.");
        }
        return cards;
    }

    public static List<EmulatorCard> ParseJsonArray(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new FormatException("The cards JSON must be an array of card objects.");
        return doc.RootElement.EnumerateArray().Select(e => ParseJsonCard(e, idOverride: null)).ToList();
    }

    /// <summary>Lenient reader shared by files and PUT /_emulator/cards/{id}: accepts "id" or "card_id", and a numeric balance as its literal text.</summary>
    public static EmulatorCard ParseJsonCard(JsonElement e, string? idOverride)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new FormatException("A card must be a JSON object.");

        string? id = idOverride ?? Text(e, "id") ?? Text(e, "card_id");
        if (string.IsNullOrEmpty(id)) throw new FormatException("A card needs a non-empty \"id\".");

        return new EmulatorCard(
            id,
            Text(e, "card_number"),
            Text(e, "available_balance"),
            NormalizeType(Text(e, "type")),
            Text(e, "currency"));
    }

    private static string? Text(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Null => null,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
            _ => throw new FormatException($"\"{name}\" must be a string."),
        };
    }

    public static string NormalizeType(string? type) => type?.Trim().ToLowerInvariant() switch
    {
        null or "" or "dedicated" => EmulatorCard.Dedicated,
        "shared" => EmulatorCard.Shared,
        _ => throw new FormatException($"Card type must be \"Dedicated\" or \"Shared\", got \"{type}\"."),
    };

    public static List<EmulatorCard> ParseCsv(string text)
    {
        var rows = CsvRows(text).Where(r => !(r.Count == 1 && r[0].Length == 0)).ToList();
        if (rows.Count == 0) return [];

        var header = rows[0].Select(h => h.Trim().ToLowerInvariant()).ToList();
        int Col(params string[] names) => names.Select(n => header.IndexOf(n)).FirstOrDefault(i => i >= 0, -1);
        int idCol = Col("card_id", "id"), numberCol = Col("card_number"), balanceCol = Col("available_balance"),
            typeCol = Col("type"), currencyCol = Col("currency");
        if (idCol < 0) throw new FormatException("The CSV header needs a card_id column.");

        string? Cell(List<string> row, int col) => col >= 0 && col < row.Count ? row[col] : null;

        var cards = new List<EmulatorCard>(rows.Count - 1);
        for (int r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            string id = Cell(row, idCol) ?? "";
            if (id.Length == 0) throw new FormatException($"CSV line {r + 1}: empty card_id.");
            cards.Add(new EmulatorCard(id, Cell(row, numberCol), Cell(row, balanceCol),
                NormalizeType(Cell(row, typeCol)), NullIfEmpty(Cell(row, currencyCol))));
        }
        return cards;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>Minimal RFC 4180 reader: quoted fields may hold commas ("1,234.50"), quotes ("") and newlines.</summary>
    private static IEnumerable<List<string>> CsvRows(string text)
    {
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\r') { /* handled by \n */ }
            else if (c == '\n') { row.Add(field.ToString()); field.Clear(); yield return row; row = new List<string>(); }
            else if (c == '\uFEFF' && i == 0) { /* BOM */ }
            else field.Append(c);
        }
        if (field.Length > 0 || row.Count > 0) { row.Add(field.ToString()); yield return row; }
    }

    internal static string Describe(IReadOnlyCollection<EmulatorCard> cards) =>
        string.Create(CultureInfo.InvariantCulture, $"{cards.Count} cards ({cards.Count(c => c.IsShared)} Shared)");
}
