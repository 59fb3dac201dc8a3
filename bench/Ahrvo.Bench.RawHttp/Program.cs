// Raw HttpClient baseline: N balance requests against the emulator with C concurrent workers over
// one pooled SocketsHttpHandler, reading each body as a string. No retries, no parsing beyond a
// status check: the upper bound for any client on this machine. Prints one JSON line per run.
//
//   dotnet Ahrvo.Bench.RawHttp.dll --base-uri http://127.0.0.1:5000/ --count 10000 --concurrency 16 [--runs 3] [--warmup 500]
using System.Diagnostics;
using System.Globalization;

var opts = ParseArgs(args);
var baseUri = new Uri(opts.GetValueOrDefault("base-uri") ?? throw new ArgumentException("--base-uri is required"));
int count = int.Parse(opts.GetValueOrDefault("count") ?? "10000", CultureInfo.InvariantCulture);
int concurrency = int.Parse(opts.GetValueOrDefault("concurrency") ?? "16", CultureInfo.InvariantCulture);
int runs = int.Parse(opts.GetValueOrDefault("runs") ?? "1", CultureInfo.InvariantCulture);
int warmup = int.Parse(opts.GetValueOrDefault("warmup") ?? "500", CultureInfo.InvariantCulture);
string apiKey = opts.GetValueOrDefault("api-key") ?? "emulator-api-key";
string token = opts.GetValueOrDefault("access-token") ?? "emulator-access-token";

using var client = new HttpClient(new SocketsHttpHandler
{
    UseProxy = false,
    AllowAutoRedirect = false,
    MaxConnectionsPerServer = concurrency,
    PooledConnectionLifetime = TimeSpan.FromMinutes(10),
})
{ BaseAddress = baseUri };
client.DefaultRequestHeaders.Add("Authorization", "Bearer " + token);
client.DefaultRequestHeaders.Add("x-api-key", apiKey);
client.DefaultRequestHeaders.Add("Accept", "application/json");

string[] paths = new string[count];
for (int i = 0; i < count; i++)
    paths[i] = "card/issuance/api/issuing/card/v2/normal/balance?card_id=" + Uri.EscapeDataString(string.Format(CultureInfo.InvariantCulture, "card2019{0:D14}", i));

// Warm-up: JIT, connection pool filled to the concurrency.
if (warmup > 0) await RunAsync(Math.Min(warmup, count));

for (int r = 0; r < runs; r++)
{
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    int failed = await RunAsync(count);
    sw.Stop();
    // CPU time of this process is less disturbed by other load on the machine than wall time.
    cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
    Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
        "{{\"count\":{0},\"concurrency\":{1},\"elapsedMs\":{2:0.0},\"perSecond\":{3:0.0},\"non200\":{4},\"cpuMs\":{5:0.0}}}",
        count, concurrency, sw.Elapsed.TotalMilliseconds, count / sw.Elapsed.TotalSeconds, failed, cpu.TotalMilliseconds));
}
return 0;

async Task<int> RunAsync(int n)
{
    int next = -1, non200 = 0;
    var workers = new Task[concurrency];
    for (int w = 0; w < concurrency; w++)
    {
        workers[w] = Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                using var response = await client.GetAsync(paths[i], HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
                _ = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                // Shared cards answer 400 by design; counted, not fatal, as the cmdlet counts them.
                if (response.StatusCode != System.Net.HttpStatusCode.OK) Interlocked.Increment(ref non200);
            }
        });
    }
    await Task.WhenAll(workers).ConfigureAwait(false);
    return non200;
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    for (int i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException("Unexpected argument: " + args[i]);
        var name = args[i][2..];
        int eq = name.IndexOf('=');
        if (eq >= 0) d[name[..eq]] = name[(eq + 1)..];
        else if (i + 1 < args.Length) d[name] = args[++i];
        else throw new ArgumentException("Missing value for --" + name);
    }
    return d;
}
