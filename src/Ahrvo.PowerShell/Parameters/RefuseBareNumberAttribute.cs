using System;
using System.Globalization;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Parameters
{
    /// <summary>
    /// Refuses a bare number for a TimeSpan parameter, where a unit must be said: PowerShell reads
    /// [TimeSpan]5 as 5 ticks (half a microsecond), and reading it as seconds instead (as
    /// <see cref="SecondsTransformationAttribute"/> does for -Interval) would be a guess. TimeSpans
    /// and "hh:mm:ss" text pass through.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class RefuseBareNumberAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject ps ? ps.BaseObject : inputData;
            if (IsBareNumber(value))
            {
                var text = Convert.ToString(value, CultureInfo.InvariantCulture);
                throw new ArgumentTransformationMetadataException(
                    "The bare number " + text + " is not a time span: PowerShell would read it as " + text + " ticks (100 ns each), not seconds or minutes. "
                    + "Give a TimeSpan with its unit, such as (New-TimeSpan -Seconds " + text + ") or '00:00:10'.");
            }
            return inputData;
        }

        internal static bool IsBareNumber(object? value)
        {
            switch (value)
            {
                case byte _: case sbyte _: case short _: case ushort _: case int _: case uint _:
                case long _: case ulong _: case float _: case double _: case decimal _:
                    return true;
                // "5" would become 5 days (TimeSpan.Parse): just as unlikely to be meant.
                case string s:
                    return double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _);
                default:
                    return false;
            }
        }
    }
}
