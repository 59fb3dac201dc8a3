using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Ahrvo.Emulator;

/// <summary>One canned answer of a route: a status, headers and a body; or a dropped connection.</summary>
public sealed class RouteResponse
{
    public int Status { get; init; } = 200;
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    public string? ContentType { get; init; }
    public byte[] Body { get; init; } = [];
    /// <summary>"reset": the request is read, then the connection is dropped without an answer (a write's fate unknown).</summary>
    public string? Fault { get; init; }
    public int DelayMs { get; init; }

    /// <summary>Served before the credentials are checked, as a gateway in front of the API answers: a 5xx, a 429, a reset.</summary>
    public bool IsGateway => Fault != null || Status >= 500 || Status == 429;
}

/// <summary>A method and path of the vendor's API other than the balance, with its answers in order (the last one repeats).</summary>
public sealed class Route
{
    public required string Method { get; init; }
    public required string Path { get; init; }
    public required IReadOnlyList<RouteResponse> Responses { get; init; }

    public string Key => Method + " " + Path;

    /// <summary>Exact path, or a prefix when the route's path ends in '*'.</summary>
    public bool Matches(string method, string path) =>
        string.Equals(method, Method, StringComparison.OrdinalIgnoreCase)
        && (Path.EndsWith('*') ? path.StartsWith(Path[..^1], StringComparison.Ordinal) : string.Equals(path, Path, StringComparison.Ordinal));
}

/// <summary>
/// The route table: answers for the vendor's other endpoints (top-up, card details, funding orders...),
/// set from a file (--routes) or the admin API (PUT /_emulator/routes), so scripts that call them
/// through Invoke-AhrvoRequest can be tried offline. Immutable; the nth request to a route since the
/// table was set (or the stats reset) gets its nth response, the last one from then on.
/// </summary>
public sealed class RouteTable
{
    public static readonly RouteTable Empty = new([]);

    private readonly ConditionalWeakTable<Route, StrongBox<int>> _served = new();

    public RouteTable(IReadOnlyList<Route> routes) => Routes = routes;

    public IReadOnlyList<Route> Routes { get; }

    public Route? Find(string method, string path)
    {
        foreach (var r in Routes) if (r.Matches(method, path)) return r;
        return null;
    }

    /// <summary>The response for this request to the route (1-based count returned too).</summary>
    public (RouteResponse Response, int Number) Next(Route route)
    {
        var box = _served.GetValue(route, static _ => new StrongBox<int>());
        int n = Interlocked.Increment(ref box.Value);
        return (route.Responses[Math.Min(n, route.Responses.Count) - 1], n);
    }

    /// <summary>The same routes with their counts back at zero (POST /_emulator/reset).</summary>
    public RouteTable Restarted() => new(Routes);

    public static RouteTable LoadFile(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (ConfigException ex)
        {
            throw new ConfigException($"{path}: {ex.Message}");
        }
    }

    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    /// <summary>A JSON array of routes (or {"routes":[...]}). Unknown properties are refused, so a typo is a 400 and not a silent default.</summary>
    public static RouteTable Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ConfigException("The routes are not JSON: " + ex.Message);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("routes", out var inner)) root = inner;
            if (root.ValueKind != JsonValueKind.Array) throw new ConfigException("The routes must be a JSON array of {\"method\",\"path\",\"responses\"} objects.");
            var routes = new List<Route>();
            int i = 0;
            foreach (var e in root.EnumerateArray())
            {
                i++;
                if (e.ValueKind != JsonValueKind.Object) throw new ConfigException($"Route {i} is not an object.");
                string? method = null, path = null;
                var responses = new List<RouteResponse>();
                bool single = false;
                foreach (var p in e.EnumerateObject())
                {
                    switch (p.Name.ToLowerInvariant())
                    {
                        case "method": method = p.Value.GetString()?.ToUpperInvariant(); break;
                        case "path": path = p.Value.GetString(); break;
                        case "responses":
                            if (p.Value.ValueKind != JsonValueKind.Array || p.Value.GetArrayLength() == 0) throw new ConfigException($"Route {i}: \"responses\" must be a non-empty array.");
                            foreach (var r in p.Value.EnumerateArray()) responses.Add(ParseResponse(r, i));
                            break;
                        case "status": case "headers": case "body": case "contenttype": case "fault": case "delayms":
                            single = true; break;
                        default: throw new ConfigException($"Route {i}: unknown property \"{p.Name}\".");
                    }
                }
                if (single)
                {
                    if (responses.Count > 0) throw new ConfigException($"Route {i}: give either \"responses\" or one response's properties, not both.");
                    responses.Add(ParseResponse(e, i, skip: ["method", "path"]));
                }
                if (method == null || Array.IndexOf(Methods, method) < 0) throw new ConfigException($"Route {i}: \"method\" must be one of {string.Join(", ", Methods)}.");
                if (string.IsNullOrEmpty(path) || path[0] != '/') throw new ConfigException($"Route {i}: \"path\" must start with '/'.");
                if (path.StartsWith("/_emulator", StringComparison.OrdinalIgnoreCase)) throw new ConfigException($"Route {i}: /_emulator/ is the admin API's.");
                if (responses.Count == 0) responses.Add(new RouteResponse());
                routes.Add(new Route { Method = method, Path = path, Responses = responses });
            }
            return new RouteTable(routes);
        }
    }

    private static RouteResponse ParseResponse(JsonElement e, int route, string[]? skip = null)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new ConfigException($"Route {route}: a response is not an object.");
        int status = 200, delay = 0;
        string? contentType = null, fault = null;
        byte[] body = [];
        bool jsonBody = false;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in e.EnumerateObject())
        {
            var name = p.Name.ToLowerInvariant();
            if (skip != null && Array.IndexOf(skip, name) >= 0) continue;
            switch (name)
            {
                case "status":
                    status = p.Value.ValueKind == JsonValueKind.String ? int.Parse(p.Value.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : p.Value.GetInt32();
                    if (status < 100 || status > 599) throw new ConfigException($"Route {route}: status {status} is not an HTTP status.");
                    break;
                case "headers":
                    if (p.Value.ValueKind != JsonValueKind.Object) throw new ConfigException($"Route {route}: \"headers\" must be an object of name: value.");
                    foreach (var h in p.Value.EnumerateObject()) headers[h.Name] = h.Value.ValueKind == JsonValueKind.String ? h.Value.GetString()! : h.Value.GetRawText();
                    break;
                case "body":
                    // A string is sent as it is; any other JSON value is sent as that JSON.
                    if (p.Value.ValueKind == JsonValueKind.String) body = Encoding.UTF8.GetBytes(p.Value.GetString()!);
                    else if (p.Value.ValueKind != JsonValueKind.Null) { body = Encoding.UTF8.GetBytes(p.Value.GetRawText()); jsonBody = true; }
                    break;
                case "contenttype": contentType = p.Value.GetString(); break;
                case "fault":
                    fault = p.Value.GetString();
                    if (fault != null && fault != "reset") throw new ConfigException($"Route {route}: the only fault is \"reset\" (statuses are given as \"status\").");
                    break;
                case "delayms": delay = p.Value.GetInt32(); if (delay < 0) throw new ConfigException($"Route {route}: delayMs must not be negative."); break;
                default: throw new ConfigException($"Route {route}: unknown response property \"{p.Name}\".");
            }
        }
        return new RouteResponse
        {
            Status = status,
            Headers = headers,
            Body = body,
            ContentType = contentType ?? (jsonBody || body.Length == 0 ? Responses.JsonType : "text/plain; charset=utf-8"),
            Fault = fault,
            DelayMs = delay,
        };
    }

    /// <summary>What GET /_emulator/routes shows: the table as it was given (bodies as text).</summary>
    public object ForDisplay() => Routes.Select(r => new
    {
        method = r.Method,
        path = r.Path,
        responses = r.Responses.Select(x => new { status = x.Status, headers = x.Headers, contentType = x.ContentType, body = Encoding.UTF8.GetString(x.Body), fault = x.Fault, delayMs = x.DelayMs }),
    }).ToArray();
}
