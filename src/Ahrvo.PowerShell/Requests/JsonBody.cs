using System;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Security;
using System.Text;

namespace Ahrvo.PowerShell.Requests
{
    /// <summary>
    /// An object body as JSON, the same in Windows PowerShell 5.1 and PowerShell 7 (ConvertTo-Json
    /// differs between them and silently cuts deep objects at depth 2): numbers culture-invariant,
    /// decimals exact, dates ISO 8601, enums by name; hashtables, PSCustomObjects and .NET objects by
    /// their properties. A SecureString is refused: a secret never goes into a body by accident.
    /// </summary>
    internal static class JsonBody
    {
        private const int MaxDepth = 64;

        public static string Write(object? value)
        {
            var sb = new StringBuilder();
            Write(sb, value, 0);
            return sb.ToString();
        }

        private static void Write(StringBuilder sb, object? value, int depth)
        {
            if (depth > MaxDepth) throw new ArgumentException("The body is nested more than " + MaxDepth + " levels deep (or refers to itself): give it as a JSON string instead.");
            if (value is PSObject ps)
            {
                if (ps.BaseObject is PSCustomObject) { WriteProperties(sb, ps, depth); return; }
                value = ps.BaseObject;
            }
            switch (value)
            {
                case null:
                case DBNull _:
                    sb.Append("null"); return;
                case string s: WriteString(sb, s); return;
                case char c: WriteString(sb, c.ToString()); return;
                case bool b: sb.Append(b ? "true" : "false"); return;
                case SwitchParameter sw: sb.Append(sw.IsPresent ? "true" : "false"); return;
                case decimal d: sb.Append(d.ToString(CultureInfo.InvariantCulture)); return;
                case double f:
                    if (double.IsNaN(f) || double.IsInfinity(f)) throw new ArgumentException("The body holds a number that JSON cannot carry (NaN or infinity).");
                    sb.Append(f.ToString("R", CultureInfo.InvariantCulture)); return;
                case float f:
                    if (float.IsNaN(f) || float.IsInfinity(f)) throw new ArgumentException("The body holds a number that JSON cannot carry (NaN or infinity).");
                    sb.Append(f.ToString("R", CultureInfo.InvariantCulture)); return;
                case sbyte _: case byte _: case short _: case ushort _: case int _: case uint _: case long _: case ulong _:
                    sb.Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture)); return;
                case System.Numerics.BigInteger big: sb.Append(big.ToString(CultureInfo.InvariantCulture)); return;
                case DateTime dt: WriteString(sb, dt.ToString("o", CultureInfo.InvariantCulture)); return;
                case DateTimeOffset dto: WriteString(sb, dto.ToString("o", CultureInfo.InvariantCulture)); return;
                case Guid g: WriteString(sb, g.ToString()); return;
                case Uri u: WriteString(sb, u.OriginalString); return;
                case Enum e: WriteString(sb, e.ToString()); return;
                case SecureString _:
                    throw new ArgumentException("The body holds a SecureString: a secret is never put into a request body by this module. Convert it yourself if the API truly needs it.");
                case IDictionary dict:
                    sb.Append('{');
                    bool first = true;
                    foreach (DictionaryEntry entry in dict)
                    {
                        if (!first) sb.Append(',');
                        first = false;
                        WriteString(sb, Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                        sb.Append(':');
                        Write(sb, entry.Value, depth + 1);
                    }
                    sb.Append('}');
                    return;
                case IEnumerable list:
                    sb.Append('[');
                    bool firstItem = true;
                    foreach (var item in list)
                    {
                        if (!firstItem) sb.Append(',');
                        firstItem = false;
                        Write(sb, item, depth + 1);
                    }
                    sb.Append(']');
                    return;
                default:
                    WriteProperties(sb, PSObject.AsPSObject(value), depth);
                    return;
            }
        }

        private static void WriteProperties(StringBuilder sb, PSObject ps, int depth)
        {
            sb.Append('{');
            bool first = true;
            foreach (var p in ps.Properties)
            {
                if (!(p is PSNoteProperty || p is PSProperty || p is PSAliasProperty || p is PSScriptProperty || p is PSCodeProperty)) continue;
                object? v;
                try { v = p.Value; }
                catch (GetValueException) { continue; }
                if (!first) sb.Append(',');
                first = false;
                WriteString(sb, p.Name);
                sb.Append(':');
                Write(sb, v, depth + 1);
            }
            sb.Append('}');
        }

        private static void WriteString(StringBuilder sb, string s)
        {
            sb.Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || c == '\u2028' || c == '\u2029') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }
    }
}
