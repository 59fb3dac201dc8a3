using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ahrvo.Emulator;

/// <summary>Accepts "a" or ["a","b"]: ConvertTo-Json turns a one-element array into a plain string surprisingly often.</summary>
public sealed class StringListConverter : JsonConverter<List<string>?>
{
    public override bool HandleNull => true;

    public override List<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.StartArray:
                var list = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    list.Add(StringOrNumberConverter.ReadValue(ref reader) ?? throw new JsonException("Card ids cannot be null."));
                }
                return list;
            default:
                return [StringOrNumberConverter.ReadValue(ref reader) ?? ""];
        }
    }

    public override void Write(Utf8JsonWriter writer, List<string>? value, JsonSerializerOptions options)
    {
        if (value is null) { writer.WriteNullValue(); return; }
        writer.WriteStartArray();
        foreach (var s in value) writer.WriteStringValue(s);
        writer.WriteEndArray();
    }
}
