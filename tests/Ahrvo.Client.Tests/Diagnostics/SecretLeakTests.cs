using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ahrvo.Client.Diagnostics;
using Ahrvo.Client.Parsing;
using Ahrvo.Client.Tests.Support;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace Ahrvo.Client.Tests.Diagnostics;

/// <summary>
/// A server that echoes the API key or token, escaped its own way (PHP's <c>\/</c>, <c>\u002B</c>,
/// URL-encoding, HTML references), never gets it shown: not in -Debug's body preview, whatever
/// the body's size and wherever the 512-character cut falls, and not in any message. The secrets
/// here are base64-like (40+ characters with '/', '+' and '='), the kind short hex test secrets
/// could not catch.
/// </summary>
public sealed class SecretLeakTests(ITestOutputHelper log)
{
    private const int Cut = 512;
    // Never part of a secret or of any escape: whatever the filler, it cannot make or hide a match.
    // (No space: the mixed-form sweep's secrets may hold spaces, and a secret with four in a row
    // matched four spaces of filler, seed "43k0YLECVxN1".)
    private const string Filler = ".-_~!,;";

    /// <summary>How a server may write one character of a secret.</summary>
    public enum Form { Plain, PhpJson, JsonUnicode, JsonUnicodeUpper, SystemTextJson, UrlUpper, UrlLower, FormUrl, HtmlDecimal, HtmlHex, Mixed }

    private static readonly Form[] Pure = Enum.GetValues<Form>().Where(f => f != Form.Mixed).ToArray();

    /// <summary>The secret written in <paramref name="form"/>, one piece per character (pairs kept together), so prefixes can be named.</summary>
    public static string[] Encode(string secret, Form form, Random? rng = null)
    {
        var pieces = new List<string>();
        for (int i = 0; i < secret.Length; i += char.IsSurrogatePair(secret, i) ? 2 : 1)
        {
            var ch = char.IsSurrogatePair(secret, i) ? secret.Substring(i, 2) : secret[i].ToString();
            var f = form == Form.Mixed ? Pure[rng!.Next(Pure.Length)] : form;
            pieces.Add(EncodeChar(ch, f));
        }
        return pieces.ToArray();
    }

    private static string EncodeChar(string ch, Form f)
    {
        string Units(string fmt) => string.Concat(ch.Select(u => "\\u" + ((int)u).ToString(fmt, CultureInfo.InvariantCulture)));
        string Url(bool upper, bool plusForSpace) => ch == " " && plusForSpace ? "+"
            : string.Concat(Encoding.UTF8.GetBytes(ch).Select(b => "%" + b.ToString(upper ? "X2" : "x2", CultureInfo.InvariantCulture)));
        return f switch
        {
            Form.Plain => ch,
            Form.PhpJson => ch == "/" ? "\\/" : ch == "\"" ? "\\\"" : ch == "\\" ? "\\\\" : ch,
            Form.JsonUnicode => Units("x4"),
            Form.JsonUnicodeUpper => Units("X4"),
            Form.SystemTextJson => ch is "+" or "<" or ">" or "&" or "'" or "\"" || ch[0] > 127 ? Units("X4") : ch,
            Form.UrlUpper => Url(true, false),
            Form.UrlLower => Url(false, false),
            Form.FormUrl => ch == " " ? "+" : char.IsAsciiLetterOrDigit(ch[0]) ? ch : Url(false, true),
            Form.HtmlDecimal => "&#" + char.ConvertToUtf32(ch, 0).ToString(CultureInfo.InvariantCulture) + ";",
            Form.HtmlHex => "&#x" + char.ConvertToUtf32(ch, 0).ToString("X", CultureInfo.InvariantCulture) + ";",
            _ => throw new ArgumentOutOfRangeException(nameof(f)),
        };
    }

    /// <summary>A base64-like secret with '/', '+' and '=' in it.</summary>
    /// <remarks>
    /// A multiple of 3 bytes has no '=' padding: such a size looped here for ever, which is what
    /// made the two sweeps below look "too slow" (they never got past their first secret).
    /// </remarks>
    internal static string Base64Secret(Random rng, int bytes)
    {
        if (bytes % 3 == 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "base64 of a multiple of 3 bytes has no '=': give another size");
        for (int tries = 0; tries < 10_000; tries++)
        {
            var b = new byte[bytes];
            rng.NextBytes(b);
            var s = Convert.ToBase64String(b);
            if (s.Contains('/') && s.Contains('+') && s.Length >= 40) return s;
        }
        throw new InvalidOperationException($"no base64 secret of {bytes} bytes with '/' and '+' in 10000 tries");
    }

    /// <summary>
    /// Fails when <paramref name="shown"/> holds four or more consecutive characters of the secret
    /// as written in <paramref name="pieces"/> (a prefix left by a cut is one such run), or plain.
    /// </summary>
    /// <remarks>
    /// <paramref name="baseline"/>: what was shown for the same answer without the secret in it. A
    /// run that occurs there as often is the module's own text, not the secret: a key with "api/"
    /// in it matched the request path of the -Debug line (seed "69Rx5P1-tny1").
    /// </remarks>
    private static void AssertNothingOf(string secret, string[] pieces, string shown, string what, string? baseline = null)
    {
        bool Shows(string run) => Occurrences(shown, run) > (baseline == null ? 0 : Occurrences(baseline, run));
        for (int i = 0; i + 4 <= pieces.Length; i++)
        {
            var run = string.Concat(pieces.Skip(i).Take(4));
            Assert.False(Shows(run), $"{what}: shows characters {i}..{i + 3} of the secret ({run})");
        }
        for (int i = 0; i + 4 <= secret.Length; i++)
            Assert.False(Shows(secret.Substring(i, 4)), $"{what}: shows plain characters {i}..{i + 3} of the secret");
    }

    private static int Occurrences(string text, string run)
    {
        int n = 0;
        for (int at = text.IndexOf(run, StringComparison.Ordinal); at >= 0; at = text.IndexOf(run, at + 1, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string FillerOf(Random rng, int n)
    {
        var sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.Append(Filler[rng.Next(Filler.Length)]);
        return sb.ToString();
    }

    private static ServerText Text(string apiKey, string token = "tok-unrelated-0000") =>
        new(TestSecrets.Secure(apiKey), () => TestSecrets.Secure(token));

    [Fact]
    public void The_preview_never_shows_four_characters_of_a_secret_wherever_the_cut_falls_in_any_form_and_body_size()
    {
        var rng = new Random(182);
        // One filler, sliced: building a fresh one per body would cost more than the checks.
        var filler = FillerOf(rng, Cut + 80_000);
        int checkedCount = 0, redactedWhole = 0;
        foreach (var bytes in new[] { 31, 64 })
        {
            var secret = Base64Secret(rng, bytes);
            var text = Text(secret);
            foreach (var form in Enum.GetValues<Form>())
            {
                var pieces = Encode(secret, form, rng);
                var encoded = string.Concat(pieces);
                // Every offset from "ends just before the cut" to "starts just after it".
                for (int offset = Math.Max(0, Cut - encoded.Length - 3); offset <= Cut + 3; offset++)
                {
                    // The long body only at a few offsets: its size matters, not where in it the secret is.
                    foreach (var tail in offset % 16 == 0 ? new[] { 0, 1, 40, 5_000, 70_000 } : new[] { 0, 40, 5_000 })
                    {
                        var body = filler.Substring(tail % 7, offset) + encoded + filler.Substring(offset % 5, tail);
                        var raw = Encoding.UTF8.GetBytes(body);
                        var shown = text.Preview(raw, raw.Length, Cut);
                        AssertNothingOf(secret, pieces, shown, $"{form}, secret of {secret.Length} at {offset}, body of {raw.Length}");
                        Assert.True(shown.Length <= Cut + 1, "the preview is cut");
                        if (offset + encoded.Length <= Cut)
                        {
                            Assert.Contains(SecretText.Redacted, shown); // found, not merely cut away
                            redactedWhole++;
                        }
                        checkedCount++;
                    }
                }
            }
        }
        log.WriteLine($"{checkedCount} bodies checked, {redactedWhole} with the whole secret before the cut");
        Assert.True(redactedWhole > 100);
    }

    [Fact]
    public void The_cut_moves_back_only_as_far_as_the_start_of_what_could_be_a_secret()
    {
        var secret = "AbC/dEf+gHi=jKl/mNo+pQr=sTu/vWx+yZ0=123/456+789=";
        var text = Text(secret);
        // Nothing like the secret near the cut: the preview keeps all 512 characters.
        var body = new string('.', 2000);
        var raw = Encoding.UTF8.GetBytes(body);
        Assert.Equal(new string('.', Cut) + "…", text.Preview(raw, raw.Length, Cut));
        // Three characters of the secret's start before the cut: they go, and nothing else does.
        body = new string('.', Cut - 3) + secret + new string('.', 100);
        raw = Encoding.UTF8.GetBytes(body);
        Assert.Equal(new string('.', Cut - 3) + "…", text.Preview(raw, raw.Length, Cut));
        // A JSON escape cut in two ("\u00") counts as a start too.
        body = new string('.', Cut - 4) + "\\u0041bC/dEf" + new string('.', 100);
        raw = Encoding.UTF8.GetBytes(body);
        Assert.Equal(new string('.', Cut - 4) + "…", text.Preview(raw, raw.Length, Cut));
    }

    [Fact]
    public void Any_secret_in_any_mix_of_forms_anywhere_in_a_body_is_redacted_before_the_cut()
    {
        // Secrets from the base64 alphabet plus a few characters that need escaping in each form.
        var alphabet = Gen.OneOf(
            Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="],
            Gen.OneOfConst('/', '+', '=', ' ', '"', '\\', '&', '<', 'é', '€'));
        var gen = from secret in alphabet.Array[40, 90].Select(a => new string(a))
                  from seed in Gen.Int
                  from before in Gen.Int[0, 1200]
                  from after in Gen.Int[0, 3000]
                  from max in Gen.OneOfConst(100, 300, 512)
                  select (secret, seed, before, after, max);
        gen.Sample(t =>
        {
            var (secret, seed, before, after, max) = t;
            var rng = new Random(seed);
            var pieces = Encode(secret, Form.Mixed, rng);
            var body = FillerOf(rng, before) + string.Concat(pieces) + FillerOf(rng, after);
            var raw = Encoding.UTF8.GetBytes(body);
            var text = Text(secret);
            AssertNothingOf(secret, pieces, text.Preview(raw, raw.Length, max), "preview");
            // Messages (the API's message is cut at 300) are cleaned the same way.
            var message = text.Clean(body, max)!;
            AssertNothingOf(secret, pieces, message, "message");
            if (before + string.Concat(pieces).Length <= max) Assert.Contains(SecretText.Redacted, message);
        }, iter: 3000, print: t => $"secret '{t.secret}', seed {t.seed}, before {t.before}, after {t.after}, max {t.max}");
    }

    [Fact]
    public void Text_that_only_looks_like_a_secret_is_left_alone()
    {
        const string secret = "Zm9vYmFy/YmF6+cXV4=cXV1eA/cXV1eA+cXV1eA==";
        var text = Text(secret);
        // One character off, in each form: nothing redacted.
        foreach (var form in Enum.GetValues<Form>().Where(f => f != Form.Mixed))
        {
            var near = string.Concat(Encode(secret[..^1] + "X", form));
            Assert.Equal("[" + near + "]", text.Clean("[" + near + "]", 10_000));
            Assert.Equal("[" + SecretText.Redacted + "]", text.Clean("[" + string.Concat(Encode(secret, form)) + "]", 10_000));
        }
    }

    [Fact]
    public async Task The_real_clients_debug_output_never_shows_an_echoed_secret_whatever_the_body_and_cut()
    {
        // Driven end to end: the client's own -Debug lines for answers whose body echoes the key or
        // the token in some form, at some offset around the cut, in a body of some size.
        var gen = from keyBytes in Gen.Int[30, 64].Where(b => b % 3 != 0)
                  from seed in Gen.Int
                  from form in Gen.Enum<Form>()
                  from offsetFromCut in Gen.Int[-700, 20]
                  from tail in Gen.OneOfConst(0, 3, 200, 5_000)
                  from status in Gen.OneOfConst(200, 400, 401, 403, 404, 418)
                  from echoToken in Gen.Bool
                  select (keyBytes, seed, form, offsetFromCut, tail, status, echoToken);
        await gen.SampleAsync(async t =>
        {
            var rng = new Random(t.seed);
            string key = Base64Secret(rng, t.keyBytes), token = Base64Secret(rng, 40);
            var secret = t.echoToken ? token : key;
            var pieces = Encode(secret, t.form, rng);
            var encoded = string.Concat(pieces);
            int offset = Math.Max(0, Cut + t.offsetFromCut - encoded.Length / 2);
            string before = FillerOf(rng, offset), after = FillerOf(rng, t.tail);
            async Task<string> Shown(string echoed)
            {
                var body = "{\"code\":\"E\",\"message\":\"" + before + echoed + after + "\"}";
                var handler = new ScriptedHandler(_ => ScriptedHandler.Json(t.status, body));
                var clock = new SteppedClock();
                var options = new AhrvoClientOptions(InMemoryClient.BaseUri, TestSecrets.Secure(key), TestSecrets.Secure(token))
                {
                    HandlerFactory = () => handler,
                    Time = clock,
                    MaxRetries = 0,
                    TotalTimeout = TimeSpan.FromSeconds(5), // a 429 is waited out on the fake clock until then
                };
                using var client = new AhrvoClient(options);
                var lines = new List<string>();
                var diag = new RequestDiagnostics(true, true, m => { lock (lines) lines.Add(m.Text); });
                var result = await clock.RunAsync(client.GetBalanceAsync("card201907021723076245", diag));
                lock (lines) return string.Join("\n", lines) + "\n" + result.Error?.Message + "\n" + result.Error?.ApiMessage;
            }
            var everything = await Shown(encoded);
            Assert.Contains("HTTP " + t.status, everything); // the preview line was written
            // The same answer with filler where the secret was: the module's own text, to tell apart.
            var baseline = await Shown(FillerOf(rng, encoded.Length));
            AssertNothingOf(secret, pieces, everything, "debug output", baseline);
        }, iter: 200, threads: 1, print: t => t.ToString());
    }
}
