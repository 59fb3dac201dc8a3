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
            IReadOnlyList<FailedCard> failures, decimal lowBalanceThreshold, string? currencyWarning)
        {
            Title = title;
            GeneratedAt = generatedAt;
            Summary = summary;
            Cards = cards;
            Failures = failures;
            LowBalanceThreshold = lowBalanceThreshold;
            CurrencyWarning = currencyWarning;
        }

        public string Title { get; }
        public DateTimeOffset GeneratedAt { get; }
        public BalanceSummary Summary { get; }
        public IReadOnlyList<CardBalance> Cards { get; }
        public IReadOnlyList<FailedCard> Failures { get; }
        public decimal LowBalanceThreshold { get; }
        public string? CurrencyWarning { get; }
    }
}
