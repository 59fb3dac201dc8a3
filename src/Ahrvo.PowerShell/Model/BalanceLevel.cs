using System;

namespace Ahrvo.PowerShell
{
    /// <summary>
    /// How low a balance is, as Watch-AhrvoCardBalance grades it. Ordered by severity, so
    /// <c>$alert.Level -ge 'Warning'</c> works in PowerShell.
    /// </summary>
    public enum BalanceLevel
    {
        Normal = 0,
        Low = 1,
        Warning = 2,
        Critical = 3,
    }
}
