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
    internal sealed class AlertState
    {
        private readonly Dictionary<string, CardAlertState> _cards = new Dictionary<string, CardAlertState>(StringComparer.Ordinal);

        public int Count => _cards.Count;

        public IEnumerable<CardAlertState> Cards => _cards.Values;

        public bool TryGet(string cardId, out CardAlertState state) => _cards.TryGetValue(cardId, out state);

        /// <summary>Puts a card as loaded from a file.</summary>
        public void Set(CardAlertState state) => _cards[state.CardId] = state;

        /// <summary>
        /// Records one successful reading at <paramref name="now"/> and says whether it alerts.
        /// <paramref name="previous"/> is the stored level (null on first sight).
        /// </summary>
        public AlertKind Observe(string cardId, BalanceLevel level, decimal balance, string currency,
            DateTimeOffset observedAt, DateTimeOffset now, TimeSpan? repeatAfter, out BalanceLevel? previous)
        {
            if (!_cards.TryGetValue(cardId, out var last))
            {
                previous = null;
                var first = level != BalanceLevel.Normal;
                _cards[cardId] = new CardAlertState(cardId, level, balance, currency, observedAt, observedAt, first ? now : (DateTimeOffset?)null);
                return first ? AlertKind.Change : AlertKind.None;
            }
            previous = last.Level;
            // An overlapping run that read the card earlier but saves later must not undo newer news.
            if (observedAt < last.ObservedAt) return AlertKind.None;
            if (last.Level != level)
            {
                _cards[cardId] = new CardAlertState(cardId, level, balance, currency, observedAt, observedAt, now);
                return AlertKind.Change;
            }
            var due = level != BalanceLevel.Normal && repeatAfter is TimeSpan every
                && now - (last.LastAlertedAt ?? last.LevelSince) >= every;
            _cards[cardId] = new CardAlertState(cardId, level, balance, currency, observedAt, last.LevelSince, due ? now : last.LastAlertedAt);
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
