namespace Ahrvo.Emulator;

/// <summary>GET / PUT / DELETE /_emulator/routes: read, replace or clear the route table.</summary>
internal static class RouteAdmin
{
    public static void Map(RouteGroupBuilder admin, EmulatorState state)
    {
        admin.MapGet("/routes", () => Results.Json(state.Routes.ForDisplay(), Json.ConfigOptions));

        admin.MapPut("/routes", async (HttpContext ctx) =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            var text = await reader.ReadToEndAsync(ctx.RequestAborted);
            try
            {
                state.Routes = RouteTable.Parse(text);
            }
            catch (Exception ex) when (ex is ConfigException or FormatException or InvalidOperationException)
            {
                return Results.Json(new { code = "INVALID_ROUTES", message = ex.Message }, Json.ConfigOptions, statusCode: StatusCodes.Status400BadRequest);
            }
            return Results.Json(state.Routes.ForDisplay(), Json.ConfigOptions);
        });

        admin.MapDelete("/routes", () =>
        {
            state.Routes = RouteTable.Empty;
            return Results.NoContent();
        });
    }
}
