// The smallest useful backend for the gateway benchmark: every path answers a short JSON body, no logging.
// Usage: dotnet Upstream.dll --urls http://127.0.0.1:5300
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
var body = "{\"ok\":true}"u8.ToArray();
app.Run(async http =>
{
    http.Response.ContentType = "application/json";
    http.Response.ContentLength = body.Length;
    await http.Response.Body.WriteAsync(body);
});
app.Run();
