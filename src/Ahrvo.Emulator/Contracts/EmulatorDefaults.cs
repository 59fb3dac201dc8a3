namespace Ahrvo.Emulator;

/// <summary>Defaults shared by the emulator and the test harnesses, so both sides agree without configuration.</summary>
public static class EmulatorDefaults
{
    public const string ApiKey = "emulator-api-key";
    public const string AccessToken = "emulator-access-token";
    public const string BalancePath = "/card/issuance/api/issuing/card/v2/normal/balance";
    public const string ReadyLinePrefix = "AHRVO_EMULATOR_URL=";
}
