using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace Ahrvo.Emulator;

/// <summary>What a balance request ended as, for the stats record.</summary>
public sealed class BalanceOutcome
{
    public string? Fault { get; set; }
    public bool Aborted { get; set; }
}
