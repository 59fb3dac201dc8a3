using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ahrvo.Emulator;

/// <summary>
/// Test-control endpoints under /_emulator/. No auth: Kestrel only listens on 127.0.0.1.
/// Requests here are not counted in the stats, so reading stats does not change them.
/// </summary>
public static class AdminEndpoints
{
    public static void Map(WebApplication app, EmulatorState state)
    {
        var admin = app.MapGroup("/_emulator");

        admin.MapGet("/health", () => Results.Text("ok"));

        // ?limit=N returns only the last N request records (0 for counters only; the full log can be ~25 MB).
        admin.MapGet("/stats", (int? limit) =>
            Results.Json(state.Stats.Snapshot(limit ?? RequestStats.Capacity), Json.ConfigOptions));

        // ?config=true also restores the startup config, for suites that share one emulator.
        admin.MapPost("/reset", (bool? config) =>
        {
            state.Stats.Reset();
            state.Routes = config == true ? state.StartupRoutes.Restarted() : state.Routes.Restarted();
            if (config == true)
            {
                state.Config = state.StartupConfig;
                state.Limiter.Reset();
                state.Window.Reset();
            }
            return Results.Json(new { reset = true }, Json.ConfigOptions);
        });

        // Outages are shown with startMs counted from now (negative once started), so posting them back keeps them in place.
        admin.MapGet("/config", () => Results.Json(state.Config.ForDisplay(state.Time), Json.ConfigOptions));

        admin.MapPost("/config", async (HttpContext ctx) =>
        {
            try
            {
                var node = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
                if (node is not JsonObject patch) return BadRequest("INVALID_CONFIG", "The config must be a JSON object.");
                var updated = EmulatorConfig.Merge(state.Config, patch, state.Time);
                state.Config = updated;
                // After the swap, so no request refills under the old settings after the reset.
                if (EmulatorConfig.TouchesRateLimit(patch))
                {
                    state.Limiter.Reset();
                    state.Window.Reset();
                }
                return Results.Json(updated.ForDisplay(state.Time), Json.ConfigOptions);
            }
            catch (Exception ex) when (ex is ConfigException or JsonException or FormatException)
            {
                return BadRequest("INVALID_CONFIG", ex.Message);
            }
        });

        RouteAdmin.Map(admin, state);

        admin.MapGet("/cards", () => Results.Json(state.Cards.Snapshot(), Json.ConfigOptions));

        admin.MapGet("/cards/{id}", (string id) =>
            state.Cards.TryGet(id, out var entry)
                ? Results.Json(entry.Card, Json.ConfigOptions)
                : BadRequest("CARD_NOT_FOUND", $"No card '{id}'.", StatusCodes.Status404NotFound));

        admin.MapPut("/cards/{id}", async (string id, HttpContext ctx) =>
        {
            try
            {
                using var doc = await JsonDocument.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
                var entry = state.Cards.Upsert(CardStore.ParseJsonCard(doc.RootElement, idOverride: id));
                return Results.Json(entry.Card, Json.ConfigOptions);
            }
            catch (Exception ex) when (ex is JsonException or FormatException)
            {
                return BadRequest("INVALID_CARD", ex.Message);
            }
        });

        admin.MapDelete("/cards/{id}", (string id) =>
            state.Cards.Remove(id)
                ? Results.NoContent()
                : BadRequest("CARD_NOT_FOUND", $"No card '{id}'.", StatusCodes.Status404NotFound));
    }

    private static IResult BadRequest(string code, string message, int status = StatusCodes.Status400BadRequest) =>
        Results.Json(new { code, message }, Json.ConfigOptions, statusCode: status);
}
