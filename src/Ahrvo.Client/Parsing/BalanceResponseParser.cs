using System;
using System.Text;
using System.Text.Json;

namespace Ahrvo.Client.Parsing
{
    /// <summary>Reads the response body without trusting it: any surprise is a per-card error, never a crash.</summary>
    /// <remarks>
    /// The body is read token by token, and names and strings are unescaped here, never by
    /// <c>JsonProperty.Name</c> or <c>JsonElement.GetString()</c>: those throw
    /// InvalidOperationException for a lone surrogate escape (<c>"\ud800"</c>), which is valid JSON
    /// syntax, and that would have made a server's odd message the module's failure. A lone
    /// surrogate is read as U+FFFD instead, as a lenient decoder does.
    /// </remarks>
    internal static class BalanceResponseParser
    {
        private static readonly string[] RootNames = { "code", "message", "msg", "data" };
        private static readonly string[] DataNames = { "card_number", "available_balance", "currency" };

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
                var reader = new Utf8JsonReader(new ReadOnlySpan<byte>(body, start, length - start), new JsonReaderOptions { MaxDepth = 32 });
                problem = ReadRoot(ref reader, parsed);
                // The rest must be whitespace: the reader throws on a second value or trailing garbage.
                if (problem == null) while (reader.Read()) { }
            }
            catch (DecoderFallbackException)
            {
                problem = "the response body is not valid UTF-8";
            }
            catch (JsonException ex)
            {
                problem = "the response body is not valid JSON (" + ex.Message.Split('.')[0] + ")";
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is ArgumentException || ex is FormatException)
            {
                // Nothing here should throw these any more; if a body still finds a way, it is that
                // body's fault, reported as such, never this module's.
                problem = "the response body could not be read (" + ex.GetType().Name + ")";
            }
            if (problem == null) return true;
            parsed = new ParsedBody(); // nothing from a body that failed is used
            return false;
        }

        private static string? ReadRoot(ref Utf8JsonReader reader, ParsedBody parsed)
        {
            if (!reader.Read()) throw new JsonException("The body holds no JSON value.");
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                var kind = Kind(reader.TokenType);
                reader.Skip();
                while (reader.Read()) { } // still a whole, valid JSON document, or the other message
                return $"the response body is a JSON {kind}, not an object";
            }
            // A key given twice is ambiguous (parsers disagree on which one wins): never guess a balance.
            var counts = new int[RootNames.Length];
            string? msg = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = Text(ref reader);
                int i = Array.IndexOf(RootNames, name);
                if (i >= 0 && ++counts[i] > 1) return $"the response has the property '{name}' more than once";
                reader.Read();
                switch (i)
                {
                    case 0: parsed.Code = Scalar(ref reader); break;
                    case 1: parsed.Message = Scalar(ref reader); break;
                    case 2: msg = Scalar(ref reader); break;
                    case 3:
                        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); break; }
                        parsed.HasData = true;
                        var dataProblem = ReadData(ref reader, parsed);
                        if (dataProblem != null) return dataProblem;
                        break;
                    default: reader.Skip(); break;
                }
            }
            parsed.Message ??= msg;
            return null;
        }

        private static string? ReadData(ref Utf8JsonReader reader, ParsedBody parsed)
        {
            var counts = new int[DataNames.Length];
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = Text(ref reader);
                int i = Array.IndexOf(DataNames, name);
                if (i >= 0 && ++counts[i] > 1) return $"the response has the property 'data.{name}' more than once";
                reader.Read();
                switch (i)
                {
                    case 0: parsed.CardNumber = Scalar(ref reader); break;
                    case 2: parsed.Currency = Scalar(ref reader); break;
                    case 1:
                        switch (reader.TokenType)
                        {
                            case JsonTokenType.String: parsed.AvailableBalanceText = Text(ref reader); parsed.BalanceIsNull = false; break;
                            // A JSON number is taken by its exact text, never via double.
                            case JsonTokenType.Number: parsed.AvailableBalanceText = Raw(ref reader); parsed.BalanceIsNull = false; break;
                            case JsonTokenType.Null: parsed.AvailableBalanceText = null; parsed.BalanceIsNull = true; break;
                            default: return $"available_balance is a JSON {Kind(reader.TokenType)}";
                        }
                        break;
                    default: reader.Skip(); break;
                }
            }
            return null;
        }

        // As text: a string, a number by its exact text, true or false; anything else is no value.
        private static string? Scalar(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String: return Text(ref reader);
                case JsonTokenType.Number: return Raw(ref reader);
                case JsonTokenType.True: return "true";
                case JsonTokenType.False: return "false";
                default: reader.Skip(); return null;
            }
        }

        private static string Kind(JsonTokenType token) => token switch
        {
            JsonTokenType.StartObject => "Object",
            JsonTokenType.StartArray => "Array",
            JsonTokenType.String => "String",
            JsonTokenType.Number => "Number",
            JsonTokenType.True => "True",
            JsonTokenType.False => "False",
            JsonTokenType.Null => "Null",
            _ => token.ToString(),
        };

        private static string Raw(ref Utf8JsonReader reader) => Encoding.UTF8.GetString(reader.ValueSpan.ToArray());

        /// <summary>A string or property name, unescaped leniently: a lone surrogate escape becomes U+FFFD.</summary>
        private static string Text(ref Utf8JsonReader reader) =>
            reader.ValueIsEscaped ? Unescape(reader.ValueSpan.ToArray()) : Encoding.UTF8.GetString(reader.ValueSpan.ToArray());

        /// <summary>The JSON escapes of a string's raw bytes (which the reader has checked) undone; unpaired surrogates become U+FFFD.</summary>
        internal static string Unescape(byte[] raw)
        {
            var sb = new StringBuilder(raw.Length);
            int i = 0;
            while (i < raw.Length)
            {
                int bs = Array.IndexOf(raw, (byte)'\\', i);
                if (bs < 0) bs = raw.Length;
                if (bs > i) sb.Append(Encoding.UTF8.GetString(raw, i, bs - i));
                if (bs >= raw.Length - 1) break;
                byte e = raw[bs + 1];
                i = bs + 2;
                switch (e)
                {
                    case (byte)'b': sb.Append('\b'); break;
                    case (byte)'f': sb.Append('\f'); break;
                    case (byte)'n': sb.Append('\n'); break;
                    case (byte)'r': sb.Append('\r'); break;
                    case (byte)'t': sb.Append('\t'); break;
                    case (byte)'u':
                        int code = 0;
                        for (int k = 0; k < 4 && i < raw.Length; k++, i++)
                            code = code * 16 + Hex(raw[i]);
                        sb.Append((char)code);
                        break;
                    default: sb.Append((char)e); break; // " \ /
                }
            }
            for (int k = 0; k < sb.Length; k++)
            {
                char c = sb[k];
                if (char.IsHighSurrogate(c) && k + 1 < sb.Length && char.IsLowSurrogate(sb[k + 1])) k++;
                else if (char.IsSurrogate(c)) sb[k] = '\uFFFD';
            }
            return sb.ToString();
        }

        private static int Hex(byte b) =>
            b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : b >= 'A' && b <= 'F' ? b - 'A' + 10 : 0;
    }
}
