using System;
using System.Globalization;
using System.Management.Automation;

namespace Ahrvo.PowerShell.Parameters
{
    /// <summary>
    /// A bare number given for a TimeSpan means seconds: PowerShell would otherwise read
    /// -Interval 30 as 30 ticks (3 microseconds). TimeSpans and "hh:mm:ss" text pass through.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class SecondsTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject ps ? ps.BaseObject : inputData;
            switch (value)
            {
                case int i: return TimeSpan.FromSeconds(i);
                case long l: return TimeSpan.FromSeconds(l);
                case double d when !double.IsNaN(d) && !double.IsInfinity(d): return TimeSpan.FromSeconds(d);
                case decimal m: return TimeSpan.FromSeconds((double)m);
                case string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var secs):
                    return TimeSpan.FromSeconds(secs);
                default: return inputData;
            }
        }
    }
}
