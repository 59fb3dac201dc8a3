extern alias emu;
using emu::Ahrvo.Emulator;
using Xunit;

namespace Ahrvo.Emulator.Tests;

public class EmulatorOptionsTests
{
    public static TheoryData<string> OptionNames() => new(EmulatorOptions.OptionNames);

    // OptionNames is the parser's own table, so an option added without help fails here (and in
    // tests/pester/EmulatorTool.Tests.ps1, which reads the installed tool's --help).
    [Theory]
    [MemberData(nameof(OptionNames))]
    public void Help_names_every_option_the_parser_accepts(string name)
    {
        Assert.Matches($@"(^|[\s,]){System.Text.RegularExpressions.Regex.Escape(name)}([\s,=]|$)", EmulatorOptions.Usage);
    }

    [Fact]
    public void Every_listed_name_parses_and_an_unlisted_one_is_refused()
    {
        Assert.Contains("--rate-limit-retry-after", EmulatorOptions.OptionNames);
        Assert.True(EmulatorOptions.Parse(["-h"]).ShowHelp);
        Assert.Equal(5123, EmulatorOptions.Parse(["--PORT=5123"]).Port);
        Assert.True(EmulatorOptions.Parse(["--issuance-disabled"]).IssuanceDisabled);
        Assert.False(EmulatorOptions.Parse(["--issuance-disabled=false"]).IssuanceDisabled);
        var ex = Assert.Throws<ArgumentException>(() => EmulatorOptions.Parse(["--nope"]));
        Assert.Contains("--help", ex.Message);
        Assert.Throws<ArgumentException>(() => EmulatorOptions.Parse(["--port"]));
    }

    [Fact]
    public void Startup_text_has_a_Connect_line_with_the_credentials_quoted_for_PowerShell()
    {
        var options = EmulatorOptions.Parse(["--api-key", "it's", "--access-token", "t"]);
        string text = StartupText.ConnectHelp("http://127.0.0.1:5123", options, "card1");
        Assert.Contains(
            "Connect-Ahrvo -BaseUri http://127.0.0.1:5123 -ApiKey (ConvertTo-SecureString 'it''s' -AsPlainText -Force) -AccessToken (ConvertTo-SecureString 't' -AsPlainText -Force)",
            text);
        Assert.Contains("Get-AhrvoCardBalance card1", text);
        Assert.DoesNotContain(EmulatorDefaults.ReadyLinePrefix, text);
        // The module is not in any gallery: the banner says how to load it from a clone (issue 22).
        Assert.DoesNotContain("Install-PSResource", text);
        Assert.Contains("Import-Module ./out/Ahrvo.PowerShell/" + StartupText.ModuleVersion + "/Ahrvo.PowerShell.psd1", text);
        Assert.Matches(@"^\d+\.\d+\.\d+$", StartupText.ModuleVersion);
    }
}
