using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Requests
{
    /// <summary>The client's JSON values (OrderedDictionary, object[], long, decimal, string, bool) as PowerShell objects.</summary>
    internal static class ResponseObjects
    {
        /// <summary>
        /// JSON names are case-sensitive, PowerShell's are not: a second "Id" next to "id" becomes
        /// "Id_2" rather than replacing the first one's value.
        /// </summary>
        private static string Distinct(string name, System.Func<string, bool> taken)
        {
            if (!taken(name)) return name;
            for (int i = 2; ; i++)
                if (!taken(name + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))) return name + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>Objects become PSCustomObjects (field order kept); with <paramref name="asHashtable"/> they stay ordered dictionaries.</summary>
        public static object? Convert(object? value, bool asHashtable)
        {
            switch (value)
            {
                case OrderedDictionary dict:
                    if (asHashtable)
                    {
                        var copy = new OrderedDictionary(System.StringComparer.OrdinalIgnoreCase);
                        foreach (DictionaryEntry e in dict) copy[Distinct((string)e.Key, n => copy.Contains(n))] = Convert(e.Value, true);
                        return copy;
                    }
                    var ps = new PSObject();
                    foreach (DictionaryEntry e in dict)
                    {
                        var name = Distinct((string)e.Key, n => ps.Properties[n] != null);
                        ps.Properties.Add(new PSNoteProperty(name, Convert(e.Value, false)));
                    }
                    return ps;
                case object[] list:
                    var items = new object?[list.Length];
                    for (int i = 0; i < list.Length; i++) items[i] = Convert(list[i], asHashtable);
                    return items;
                default:
                    return value;
            }
        }
    }
}
