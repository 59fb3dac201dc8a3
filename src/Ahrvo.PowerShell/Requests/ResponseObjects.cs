using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Requests
{
    /// <summary>The client's JSON values (OrderedDictionary, object[], long, decimal, string, bool) as PowerShell objects.</summary>
    internal static class ResponseObjects
    {
        /// <summary>Objects become PSCustomObjects (field order kept); with <paramref name="asHashtable"/> they stay ordered dictionaries.</summary>
        public static object? Convert(object? value, bool asHashtable)
        {
            switch (value)
            {
                case OrderedDictionary dict:
                    if (asHashtable)
                    {
                        var copy = new OrderedDictionary(System.StringComparer.OrdinalIgnoreCase);
                        foreach (DictionaryEntry e in dict) copy[e.Key] = Convert(e.Value, true);
                        return copy;
                    }
                    var ps = new PSObject();
                    foreach (DictionaryEntry e in dict)
                    {
                        var name = (string)e.Key;
                        // JSON names are case-sensitive, PowerShell's are not: a second "Id" next to "id" is kept apart.
                        if (ps.Properties[name] != null) name = name + "_" + ps.Properties.Match("*").Count;
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
