using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portal.Tests.Support;

/// <summary>
/// A real HTTP server on a loopback port: records each request and answers with the next queued status (200 when none).
/// Shared with Portal.E2E (linked there), whose journeys point webhooks at it.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<int> _statuses = new();
    private readonly Task _loop;

    public sealed record Received(string Body, IReadOnlyDictionary<string, string> Headers)
    {
        /// <summary>
        /// The receiver's side of Standard Webhooks, written out here rather than borrowed from the portal: base64
        /// HMAC-SHA256 over <c>{webhook-id}.{webhook-timestamp}.{body}</c>, keyed with the base64 after <c>whsec_</c>.
        /// </summary>
        public string ExpectedSignature(string secret)
        {
            var key = Convert.FromBase64String(secret["whsec_".Length..]);
            var signed = Encoding.UTF8.GetBytes($"{Headers["webhook-id"]}.{Headers["webhook-timestamp"]}.{Body}");
            return "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key, signed));
        }
    }

    public WebhookReceiver()
    {
        // HttpListener has no port 0: take a free port from the OS, then listen on it.
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hooks";

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Statuses for the next requests, in order.</summary>
    public void AnswerWith(params int[] statuses)
    {
        foreach (var status in statuses) _statuses.Enqueue(status);
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!.ToLowerInvariant(), k => context.Request.Headers[k]!);
            Requests.Enqueue(new Received(body, headers));
            context.Response.StatusCode = _statuses.TryDequeue(out var status) ? status : 200;
            var answer = Encoding.UTF8.GetBytes(status >= 400 ? "receiver says no" : "ok");
            await context.Response.OutputStream.WriteAsync(answer);
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
