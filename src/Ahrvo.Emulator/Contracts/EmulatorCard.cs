// Shared contract: also compiled into tests/TestSupport (linked source), so keep it free of ASP.NET types.
using System.Text.Json.Serialization;

namespace Ahrvo.Emulator;

/// <summary>A card as the emulator stores it. JSON names match the card files and /_emulator/cards.</summary>
/// <param name="Id">The card_id clients query with.</param>
/// <param name="CardNumber">Masked number returned verbatim, e.g. 5157********2686.</param>
/// <param name="AvailableBalance">Returned verbatim as a JSON string (may be null or odd, e.g. "1,234.50" or "NaN").</param>
/// <param name="Type">"Dedicated" or "Shared"; Shared cards are answered with 400 NOT_DEDICATED_FUNDS_CARD.</param>
/// <param name="Currency">Informational only; the balance response does not carry it.</param>
public sealed record EmulatorCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("card_number")] string? CardNumber,
    [property: JsonPropertyName("available_balance")] string? AvailableBalance,
    [property: JsonPropertyName("type")] string Type = EmulatorCard.Dedicated,
    [property: JsonPropertyName("currency")] string? Currency = null)
{
    public const string Dedicated = "Dedicated";
    public const string Shared = "Shared";

    [JsonIgnore]
    public bool IsShared => string.Equals(Type, Shared, StringComparison.OrdinalIgnoreCase);
}
