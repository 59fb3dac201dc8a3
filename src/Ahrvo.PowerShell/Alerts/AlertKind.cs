using System;

namespace Ahrvo.PowerShell.Alerts
{
    /// <summary>What one card's reading is worth.</summary>
    internal enum AlertKind
    {
        /// <summary>Nothing to say: same level as before (or Normal on first sight), or an older reading.</summary>
        None,
        /// <summary>First seen below Normal, or the level changed.</summary>
        Change,
        /// <summary>Still below Normal, and -RepeatAfter has passed since the last alert.</summary>
        Repeat,
    }
}
