using System;

namespace Ahrvo.Client.Parsing
{
    /// <summary>The parts of a response body the module uses.</summary>
    internal sealed class ParsedBody
    {
        public string? Code { get; set; }
        public string? Message { get; set; }
        public bool HasData { get; set; }
        public string? CardNumber { get; set; }
        public string? AvailableBalanceText { get; set; }
        public bool BalanceIsNull { get; set; }
        public string? Currency { get; set; }
    }
}
