using System.Management.Automation;
using System.Security;
using Ahrvo.Client;
using Ahrvo.Client.Auth;
using Ahrvo.PowerShell.Errors;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.PowerShell.Tests.Errors;

/// <summary>
/// The module's side of an error: every kind the client has gets an ErrorId, a category and a
/// remedy in PowerShell's terms, from the error's facts (the wording is the client's one table,
/// Remedies; the names are Connect-Ahrvo's). The client's own terms (AhrvoClientOptions' property
/// names) never reach the user.
/// </summary>
public sealed class ErrorRecordsTests(ITestOutputHelper log)
{
    private static AhrvoError Error(AhrvoErrorKind kind, int? status = null, Exception? exception = null, AhrvoLimit limit = AhrvoLimit.None,
        bool throttled = false, TimeSpan? retryAfter = null) =>
        new(kind, $"Card 'card1' failed as {kind}.", status, apiCode: status == null ? null : "CODE", apiMessage: null, exception: exception)
        {
            CardId = "card1",
            Attempts = 2,
            LimitReached = limit,
            Throttled = throttled,
            RetryAfter = retryAfter,
        };

    // The README's table; UnexpectedStatus is a protocol error.
    public static TheoryData<AhrvoErrorKind, ErrorCategory> Categories() => new()
    {
        { AhrvoErrorKind.CardNotFound, ErrorCategory.ObjectNotFound },
        { AhrvoErrorKind.InvalidCard, ErrorCategory.InvalidArgument },
        { AhrvoErrorKind.Unauthorized, ErrorCategory.AuthenticationError },
        { AhrvoErrorKind.Forbidden, ErrorCategory.PermissionDenied },
        { AhrvoErrorKind.ApiError, ErrorCategory.InvalidResult },
        { AhrvoErrorKind.InvalidResponse, ErrorCategory.InvalidData },
        { AhrvoErrorKind.ServiceUnavailable, ErrorCategory.ConnectionError },
        { AhrvoErrorKind.Timeout, ErrorCategory.OperationTimeout },
        { AhrvoErrorKind.CircuitOpen, ErrorCategory.ResourceUnavailable },
        { AhrvoErrorKind.Redirect, ErrorCategory.SecurityError },
        { AhrvoErrorKind.UnexpectedStatus, ErrorCategory.ProtocolError },
        { AhrvoErrorKind.TlsFailure, ErrorCategory.SecurityError },
        { AhrvoErrorKind.AuditLogFailed, ErrorCategory.WriteError },
        { AhrvoErrorKind.ClientFailure, ErrorCategory.InvalidOperation },
        { AhrvoErrorKind.MayHaveBeenApplied, ErrorCategory.InvalidResult },
    };

    [Fact]
    public void The_category_table_lists_every_kind()
    {
        Assert.Equal(Enum.GetValues<AhrvoErrorKind>().OrderBy(k => k), Categories().Select(row => (AhrvoErrorKind)row[0]).OrderBy(k => k));
    }

    [Theory]
    [MemberData(nameof(Categories))]
    public void Every_kind_becomes_a_record_with_its_ErrorId_category_and_a_remedy_worded_by_the_module(AhrvoErrorKind kind, ErrorCategory category)
    {
        var error = Error(kind, status: 500);
        var record = ErrorRecords.ForCard("card1", error);
        log.WriteLine($"{kind}: {record.ErrorDetails?.RecommendedAction}");
        Assert.Equal("Ahrvo." + kind, record.FullyQualifiedErrorId);
        Assert.Equal(category, record.CategoryInfo.Category);
        Assert.Equal("card1", record.TargetObject);
        var action = record.ErrorDetails?.RecommendedAction;
        Assert.False(string.IsNullOrWhiteSpace(action));
        Assert.Equal(Ahrvo.Client.Remedies.For(error, ErrorRecords.Terms), action); // the one table's wording
        Assert.DoesNotContain("TotalTimeout", action); // never the client's terms
        Assert.DoesNotContain("AccessTokenProvider", action);
        // The console shows the facts and then "Recommendation:"; $_.Exception.Message has both.
        Assert.Equal(error.Message, record.ErrorDetails!.Message);
        var exception = Assert.IsType<AhrvoException>(record.Exception);
        Assert.Equal(error.Message + " " + action, exception.Message);
        Assert.Equal(kind, exception.Kind);
        Assert.Equal("card1", exception.CardId);
        Assert.Equal(500, exception.HttpStatus);
        Assert.Equal("CODE", exception.ApiCode);
    }

    public static TheoryData<string, AhrvoError, string[], string[]> Remedies() => new()
    {
        // The remedy for throttling is the card's time and fewer cards at once, never more retries.
        { "throttled", Error(AhrvoErrorKind.ServiceUnavailable, 429, limit: AhrvoLimit.TotalTimeout, throttled: true, retryAfter: TimeSpan.FromSeconds(60)),
            ["-TimeoutSec", "-ThrottleLimit", "Connect-Ahrvo", "60 s"], ["-MaxRetries"] },
        { "5xx until the retries ran out", Error(AhrvoErrorKind.ServiceUnavailable, 503, limit: AhrvoLimit.MaxRetries),
            ["-MaxRetries", "Connect-Ahrvo"], ["-TimeoutSec", "-ThrottleLimit"] },
        { "5xx until the budget ran out", Error(AhrvoErrorKind.ServiceUnavailable, 503, limit: AhrvoLimit.TotalTimeout),
            ["-TimeoutSec"], ["-MaxRetries"] },
        { "a network error", Error(AhrvoErrorKind.ServiceUnavailable, exception: new HttpRequestException("refused"), limit: AhrvoLimit.MaxRetries),
            ["-Proxy", "-BaseUri"], [] },
        // A typo'd host: the address, DNS and network are this machine's to check, not the API.
        { "a host name that does not resolve", Error(AhrvoErrorKind.ServiceUnavailable,
                exception: new HttpRequestException("Name or service not known (api.example.test:443)", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound))),
            ["-BaseUri on Connect-Ahrvo", "DNS", "-Proxy"], ["-MaxRetries", "-TimeoutSec"] },
        { "the attempt timeout", Error(AhrvoErrorKind.Timeout, limit: AhrvoLimit.AttemptTimeout),
            ["-AttemptTimeoutSec", "Connect-Ahrvo"], ["-TimeoutSec"] },
        { "the card's budget", Error(AhrvoErrorKind.Timeout, limit: AhrvoLimit.TotalTimeout),
            ["-TimeoutSec", "Connect-Ahrvo"], ["-AttemptTimeoutSec"] },
        { "refused credentials", Error(AhrvoErrorKind.Unauthorized, 401),
            ["Connect-Ahrvo", "AHRVO_ACCESS_TOKEN", "AHRVO_API_KEY"], ["-TokenProvider"] },
        { "a failed token provider", Error(AhrvoErrorKind.Unauthorized, 401, exception: new TokenProviderException("The script failed.")),
            ["Connect-Ahrvo -TokenProvider", "-AccessToken"], [] },
        { "an outage", Error(AhrvoErrorKind.CircuitOpen, limit: AhrvoLimit.TotalTimeout), ["-TimeoutSec", "run the command again"], [] },
        { "a redirect", Error(AhrvoErrorKind.Redirect, 302), ["-BaseUri", "final address"], [] },
        { "an unexpected status", Error(AhrvoErrorKind.UnexpectedStatus, 418), ["-BaseUri"], [] },
        { "an unreadable answer", Error(AhrvoErrorKind.InvalidResponse, 200), ["-BaseUri", "wrong service"], [] },
        { "an untrusted certificate", Error(AhrvoErrorKind.TlsFailure), ["-BaseUri", "never turned off"], [] },
        { "the audit log", Error(AhrvoErrorKind.AuditLogFailed), ["-AuditLogPath", "Connect-Ahrvo"], [] },
        { "a Shared Funds card", Error(AhrvoErrorKind.InvalidCard, 400), ["Shared Funds"], [] },
        { "an id refused before sending", Error(AhrvoErrorKind.InvalidCard), ["as issued"], ["Shared Funds"] },
        { "an unknown card", Error(AhrvoErrorKind.CardNotFound, 404), ["Verify the card id"], [] },
        { "issuance disabled", Error(AhrvoErrorKind.Forbidden, 403), ["account manager"], [] },
    };

    [Theory]
    [MemberData(nameof(Remedies))]
    public void The_remedy_names_the_parameter_that_helps_from_the_errors_facts(string why, AhrvoError error, string[] names, string[] notNamed)
    {
        var action = ErrorRecords.ForCard("card1", error).ErrorDetails!.RecommendedAction;
        log.WriteLine($"{why}: {action}");
        foreach (var name in names) Assert.Contains(name, action);
        foreach (var name in notNamed) Assert.DoesNotContain(name, action);
    }

    [Theory]
    // The emulator's (and the vendor's likely) words for each 400 case, and answers that name neither.
    [InlineData("INVALID_CARD_ID", "card_id is missing or invalid.", "invalid")]
    [InlineData(null, "card_id is missing or invalid", "invalid")]
    [InlineData("BAD_REQUEST", "Invalid card_id", "invalid")]
    [InlineData("INVALID_PARAMETER", null, "invalid")]
    [InlineData("NOT_DEDICATED_FUNDS_CARD", "This endpoint only works for Dedicated Funds Cards; query the budget account balance for Shared Funds Cards.", "shared")]
    [InlineData("WRONG_CARD_TYPE", null, "shared")]
    [InlineData(null, "Card is a Shared Funds card", "shared")]
    [InlineData("invalid_card_type", "invalid card type", "shared")]
    [InlineData(null, null, "both")]
    [InlineData("BAD_REQUEST", "Bad request", "both")]
    public void A_400_remedy_names_the_case_the_API_named_and_both_only_when_it_named_none(string? code, string? message, string expected)
    {
        var error = new AhrvoError(AhrvoErrorKind.InvalidCard, "Card 'card1' was refused (HTTP 400).", 400, code, message) { CardId = "card1" };
        var action = ErrorRecords.ForCard("card1", error).ErrorDetails!.RecommendedAction;
        log.WriteLine($"{code}/{message}: {action}");
        bool namesShared = action.Contains("Shared Funds"), namesId = action.Contains("Check the card id");
        switch (expected)
        {
            case "invalid": Assert.True(namesId && !namesShared, action); break;
            case "shared": Assert.True(namesShared && !namesId, action); break;
            default: Assert.True(namesShared && namesId, action); break;
        }
    }

    [Fact]
    public void No_remedy_is_worded_outside_the_one_table()
    {
        // Issue 18: ResponseInterpreter wrote remedies that this class rewrote, and BulkBalanceRun
        // had a ClientFailure text of its own. Every sentence the table makes, in either host's
        // terms and for any facts, is found in no source file but Remedies.cs.
        var sentences = new HashSet<string>(StringComparer.Ordinal);
        var causes = new Exception?[] { null, new TokenProviderException("failed"), new TokenProviderException("hung", didNotAnswer: true) };
        foreach (var kind in Enum.GetValues<AhrvoErrorKind>())
            foreach (var status in new int?[] { null, 400, 429, 503 })
                foreach (var limit in Enum.GetValues<AhrvoLimit>())
                    foreach (var throttled in new[] { false, true })
                        foreach (var cause in causes)
                            foreach (var terms in new[] { RemedyTerms.Client, ErrorRecords.Terms })
                            {
                                var e = new AhrvoError(kind, "m", status, exception: cause) { LimitReached = limit, Throttled = throttled };
                                foreach (var sentence in Ahrvo.Client.Remedies.For(e, terms).Split(new[] { ". ", ": ", "; " }, StringSplitOptions.RemoveEmptyEntries))
                                    if (sentence.Length >= 25) sentences.Add(sentence.TrimEnd('.'));
                            }
        Assert.True(sentences.Count > 30, $"{sentences.Count} sentences");
        var src = Path.Combine(Ahrvo.PowerShell.Tests.Support.PwshProcess.RepoRoot, "src");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar) && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar))
            .Where(f => Path.GetFileName(f) != "Remedies.cs")
            .ToList();
        Assert.Contains(files, f => f.EndsWith("ResponseInterpreter.cs"));
        var found = (from f in files let text = File.ReadAllText(f) from sentence in sentences where text.Contains(sentence, StringComparison.Ordinal)
                     select Path.GetRelativePath(src, f) + ": " + sentence).ToList();
        Assert.True(found.Count == 0, "Remedies worded outside src/Ahrvo.Client/Remedies.cs:\n" + string.Join("\n", found));
    }

    private static SecureString Secure(string s)
    {
        var ss = new SecureString();
        foreach (var c in s) ss.AppendChar(c);
        ss.MakeReadOnly();
        return ss;
    }

    [Fact]
    public void A_proxy_with_credentials_in_its_address_is_refused_naming_ProxyCredential_and_never_the_password()
    {
        var options = new AhrvoClientOptions(new Uri("https://api.example.test/"), Secure("key-1234"), Secure("token-5678"))
        {
            Proxy = new Uri("http://user:hunter2-secret@proxy.example.test:3128/"),
        };
        var refused = Assert.Throws<ArgumentException>(options.Validate);
        var record = ErrorRecords.InvalidConnection(refused, options);
        Assert.Equal("Ahrvo.InvalidConnection", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, record.CategoryInfo.Category);
        Assert.Contains("-ProxyCredential", record.Exception.Message);
        Assert.Contains("-ProxyCredential", record.ErrorDetails.RecommendedAction);
        Assert.DoesNotContain("hunter2", record.Exception.Message + record.ErrorDetails.Message + record.ErrorDetails.RecommendedAction);
        Assert.Same(refused, record.Exception.InnerException);
    }

    [Fact]
    public void Other_refused_settings_keep_the_clients_words()
    {
        var options = new AhrvoClientOptions(new Uri("http://api.example.test/"), Secure("key-1234"), Secure("token-5678"));
        var refused = Assert.Throws<ArgumentException>(options.Validate);
        var record = ErrorRecords.InvalidConnection(refused, options);
        Assert.Same(refused, record.Exception);
        Assert.Contains("Plain http is refused", record.Exception.Message);
        Assert.Equal(options.BaseUri, record.TargetObject);
    }
}
