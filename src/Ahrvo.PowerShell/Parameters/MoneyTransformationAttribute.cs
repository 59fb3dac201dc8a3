using System;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.Client.Parsing;

namespace Ahrvo.PowerShell.Parameters
{
    /// <summary>
    /// Money from text (a CSV ledger) is parsed culture-invariantly and strictly, as balances from the
    /// API are: PowerShell's own conversion takes "1,5" as 15, which would turn a de-DE ledger's 1.50
    /// into a silent discrepancy. Numbers pass through (PowerShell converts them to decimal), within
    /// the same range as every amount (MoneyParser.MaxMagnitude).
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class MoneyTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject ps ? ps.BaseObject : inputData;
            switch (value)
            {
                case string s:
                    if (MoneyParser.TryParse(s, out var parsed, out var reason)) return parsed;
                    throw new ArgumentTransformationMetadataException(
                        "Cannot use '" + s + "' as an amount: " + reason + ". Write amounts as plain numbers with '.' as the decimal point, e.g. 1468.87.");
                case double d when double.IsNaN(d) || double.IsInfinity(d):
                    throw new ArgumentTransformationMetadataException("Cannot use " + d.ToString(CultureInfo.InvariantCulture) + " as an amount.");
                case float f when float.IsNaN(f) || float.IsInfinity(f):
                    throw new ArgumentTransformationMetadataException("Cannot use " + f.ToString(CultureInfo.InvariantCulture) + " as an amount.");
                case double _:
                case float _:
                case decimal _:
                case int _:
                case long _:
                    // The same range as every other amount, so sums and differences cannot overflow.
                    decimal number;
                    try { number = Convert.ToDecimal(value, CultureInfo.InvariantCulture); }
                    catch (OverflowException) { number = decimal.MaxValue; }
                    var problem = MoneyParser.CheckRange(number);
                    if (problem != null) throw new ArgumentTransformationMetadataException("Cannot use that amount: " + problem + ".");
                    return inputData;
                default:
                    return inputData;
            }
        }
    }
}
