using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Support;

/// <summary>
/// A real Kestrel server on a free loopback port, standing in for a product's backend: it counts and records what
/// reaches it. <c>/slow?ms=</c> waits before answering, <c>/download?bytes=</c> streams a body of that size,
/// <c>/upload</c> reads the body and answers its length (and when its first byte came); anything else answers 200
/// with the method and path.
/// </summary>
public sealed class UpstreamServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    public sealed record Seen(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers);

    public ConcurrentQueue<Seen> Requests { get; } = new();

    /// <summary>Requests that reached the server.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>When the last upload's first body byte arrived, and when its last did.</summary>
    public DateTimeOffset? UploadFirstByteAt { get; private set; }

    public DateTimeOffset? UploadLastByteAt { get; private set; }

    private UpstreamServer(WebApplication app) => _app = app;

    public static async Task<UpstreamServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var server = new UpstreamServer(app);
        app.Use(async (http, next) =>
        {
            Interlocked.Increment(ref server._count);
            server.Requests.Enqueue(new Seen(http.Request.Method, http.Request.Path + http.Request.QueryString,
                http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            await next(http);
        });
        app.Map("/slow", async (HttpContext http) =>
        {
            var ms = int.Parse(http.Request.Query["ms"].ToString() is { Length: > 0 } v ? v : "5000");
            try
            {
                await Task.Delay(ms, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await http.Response.WriteAsync("late");
        });
        app.Map("/download", async (HttpContext http) =>
        {
            var bytes = long.Parse(http.Request.Query["bytes"].ToString());
            http.Response.ContentLength = bytes;
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < bytes; sent += chunk.Length)
                await http.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - sent)), http.RequestAborted);
        });
        app.Map("/upload", async (HttpContext http) =>
        {
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                if (total == 0) server.UploadFirstByteAt = DateTimeOffset.UtcNow;
                total += read;
            }
            server.UploadLastByteAt = DateTimeOffset.UtcNow;
            await http.Response.WriteAsync(total.ToString());
        });
        app.MapFallback(async (HttpContext http) =>
        {
            http.Response.Headers["X-Upstream"] = "yes";
            await http.Response.WriteAsync($"{http.Request.Method} {http.Request.Path}{http.Request.QueryString}");
        });
        await app.StartAsync();
        return server;
    }

    public string BaseUrl => _app.Urls.First();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
