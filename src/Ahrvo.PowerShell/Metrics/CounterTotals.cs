using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Ahrvo.PowerShell.Metrics
{
    /// <summary>
    /// The request counters of a metrics file: totals over every run that wrote the file, and the
    /// connection counts they already include. A scheduled export is a new process, so a new
    /// connection, each time; the connection's own counters start at 0 every run, and a run that sent
    /// as many requests as the one before would look to Prometheus like no request at all (a counter
    /// reset is seen only when the value drops). Carried over from file to file, the totals only grow,
    /// as rate() and increase() need.
    /// </summary>
    internal sealed class CounterTotals
    {
        private static readonly Regex Seen = new Regex(
            @"^# Counted: connection ([0-9a-f]{32}) requests ([0-9]{1,18}) retries ([0-9]{1,18}) throttled ([0-9]{1,18})$",
            RegexOptions.CultureInvariant | RegexOptions.Multiline);

        public CounterTotals(ConnectionCounters totals, ConnectionCounters? counted)
        {
            Totals = totals;
            Counted = counted;
        }

        /// <summary>What the file shows: requests, retries and 429s of every run that wrote it.</summary>
        public ConnectionCounters Totals { get; }

        /// <summary>The connection and its counts already in <see cref="Totals"/>, when known.</summary>
        public ConnectionCounters? Counted { get; }

        /// <summary>
        /// The totals after adding what <paramref name="now"/> (the connection's counters since
        /// Connect-Ahrvo) has not yet added: all of it for a connection the file has not counted, the
        /// growth since the last write for the one it has. Without a connection, the totals stay.
        /// </summary>
        public static CounterTotals Next(CounterTotals? previous, ConnectionCounters? now)
        {
            if (now is not ConnectionCounters n) return previous ?? new CounterTotals(default, null);
            var t = previous?.Totals ?? default;
            var same = previous?.Counted is ConnectionCounters c && c.ConnectionId != Guid.Empty && c.ConnectionId == n.ConnectionId
                && n.RequestsSent >= c.RequestsSent && n.Retries >= c.Retries && n.ThrottledResponses >= c.ThrottledResponses;
            var from = same ? previous!.Counted!.Value : default;
            return new CounterTotals(
                new ConnectionCounters(Add(t.RequestsSent, n.RequestsSent - from.RequestsSent), Add(t.Retries, n.Retries - from.Retries),
                    Add(t.ThrottledResponses, n.ThrottledResponses - from.ThrottledResponses)),
                n);
        }

        // A total that would overflow starts again from the new counts: a counter reset, which rate() handles.
        private static long Add(long total, long delta) => total > long.MaxValue - delta ? delta : total + delta;

        /// <summary>The comment line that records <see cref="Counted"/>; parsers of the format skip comments.</summary>
        public string? CountedLine() => Counted is ConnectionCounters c && c.ConnectionId != Guid.Empty
            ? string.Format(CultureInfo.InvariantCulture, "# Counted: connection {0:N} requests {1} retries {2} throttled {3}\n",
                c.ConnectionId, c.RequestsSent, c.Retries, c.ThrottledResponses)
            : null;

        /// <summary>
        /// The counters of a file written by <see cref="BalanceMetrics.Render"/>; null when it has
        /// none. Only plain non-negative integers are taken: a file edited by hand or cut short loses
        /// what cannot be read (its totals then start again from 0, a reset).
        /// </summary>
        public static CounterTotals? Read(string text)
        {
            long? requests = Sample(text, BalanceMetrics.Requests), retries = Sample(text, BalanceMetrics.Retries),
                throttled = Sample(text, BalanceMetrics.Throttled);
            if (requests == null || retries == null || throttled == null) return null;
            ConnectionCounters? counted = null;
            var m = Seen.Match(text);
            if (m.Success)
                counted = new ConnectionCounters(Guid.ParseExact(m.Groups[1].Value, "N"), Parse(m.Groups[2].Value), Parse(m.Groups[3].Value), Parse(m.Groups[4].Value));
            return new CounterTotals(new ConnectionCounters(requests.Value, retries.Value, throttled.Value), counted);
        }

        private static long? Sample(string text, string name)
        {
            var m = Regex.Match(text, "^" + name + " ([0-9]{1,18})$", RegexOptions.CultureInvariant | RegexOptions.Multiline);
            return m.Success ? Parse(m.Groups[1].Value) : null;
        }

        private static long Parse(string digits) => long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
    }
}
