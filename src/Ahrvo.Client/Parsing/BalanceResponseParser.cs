using System;
using System.Text;
using System.Text.Json;

namespace Ahrvo.Client.Parsing
{
    /// <summary>Reads the response body without trusting it: any surprise is a per-card error, never a crash.</summary>
    internal static class BalanceResponseParser
    {
        public static bool TryParse(byte[] body, int length, out ParsedBody parsed, out string? problem)
        {
            parsed = new ParsedBody();
            problem = null;
            if (length == 0) { problem = "the response body is empty"; return false; }
            try
            {
                // Strict UTF-8: invalid bytes are an error, not silently replaced.
                var strict = new UTF8Encoding(false, true);
                strict.GetCharCount(body, 0, length);

                // A UTF-8 byte order mark is not JSON, but RFC 8259 lets a parser ignore it: some
                // Windows gateways add one, and refusing a correct balance for it helps nobody.
                int start = length >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF ? 3 : 0;
                using var doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(body, start, length - start), new JsonDocumentOptions { MaxDepth = 32 });
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) { problem = $"the response body is a JSON {root.ValueKind}, not an object"; return false; }

                // A key given twice is ambiguous (parsers disagree on which one wins): never guess a balance.
                var duplicate = FindDuplicate(root, "code", "message", "msg", "data");
                if (duplicate != null) { problem = $"the response has the property '{duplicate}' more than once"; return false; }

                parsed.Code = ReadString(root, "code");
                parsed.Message = ReadString(root, "message") ?? ReadString(root, "msg");
                if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
                {
                    duplicate = FindDuplicate(data, "card_number", "available_balance", "currency");
                    if (duplicate != null) { problem = $"the response has the property 'data.{duplicate}' more than once"; return false; }
                    parsed.HasData = true;
                    parsed.CardNumber = ReadString(data, "card_number");
                    parsed.Currency = ReadString(data, "currency");
                    if (data.TryGetProperty("available_balance", out var bal))
                    {
                        switch (bal.ValueKind)
                        {
                            case JsonValueKind.String: parsed.AvailableBalanceText = bal.GetString(); break;
                            // A JSON number is taken by its exact text, never via double.
                            case JsonValueKind.Number: parsed.AvailableBalanceText = bal.GetRawText(); break;
                            case JsonValueKind.Null: parsed.BalanceIsNull = true; break;
                            default: parsed.AvailableBalanceText = null; parsed.BalanceIsNull = false; problem = $"available_balance is a JSON {bal.ValueKind}"; return false;
                        }
                    }
                }
                return true;
            }
            catch (DecoderFallbackException)
            {
                problem = "the response body is not valid UTF-8";
                return false;
            }
            catch (JsonException ex)
            {
                problem = "the response body is not valid JSON (" + ex.Message.Split('.')[0] + ")";
                return false;
            }
        }

        private static string? FindDuplicate(JsonElement obj, params string[] names)
        {
            var counts = new int[names.Length];
            foreach (var p in obj.EnumerateObject())
            {
                int i = Array.IndexOf(names, p.Name);
                if (i >= 0 && ++counts[i] > 1) return p.Name;
            }
            return null;
        }

        private static string? ReadString(JsonElement obj, string name)
        {
            if (!obj.TryGetProperty(name, out var el)) return null;
            return el.ValueKind switch
            {
                JsonValueKind.String => el.GetString(),
                JsonValueKind.Number => el.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
        }
    }
}
