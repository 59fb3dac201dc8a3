using System;
using System.Collections.Generic;

namespace Ahrvo.PowerShell.Completion
{
    /// <summary>
    /// Card ids that answered successfully in this process, most recent last, for -CardId tab
    /// completion. In memory only and never persisted: ids are not secrets, but a history on disk
    /// would be one more thing to protect. Bounded so a run over millions of cards cannot grow it
    /// without limit; thread-safe because the connection (and so queries) can be shared by runspaces.
    /// </summary>
    internal static class SeenCardIds
    {
        public const int DefaultCapacity = 10_000;

        private static readonly object Gate = new object();
        // Least recently seen first; the dictionary finds an id's node so a repeat moves it to the end.
        private static readonly LinkedList<string> Order = new LinkedList<string>();
        private static readonly Dictionary<string, LinkedListNode<string>> Index = new Dictionary<string, LinkedListNode<string>>(StringComparer.Ordinal);
        private static int _capacity = DefaultCapacity;

        public static int Count { get { lock (Gate) return Index.Count; } }

        /// <summary>Records an id; the oldest goes once the capacity is reached.</summary>
        public static void Add(string? cardId)
        {
            if (string.IsNullOrEmpty(cardId)) return;
            lock (Gate)
            {
                if (Index.TryGetValue(cardId!, out var node))
                {
                    Order.Remove(node);
                    Order.AddLast(node);
                    return;
                }
                Index.Add(cardId!, Order.AddLast(cardId!));
                while (Index.Count > _capacity)
                {
                    var oldest = Order.First!;
                    Order.RemoveFirst();
                    Index.Remove(oldest.Value);
                }
            }
        }

        /// <summary>The ids starting with <paramref name="prefix"/> (case-insensitive), sorted.</summary>
        public static List<string> Matching(string? prefix)
        {
            prefix ??= string.Empty;
            var matches = new List<string>();
            lock (Gate)
            {
                foreach (var id in Order)
                    if (id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) matches.Add(id);
            }
            // Sorted outside the lock: the lock only guards the copy.
            matches.Sort(CompareIds);
            return matches;
        }

        // Case-insensitive first so the list reads naturally, ordinal after so the order is total.
        private static int CompareIds(string a, string b)
        {
            int c = StringComparer.OrdinalIgnoreCase.Compare(a, b);
            return c != 0 ? c : string.CompareOrdinal(a, b);
        }

        /// <summary>For tests: empties the registry and sets its capacity.</summary>
        internal static void Reset(int capacity = DefaultCapacity)
        {
            if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity));
            lock (Gate)
            {
                Order.Clear();
                Index.Clear();
                _capacity = capacity;
            }
        }
    }
}
