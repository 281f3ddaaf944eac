using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Data;

namespace Portal.Core.Features.Webhooks;

/// <summary>
/// Fans outbox events out to the enabled endpoints subscribed to them, then sends the deliveries that are due, signed,
/// and schedules a retry for each one that did not get a 2xx. The web host runs <see cref="RunAsync"/> in the
/// background; tests call <see cref="RunOnceAsync"/> with a fake clock.
/// </summary>
public sealed class WebhookDispatcher(
    IDbContextFactory<PortalDbContext> dbFactory,
    IHttpClientFactory httpFactory,
    IWebhookSecretProtector protector,
    WebhookSignal signal,
    IOptions<PortalOptions> options,
    TimeProvider clock,
    ILogger<WebhookDispatcher> logger)
{
    public const string HttpClientName = "webhooks";
    public const int BatchSize = 50;
    private const int Parallelism = 4;
    private const int OutboxBatch = 500;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>The wait after the 1st, 2nd, … failed attempt; a failure after the last step marks the delivery Failed (6 attempts in all).</summary>
    public static readonly IReadOnlyList<TimeSpan> RetrySchedule =
        [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(8)];

    public static WebhookDelivery NewDelivery(Guid endpointId, Guid eventId, string type, string body, DateTimeOffset now) => new()
    {
        EndpointId = endpointId,
        EventId = eventId,
        EventType = type,
        Payload = body,
        Status = WebhookDeliveryStatus.Pending,
        NextAttemptAt = now,
        CreatedAt = now,
    };

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(Math.Max(1, options.Value.Webhooks.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await RunOnceAsync(stoppingToken) > 0)
                {
                }
                await signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Webhook dispatch failed; trying again in {Interval}", poll);
                try
                {
                    await Task.Delay(poll, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One round: fan out what the outbox holds, send what is due. Answers how much work it found.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct = default) => await FanOutAsync(ct) + await SendDueAsync(ct);

    /// <summary>Turns outbox events into deliveries for the endpoints enabled and subscribed now (and existing when the event happened), and removes them from the outbox.</summary>
    public async Task<int> FanOutAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var events = await db.WebhookOutbox.OrderBy(e => e.OccurredAt).Take(OutboxBatch).ToListAsync(ct);
        if (events.Count == 0) return 0;
        var endpoints = await db.WebhookEndpoints.AsNoTracking().Where(e => e.Enabled).ToListAsync(ct);
        var now = clock.GetUtcNow();
        foreach (var e in events)
        {
            // An endpoint hears of what happens from its creation on, not of older events still in the outbox.
            var receivers = endpoints.Where(x => x.Receives(e.Type) && x.CreatedAt <= e.OccurredAt).ToList();
            if (receivers.Count == 0) continue;
            var body = WebhookOutbox.Body(e.Id, e.Type, e.OccurredAt, e.Data);
            foreach (var endpoint in receivers)
                db.WebhookDeliveries.Add(NewDelivery(endpoint.Id, e.Id, e.Type, body, now));
        }
        db.WebhookOutbox.RemoveRange(events);
        await db.SaveChangesAsync(ct);
        return events.Count;
    }

    private sealed record Due(Guid Id, Guid EndpointId, Guid EventId, string Payload, string Url, string ProtectedSecret);

    /// <summary>Sends the pending deliveries whose time has come, to enabled endpoints only; a few at a time.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        List<Due> due;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            due = await (
                    from d in db.WebhookDeliveries
                    join e in db.WebhookEndpoints on d.EndpointId equals e.Id
                    where d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt <= now && e.Enabled
                    orderby d.NextAttemptAt
                    select new Due(d.Id, e.Id, d.EventId, d.Payload, e.Url, e.ProtectedSecret))
                .Take(BatchSize)
                .ToListAsync(ct);
        }
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, SendAsync);
        return due.Count;
    }

    private async ValueTask SendAsync(Due due, CancellationToken ct)
    {
        var at = clock.GetUtcNow();
        var started = clock.GetTimestamp();
        int? status = null;
        string? error = null, snippet = null;
        try
        {
            var secret = protector.Unprotect(due.ProtectedSecret);
            var timestamp = at.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, due.Url)
            {
                Content = new StringContent(due.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("webhook-id", due.EventId.ToString());
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, due.EventId.ToString(), timestamp, due.Payload));
            request.Headers.UserAgent.ParseAdd("Portal-Webhooks/1.0");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(Timeout);
            var client = httpFactory.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            status = (int)response.StatusCode;
            snippet = await SnippetAsync(response, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"No answer within {Timeout.TotalSeconds:0} s.";
        }
        catch (HttpRequestException e)
        {
            error = e.InnerException is { } inner && e.Message.StartsWith("An error occurred", StringComparison.Ordinal) ? inner.Message : e.Message;
        }
        catch (CryptographicException)
        {
            error = "The signing secret could not be decrypted (has the data-protection key ring been lost?); rotate the secret.";
        }
        catch (InvalidOperationException e)
        {
            error = e.Message;
        }
        var duration = clock.GetElapsedTime(started);
        await RecordAsync(due, at, status, Truncate(error, WebhookRules.MaxErrorLength), snippet, (int)duration.TotalMilliseconds, ct);
    }

    private async Task RecordAsync(Due due, DateTimeOffset at, int? status, string? error, string? snippet, int durationMs, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var delivery = await db.WebhookDeliveries.SingleOrDefaultAsync(d => d.Id == due.Id, ct);
        if (delivery is null) return; // its endpoint was deleted meanwhile
        var succeeded = status is >= 200 and < 300;
        delivery.Attempts++;
        delivery.LastStatusCode = status;
        delivery.LastError = error;
        db.WebhookAttempts.Add(new WebhookAttempt { DeliveryId = delivery.Id, At = at, StatusCode = status, DurationMs = durationMs, Error = error, ResponseSnippet = snippet });
        if (succeeded)
        {
            delivery.Status = WebhookDeliveryStatus.Succeeded;
            delivery.DeliveredAt = at;
            delivery.NextAttemptAt = null;
        }
        else if (delivery.Attempts > RetrySchedule.Count)
        {
            delivery.Status = WebhookDeliveryStatus.Failed;
            delivery.NextAttemptAt = null;
        }
        else
        {
            delivery.Status = WebhookDeliveryStatus.Pending;
            delivery.NextAttemptAt = at + RetrySchedule[delivery.Attempts - 1];
        }
        await db.SaveChangesAsync(ct);
        // Ids and outcomes only: never the secret, the signature or the URL (which may carry a token of the receiver's).
        logger.LogInformation("Webhook delivery {DeliveryId} to endpoint {EndpointId}, attempt {Attempt}: {Status} {Outcome}",
            delivery.Id, due.EndpointId, delivery.Attempts, status?.ToString() ?? "no answer", delivery.Status);
    }

    private static async Task<string?> SnippetAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[WebhookRules.MaxSnippetLength];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), ct) is var n and > 0) read += n;
        if (read == 0) return null;
        // A cut in the middle of a multi-byte character decodes to a replacement character: harmless for a snippet.
        return Truncate(Encoding.UTF8.GetString(buffer, 0, read), WebhookRules.MaxSnippetLength);
    }

    private static string? Truncate(string? text, int max) => text is null || text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>
    /// The sending handler: no redirects (a 3xx is an answer, not an invitation), no proxy, no cookies, and unless
    /// private targets are allowed, a connection only to public addresses. The address is checked after resolving and
    /// the connection made to that very address, so a name that re-resolves to 127.0.0.1 later does not get through.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(WebhookOptions settings) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = Timeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            if (!settings.AllowPrivateTargets)
            {
                addresses = [.. addresses.Where(a => !WebhookRules.IsPrivate(a))];
                if (addresses.Length == 0)
                    throw new HttpRequestException($"'{host}' is a loopback, private or link-local address; such targets are blocked (Portal:Webhooks:AllowPrivateTargets).");
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
