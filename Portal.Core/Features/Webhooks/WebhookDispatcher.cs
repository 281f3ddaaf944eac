using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Data;
using Portal.Core.Common;

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
    WakeSignal signal,
    IOptions<PortalOptions> options,
    TimeProvider clock,
    ILogger<WebhookDispatcher> logger)
{
    public const string HttpClientName = "webhooks";
    /// <summary>Endpoints served per round (each with up to <see cref="PerEndpointPerRound"/> deliveries).</summary>
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

    /// <summary>Deliveries sent per endpoint per round: one endpoint's backlog cannot fill a round.</summary>
    public const int PerEndpointPerRound = 5;

    /// <summary>
    /// How long a claimed delivery stays with the instance that claimed it (its <c>NextAttemptAt</c> is set this far
    /// ahead while it is sent). Longer than a send can take, so only a crashed sender's claims expire and are sent again.
    /// </summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    /// <summary>Deliveries deleted per statement by <see cref="PurgeAsync"/>, their attempts with them.</summary>
    public const int PurgeSlice = 1_000;

    /// <summary>How often the send loop purges old deliveries.</summary>
    public static readonly TimeSpan PurgeEvery = TimeSpan.FromHours(1);

    private readonly WakeSignal _sendSignal = new();
    private readonly Lock _purgeLock = new();
    private DateTimeOffset? _lastPurge;

    /// <summary>
    /// Two loops side by side: fan-out (woken by the outbox) and sending (woken after each fan-out and by retries), so
    /// new events become deliveries while slow receivers are being waited for.
    /// </summary>
    public Task RunAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(Math.Max(1, options.Value.Webhooks.PollSeconds));
        return Task.WhenAll(
            LoopAsync("fan-out", signal, poll, async ct =>
            {
                while (await FanOutAsync(ct) > 0)
                {
                }
                _sendSignal.Wake();
            }, stoppingToken),
            LoopAsync("send", _sendSignal, poll, async ct =>
            {
                while (await SendDueAsync(ct) > 0)
                {
                }
                await PurgeIfDueAsync(ct);
            }, stoppingToken));
    }

    private async Task LoopAsync(string name, WakeSignal wake, TimeSpan poll, Func<CancellationToken, Task> work, CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await work(stoppingToken);
                await wake.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Webhook {Loop} failed; trying again in {Interval}", name, poll);
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

    /// <summary>Runs <see cref="PurgeAsync"/> if it has not run in the last <see cref="PurgeEvery"/>; answers how many deliveries it deleted.</summary>
    public async Task<int> PurgeIfDueAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        lock (_purgeLock)
        {
            if (_lastPurge is { } last && now - last < PurgeEvery) return 0;
            _lastPurge = now;
        }
        return await PurgeAsync(ct);
    }

    /// <summary>
    /// Deletes finished (Succeeded or Failed) deliveries created more than <c>Portal:Webhooks:RetentionDays</c> ago; their
    /// attempts go with them (cascade). In slices, as the usage purge does, so the write lock is never held for long.
    /// </summary>
    public async Task<int> PurgeAsync(CancellationToken ct = default)
    {
        var cutoff = clock.GetUtcNow().AddDays(-Math.Max(1, options.Value.Webhooks.RetentionDays));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var total = 0;
        while (true)
        {
            var deleted = await db.WebhookDeliveries
                .Where(d => d.Status != WebhookDeliveryStatus.Pending && d.CreatedAt < cutoff)
                .OrderBy(d => d.CreatedAt)
                .Take(PurgeSlice)
                .ExecuteDeleteAsync(ct);
            total += deleted;
            if (deleted < PurgeSlice) return total;
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

    /// <summary>A delivery this instance has claimed: <see cref="Lease"/> is the <c>NextAttemptAt</c> it set, its proof of ownership.</summary>
    private sealed record Due(Guid Id, Guid EndpointId, Guid EventId, string Payload, string Url, string ProtectedSecret, int Attempts, DateTimeOffset Lease);

    private sealed record Candidate(Guid Id, Guid EndpointId, Guid EventId, string Payload, string Url, string ProtectedSecret, int Attempts);

    /// <summary>
    /// Sends the pending deliveries whose time has come, to enabled endpoints only: at most
    /// <see cref="PerEndpointPerRound"/> per endpoint, in order within an endpoint, endpoints side by side. Each row is
    /// claimed first (a conditional update that only one instance can win); an endpoint that gives no answer at all
    /// (refused, unreachable, timed out) is left alone for the rest of the round and its other due deliveries wait a minute.
    /// </summary>
    public async Task<int> SendDueAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var lease = now + Lease;
        var claimed = new List<Due>();
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var pending = from d in db.WebhookDeliveries
                join e in db.WebhookEndpoints on d.EndpointId equals e.Id
                where d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt <= now && e.Enabled
                select d;
            var endpoints = await pending.GroupBy(d => d.EndpointId)
                .Select(g => new { EndpointId = g.Key, First = g.Min(d => d.NextAttemptAt) })
                .OrderBy(g => g.First)
                .Take(BatchSize)
                .Select(g => g.EndpointId)
                .ToListAsync(ct);
            foreach (var endpointId in endpoints)
            {
                var candidates = await (
                        from d in pending
                        join e in db.WebhookEndpoints on d.EndpointId equals e.Id
                        where d.EndpointId == endpointId
                        orderby d.NextAttemptAt, d.Id
                        select new Candidate(d.Id, e.Id, d.EventId, d.Payload, e.Url, e.ProtectedSecret, d.Attempts))
                    .Take(PerEndpointPerRound)
                    .ToListAsync(ct);
                foreach (var c in candidates)
                {
                    var won = await db.WebhookDeliveries
                        .Where(d => d.Id == c.Id && d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt <= now)
                        .ExecuteUpdateAsync(u => u.SetProperty(d => d.NextAttemptAt, lease), ct);
                    if (won == 1) claimed.Add(new Due(c.Id, c.EndpointId, c.EventId, c.Payload, c.Url, c.ProtectedSecret, c.Attempts, lease));
                }
            }
        }
        await Parallel.ForEachAsync(claimed.GroupBy(d => d.EndpointId),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (batch, token) => await SendToEndpointAsync([.. batch], token));
        return claimed.Count;
    }

    private async Task SendToEndpointAsync(IReadOnlyList<Due> batch, CancellationToken ct)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var answered = await SendAsync(batch[i], ct);
            if (answered) continue;
            // No answer: the rest of this endpoint's claims, and whatever else of it is due, wait for its next retry.
            var later = clock.GetUtcNow() + RetrySchedule[0];
            try
            {
                await ReleaseAsync(batch[i].EndpointId, [.. batch.Skip(i + 1)], later, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not postpone the deliveries to endpoint {EndpointId}; their claims expire in {Lease}", batch[i].EndpointId, Lease);
            }
            return;
        }
    }

    private async Task ReleaseAsync(Guid endpointId, IReadOnlyList<Due> claimed, DateTimeOffset later, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var due in claimed)
            await db.WebhookDeliveries
                .Where(d => d.Id == due.Id && d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt == due.Lease)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.NextAttemptAt, later), ct);
        await db.WebhookDeliveries
            .Where(d => d.EndpointId == endpointId && d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt <= now)
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.NextAttemptAt, later), ct);
    }

    /// <summary>Sends one claimed delivery and records the attempt, whatever happens short of shutdown. Answers whether the receiver answered at all.</summary>
    private async Task<bool> SendAsync(Due due, CancellationToken ct)
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
            // The status decides the outcome; a body cut short or reset afterwards only costs the snippet.
            try
            {
                snippet = await SnippetAsync(response, timeout.Token);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                snippet = null;
                error = $"The answer's body could not be read: {e.Message}";
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down: nothing is recorded; the claim expires and another round sends it again.
            throw;
        }
        catch (OperationCanceledException)
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
        catch (Exception e)
        {
            // HttpIOException (a connection cut mid-answer), socket errors, anything else: a failed attempt, never a lost one.
            error = e.Message;
        }
        var duration = clock.GetElapsedTime(started);
        try
        {
            await RecordAsync(due, at, status, Truncate(error, WebhookRules.MaxErrorLength), snippet, (int)duration.TotalMilliseconds, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // One delivery's record failing must not cost the others theirs; its claim expires and it is sent again.
            logger.LogWarning(e, "Could not record attempt of webhook delivery {DeliveryId}; it is sent again after {Lease}", due.Id, Lease);
        }
        return status is not null;
    }

    /// <summary>
    /// Records an attempt. The outcome is written only while this instance's claim holds (<c>NextAttemptAt</c> still
    /// its lease): an admin's retry in the meantime wins, and the delivery stays due now. A deleted delivery (its
    /// endpoint deleted during the send) is gone, not an error.
    /// </summary>
    private async Task RecordAsync(Due due, DateTimeOffset at, int? status, string? error, string? snippet, int durationMs, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var attempts = due.Attempts + 1;
        var succeeded = status is >= 200 and < 300;
        var outcome = succeeded ? WebhookDeliveryStatus.Succeeded
            : attempts > RetrySchedule.Count ? WebhookDeliveryStatus.Failed
            : WebhookDeliveryStatus.Pending;
        DateTimeOffset? next = outcome == WebhookDeliveryStatus.Pending ? at + RetrySchedule[attempts - 1] : null;
        DateTimeOffset? deliveredAt = succeeded ? at : null;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var owned = await db.WebhookDeliveries
            .Where(d => d.Id == due.Id && d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt == due.Lease)
            .ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Attempts, d => d.Attempts + 1)
                .SetProperty(d => d.LastStatusCode, status)
                .SetProperty(d => d.LastError, error)
                .SetProperty(d => d.Status, outcome)
                .SetProperty(d => d.NextAttemptAt, next)
                .SetProperty(d => d.DeliveredAt, deliveredAt), ct);
        var exists = owned == 1 || await db.WebhookDeliveries
            .Where(d => d.Id == due.Id)
            .ExecuteUpdateAsync(u => u
                .SetProperty(d => d.Attempts, d => d.Attempts + 1)
                .SetProperty(d => d.LastStatusCode, status)
                .SetProperty(d => d.LastError, error), ct) == 1;
        if (!exists) return; // its endpoint was deleted meanwhile
        db.WebhookAttempts.Add(new WebhookAttempt { DeliveryId = due.Id, At = at, StatusCode = status, DurationMs = durationMs, Error = error, ResponseSnippet = snippet });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        // Ids and outcomes only: never the secret, the signature or the URL (which may carry a token of the receiver's).
        logger.LogInformation("Webhook delivery {DeliveryId} to endpoint {EndpointId}, attempt {Attempt}: {Status} {Outcome}",
            due.Id, due.EndpointId, attempts, status?.ToString() ?? "no answer", owned == 1 ? outcome : "retry requested meanwhile");
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
