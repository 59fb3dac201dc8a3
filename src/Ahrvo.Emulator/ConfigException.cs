namespace Ahrvo.Emulator;

public sealed class ConfigException(string message) : Exception(message);
