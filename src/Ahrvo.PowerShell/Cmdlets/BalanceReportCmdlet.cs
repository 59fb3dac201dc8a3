using System;
using System.Linq;
using System.Management.Automation;
using Ahrvo.PowerShell.Completion;
using Ahrvo.Client;
using Ahrvo.Client.Bulk;
using Ahrvo.PowerShell.Errors;
using Ahrvo.PowerShell.Reports;
using Ahrvo.PowerShell.Parameters;

namespace Ahrvo.PowerShell.Cmdlets
{
    /// <summary>
    /// Input shared by the report cmdlets: CardBalance objects from the pipeline (no second query;
    /// also their error records, with 2>&amp;1, which count as failed cards), or -CardId to read the
    /// cards through the bulk path. Everything lands in <see cref="Statistics"/>.
    /// </summary>
    public abstract class BalanceReportCmdlet : CardBatchCmdlet
    {
        protected const string InputObjectSet = "InputObject";
        protected const string CardIdSet = "CardId";
        private const string DeserializedCardBalance = "Deserialized.Ahrvo.PowerShell.CardBalance";

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
        [AllowNull]
        [AllowEmptyCollection]
        public PSObject?[] InputObject { get; set; } = Array.Empty<PSObject?>();

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = CardIdSet)]
        [Alias("card_id", "Id")]
        [ArgumentCompleter(typeof(CardIdCompleter))]
        [ValidateCardId]
        public object[] CardId { get; set; } = Array.Empty<object>();

        [Parameter(ParameterSetName = CardIdSet)]
        [ValidateNotNullOrEmpty]
        public string? CardIdProperty { get; set; }

        private protected BalanceStatistics Statistics { get; private set; } = new BalanceStatistics();

        /// <summary>Whether the cards themselves are kept (for a per-card report) or only counted.</summary>
        protected virtual bool KeepCards => false;

        /// <summary>Whether Compare-AhrvoCardBalance's results are input too (the HTML report shows them apart).</summary>
        protected virtual bool TakesReconciliations => false;

        /// <summary>False when the command will not do its work (declined by -WhatIf or -Confirm).</summary>
        protected virtual bool Active => true;

        /// <summary>Whether mixed currencies deserve a warning (they do where amounts are added up).</summary>
        protected virtual bool WarnsAboutMixedCurrencies => true;

        protected override bool QueriesCards => Active && ParameterSetName == CardIdSet;

        protected override void BeginProcessing()
        {
            Statistics = new BalanceStatistics(KeepCards);
            base.BeginProcessing();
            if (QueriesCards) SetExpectedTotal(CardId.Length);
        }

        protected override void ProcessRecord()
        {
            if (!Active) return;
            if (ParameterSetName == CardIdSet)
            {
                // Refused inputs count as failed, never as nothing: they were meant to be cards.
                foreach (var id in CardListCmdlet.CardIdsOf(this, CardId, CardIdProperty, (_, refusal) => Statistics.AddRefused(refusal.Exception.Message)))
                    Enqueue(id);
                return;
            }
            if (InputObject == null) return;
            foreach (var input in InputObject) Take(input);
        }

        private void Take(PSObject? input)
        {
            var value = input?.BaseObject;
            switch (value)
            {
                case null:
                    return;
                case CardBalance card:
                    Statistics.Add(card);
                    return;
                case BalanceReconciliation reconciliation when TakesReconciliations:
                    Statistics.Add(reconciliation);
                    return;
                case ErrorRecord error when AsFailedCard(error) is string failedId:
                    // Already shown upstream or merged by 2>&1 on purpose: counted, not written again.
                    Statistics.AddFailure(failedId, error.Exception?.Message ?? error.ToString());
                    WriteVerbose("Card " + failedId + " could not be read upstream; counted as failed.");
                    return;
            }
            if (input!.TypeNames.Contains(DeserializedCardBalance) && FromDeserialized(input) is CardBalance restored)
            {
                Statistics.Add(restored);
                return;
            }
            var what = value is string s ? "the string '" + s + "'" : "a " + (input.TypeNames.FirstOrDefault() ?? value.GetType().FullName);
            var message = MyInvocation.MyCommand.Name + " takes the CardBalance objects that Get-AhrvoCardBalance emits"
                + (TakesReconciliations ? " or the results of Compare-AhrvoCardBalance" : "") + ", not " + what +
                ". To read cards by id, use -CardId, or pipe the ids to Get-AhrvoCardBalance first.";
            // Counted as failed, never as nothing: an input that was meant as a card and is not read must not look like no card.
            Statistics.AddRefused(message);
            WriteError(new ErrorRecord(new ArgumentException(message), "Ahrvo.UnsupportedInput", ErrorCategory.InvalidType, value));
        }

        private static string? AsFailedCard(ErrorRecord error)
        {
            if (error.Exception is AhrvoException ax && !string.IsNullOrEmpty(ax.CardId)) return ax.CardId;
            // Ahrvo.Cancelled: a card the command stopped before reading.
            if (error.FullyQualifiedErrorId != null && error.FullyQualifiedErrorId.StartsWith("Ahrvo.", StringComparison.Ordinal)
                && error.TargetObject is string id && !string.IsNullOrEmpty(id)) return id;
            return null;
        }

        private static CardBalance? FromDeserialized(PSObject o)
        {
            var id = o.Properties["CardId"]?.Value?.ToString();
            var balance = o.Properties["AvailableBalance"]?.Value;
            if (string.IsNullOrEmpty(id) || balance == null) return null;
            decimal amount;
            try
            {
                amount = LanguagePrimitives.ConvertTo<decimal>(balance);
            }
            catch (PSInvalidCastException)
            {
                return null;
            }
            return new CardBalance(id!, o.Properties["CardNumber"]?.Value?.ToString(), amount,
                o.Properties["Currency"]?.Value?.ToString() ?? "USD", DeserializedTime(o.Properties["RetrievedAt"]?.Value));
        }

        // CliXml keeps a DateTimeOffset only as a property bag (DateTime, UtcDateTime, Offset, ...).
        private static DateTimeOffset DeserializedTime(object? value)
        {
            var v = value is PSObject ps ? ps.BaseObject : value;
            if (v is DateTimeOffset dto) return dto;
            if (v is DateTime dt) return new DateTimeOffset(dt.ToUniversalTime(), TimeSpan.Zero);
            if (value is PSObject bag && bag.Properties["UtcDateTime"]?.Value is DateTime utc)
                return new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc), TimeSpan.Zero);
            return DateTimeOffset.MinValue;
        }

        protected override void OnBalance(BulkItem item, BalanceResult result) =>
            Statistics.Add(new CardBalance(result.CardId, result.CardNumber, result.AvailableBalance, result.Currency, result.RetrievedAt));

        protected override void OnFailure(BulkItem item, BalanceResult result)
        {
            base.OnFailure(item, result);
            // Worded as when the error record is piped in (2>&1): the same reason either way.
            Statistics.AddFailure(item.CardId, ErrorRecords.Describe(result.Error!));
        }

        /// <summary>Drains the queries, closes progress, and warns about mixed currencies.</summary>
        protected override void EndProcessing()
        {
            base.EndProcessing();
            if (Active && WarnsAboutMixedCurrencies && Statistics.CurrencyWarning() is string warning) WriteWarning(warning);
        }
    }
}
