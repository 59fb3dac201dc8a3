using System.Management.Automation;
using Ahrvo.PowerShell.Parameters;
using Ahrvo.PowerShell.Tests.Support;
using Xunit;
using static Ahrvo.PowerShell.Tests.Support.Hosted;

namespace Ahrvo.PowerShell.Tests.Parameters;

/// <summary>
/// -RecheckAfter of Compare-AhrvoCardBalance: a TimeSpan from 0 to 10 minutes; a bare number is
/// refused, because [TimeSpan]5 is 5 ticks and guessing seconds would be a guess.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class RecheckAfterValidationTests(EmulatorFixture fx)
{
    public static TheoryData<string> BareNumbers() => new()
    {
        "5", "0", "600", "([long]10)", "1.5", "([decimal]'2.5')", "([byte]1)", "([double]0.25)", "'5'", "' 10 '", "'1e2'", "-1",
    };

    [Theory]
    [MemberData(nameof(BareNumbers))]
    public void A_bare_number_is_refused_with_a_message_that_says_why(string literal)
    {
        // No connection: binding fails before the command reads anything.
        var r = PowerShellHost.Run(Try($"Compare-AhrvoCardBalance -CardId {EmulatorFixture.Sample} -ExpectedBalance 1 -RecheckAfter {literal}"));
        var error = TerminatingRecord(r);
        Assert.StartsWith("ParameterArgumentTransformationError", error.FullyQualifiedErrorId);
        Assert.Contains("ticks", error.Exception.Message);
        Assert.Contains("New-TimeSpan", error.Exception.Message);
    }

    public static TheoryData<string> OutOfRange() => new()
    {
        "([timespan]::FromTicks(-1))", "(New-TimeSpan -Seconds -5)", "([timespan]::FromMinutes(10) + [timespan]::FromTicks(1))",
        "(New-TimeSpan -Minutes 11)", "'00:10:00.001'", "'01:00:00'", "([timespan]::FromDays(1))", "([timespan]::MaxValue)", "([timespan]::MinValue)",
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void A_time_below_zero_or_above_ten_minutes_is_refused(string literal)
    {
        var r = PowerShellHost.Run(Try($"Compare-AhrvoCardBalance -CardId {EmulatorFixture.Sample} -ExpectedBalance 1 -RecheckAfter {literal}"));
        var error = TerminatingRecord(r);
        Assert.StartsWith("ParameterArgumentValidationError", error.FullyQualifiedErrorId);
        Assert.Contains("not between 00:00:00 and 00:10:00", error.Exception.Message);
    }

    [Fact]
    public async Task Times_from_zero_to_ten_minutes_are_taken()
    {
        await fx.FreshAsync();
        // A matched card: nothing to recheck, so no wait whatever the delay.
        var r = PowerShellHost.Run(PowerShellHost.ConnectLine + $$"""
            foreach ($t in [timespan]::Zero, [timespan]::FromTicks(1), '00:00:10', (New-TimeSpan -Seconds 90), [timespan]::FromMinutes(10)) {
                Compare-AhrvoCardBalance -CardId {{EmulatorFixture.Sample}} -ExpectedBalance 1468.87 -RecheckAfter $t
            }
            """, fx.Variables());
        NoTerminating(r);
        Assert.Empty(r.Errors);
        Assert.Equal(5, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal(ReconciliationStatus.Matched, Prop<ReconciliationStatus>(o, "Status")));
    }

    [Fact]
    public void The_attributes_alone()
    {
        var refuse = new RefuseBareNumberAttribute();
        var ts = TimeSpan.FromSeconds(10);
        Assert.Equal(ts, refuse.Transform(null!, ts));
        Assert.Equal("00:00:10", refuse.Transform(null!, "00:00:10"));
        Assert.Null(refuse.Transform(null!, null));
        Assert.Throws<ArgumentTransformationMetadataException>(() => refuse.Transform(null!, 5));
        Assert.Throws<ArgumentTransformationMetadataException>(() => refuse.Transform(null!, PSObject.AsPSObject(5)));

        var range = new ValidateTimeSpanRangeAttribute("00:00:00", "00:10:00");
        Assert.Equal(TimeSpan.Zero, range.Minimum);
        Assert.Equal(TimeSpan.FromMinutes(10), range.Maximum);
    }
}
