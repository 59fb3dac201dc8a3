using System;
using System.Collections.Generic;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>
    /// Each card's last level, and the rule that turns readings into alerts: a card alerts when
    /// first seen below Normal, then each time its level changes, and (with a repeat interval) again
    /// while it stays below Normal that long after its last alert. Pure: the time is always given,
    /// so the rule is tested on explicit timestamps.
    /// </summary>
    /// <remarks>
    /// Readings are ordered by the state file's generation (a counter each save increments), never by
    /// the wall clock: a clock that steps back, or two machines whose clocks differ, must not make a
    /// new reading look older than a saved one and silence its alert.
    /// </remarks>
    internal sealed class AlertState
    {
        /// <summary>The basis of a reading taken with no file behind it: nothing saved is newer.</summary>
        public const long InMemory = long.MaxValue;

        private readonly Dictionary<string, CardAlertState> _cards = new Dictionary<string, CardAlertState>(StringComparer.Ordinal);

        public AlertState(long generation = 0) => Generation = generation;

        /// <summary>The generation of the save this state was loaded from (0: no file yet). The next save writes one more.</summary>
        public long Generation { get; }

        public int Count => _cards.Count;

        public IEnumerable<CardAlertState> Cards => _cards.Values;

        public bool TryGet(string cardId, out CardAlertState state) => _cards.TryGetValue(cardId, out state);

        /// <summary>Puts a card as loaded from a file.</summary>
        public void Set(CardAlertState state) => _cards[state.CardId] = state;

        /// <summary>Puts back what a card was before <see cref="Observe"/> (null: it was not there): its alert was not delivered.</summary>
        public void Restore(string cardId, CardAlertState? before)
        {
            if (before == null) _cards.Remove(cardId);
            else _cards[cardId] = before;
        }

        /// <summary>
        /// Records one successful reading at <paramref name="now"/> and says whether it alerts.
        /// <paramref name="previous"/> is the stored level (null on first sight).
        /// <paramref name="basis"/> is the generation the reading's pass started from (read before its
        /// first request): a card saved by a later generation was saved by an overlapping run that may
        /// have read it later than this one, so that newer news is kept and this reading is dropped
        /// (the next run reads the card again). <see cref="InMemory"/> when there is no file.
        /// </summary>
        public AlertKind Observe(string cardId, BalanceLevel level, decimal balance, string currency,
            DateTimeOffset observedAt, DateTimeOffset now, TimeSpan? repeatAfter, long basis, out BalanceLevel? previous)
        {
            var generation = Generation + 1;
            if (!_cards.TryGetValue(cardId, out var last))
            {
                previous = null;
                var first = level != BalanceLevel.Normal;
                _cards[cardId] = new CardAlertState(cardId, level, balance, currency, observedAt, observedAt, first ? now : (DateTimeOffset?)null, generation);
                return first ? AlertKind.Change : AlertKind.None;
            }
            previous = last.Level;
            if (last.Generation > basis) return AlertKind.None;
            if (last.Level != level)
            {
                _cards[cardId] = new CardAlertState(cardId, level, balance, currency, observedAt, observedAt, now, generation);
                return AlertKind.Change;
            }
            // A last alert "in the future" was stamped by a clock that has since stepped back (or by a
            // machine whose clock is ahead): count the interval from now rather than wait out the skew.
            var lastAlerted = last.LastAlertedAt is DateTimeOffset a && a > now ? now : last.LastAlertedAt;
            var levelSince = last.LevelSince > now ? now : last.LevelSince;
            var due = level != BalanceLevel.Normal && repeatAfter is TimeSpan every
                && now - (lastAlerted ?? levelSince) >= every;
            _cards[cardId] = new CardAlertState(cardId, level, balance, currency, observedAt, levelSince, due ? now : lastAlerted, generation);
            return due ? AlertKind.Repeat : AlertKind.None;
        }

        /// <summary>Forgets the cards not in <paramref name="keep"/>; returns how many.</summary>
        public int Prune(ICollection<string> keep)
        {
            var gone = new List<string>();
            foreach (var id in _cards.Keys) if (!keep.Contains(id)) gone.Add(id);
            foreach (var id in gone) _cards.Remove(id);
            return gone.Count;
        }
    }
}
