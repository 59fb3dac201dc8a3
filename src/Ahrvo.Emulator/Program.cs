using System.Diagnostics;
using System.Net;
using Ahrvo.Emulator;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

EmulatorOptions options;
IReadOnlyList<EmulatorCard> cards;
try
{
    options = EmulatorOptions.Parse(args);
    if (options.ShowHelp)
    {
        Console.WriteLine(EmulatorOptions.Usage);
        return 0;
    }

    cards = options.GenerateCount is { } count
        ? CardGenerator.Generate(count, options.Seed)
        : CardStore.LoadFile(options.CardsPath ?? Path.Combine(AppContext.BaseDirectory, "cards", "sample-cards.json"));
}
catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
{
    Console.Error.WriteLine($"Ahrvo.Emulator: {ex.Message}");
    return 2;
}

EmulatorConfig startupConfig;
try
{
    startupConfig = options.ToConfig();
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"Ahrvo.Emulator: {ex.Message}");
    return 2;
}

var state = new EmulatorState(new CardStore(cards), startupConfig, TimeProvider.System);
if (options.RoutesPath is { } routesPath)
{
    try
    {
        state.Routes = state.StartupRoutes = RouteTable.LoadFile(routesPath);
    }
    catch (Exception ex) when (ex is ConfigException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"Ahrvo.Emulator: {ex.Message}");
        return 2;
    }
}

// Our flags are not ASP.NET configuration, so args are not handed to the builder.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });

// Stdout carries only the ready line; ASP.NET's own logs go to stderr and only from Warning up.
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxRequestBodySize = 256L * 1024 * 1024; // room for planting large "body" faults
    k.Listen(IPAddress.Loopback, options.Port);
});

var app = builder.Build();

app.Use((ctx, next) =>
{
    if (!ctx.Request.Path.StartsWithSegments("/_emulator")) state.Stats.CountRequest();
    return next(ctx);
});

var balance = new BalanceEndpoint(state);
app.MapGet(EmulatorDefaults.BalancePath, balance.HandleAsync);
AdminEndpoints.Map(app, state);
var routes = new RouteTableEndpoint(state);
app.MapFallback(async (HttpContext ctx) =>
{
    if (!await routes.TryHandleAsync(ctx)) await Responses.WriteAsync(ctx, 404, Responses.NotFound);
});

await app.StartAsync();

// Printed only after Kestrel has bound, so harnesses can connect as soon as they read it.
string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
var port = new Uri(address).Port;
Console.Out.WriteLine($"{EmulatorDefaults.ReadyLinePrefix}http://127.0.0.1:{port}");
Console.Out.Flush();
// The human-friendly lines go to stderr: stdout stays the one line harnesses parse.
Console.Error.WriteLine($"Ahrvo.Emulator: {CardStore.Describe(cards)}, listening on http://127.0.0.1:{port}");
Console.Error.Write(StartupText.ConnectHelp($"http://127.0.0.1:{port}", options, cards.FirstOrDefault(c => !c.IsShared)?.Id));

if (options.ParentPid is { } parentPid)
{
    _ = WatchParentAsync(parentPid, app);
}

await app.WaitForShutdownAsync();
return 0;

// Harnesses pass their pid so a crashed test run does not leave emulators behind.
// Polling works for any process, not just our own children.
static async Task WatchParentAsync(int pid, WebApplication app)
{
    while (true)
    {
        try
        {
            using var parent = Process.GetProcessById(pid);
            if (parent.HasExited) break;
        }
        catch (ArgumentException)
        {
            break; // no such process
        }
        await Task.Delay(1000);
    }
    await app.StopAsync();
}
