using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;
using Ahrvo.PowerShell.Errors;

namespace Ahrvo.PowerShell.Reports
{
    /// <summary>What one HTML report shows.</summary>
    internal sealed class BalanceReportData
    {
        public BalanceReportData(string title, DateTimeOffset generatedAt, BalanceSummary summary, IReadOnlyList<CardBalance> cards,
            IReadOnlyList<FailedCard> failures, decimal lowBalanceThreshold, string? currencyWarning,
            IReadOnlyList<BalanceReconciliation>? reconciliations = null)
        {
            Title = title;
            GeneratedAt = generatedAt;
            Summary = summary;
            Cards = cards;
            Failures = failures;
            LowBalanceThreshold = lowBalanceThreshold;
            CurrencyWarning = currencyWarning;
            Reconciliations = reconciliations ?? Array.Empty<BalanceReconciliation>();
        }

        public string Title { get; }
        public DateTimeOffset GeneratedAt { get; }
        public BalanceSummary Summary { get; }
        public IReadOnlyList<CardBalance> Cards { get; }
        public IReadOnlyList<FailedCard> Failures { get; }
        public decimal LowBalanceThreshold { get; }
        public string? CurrencyWarning { get; }

        /// <summary>Compare-AhrvoCardBalance results given to the report; empty when it was given balances only.</summary>
        public IReadOnlyList<BalanceReconciliation> Reconciliations { get; }
    }
}
