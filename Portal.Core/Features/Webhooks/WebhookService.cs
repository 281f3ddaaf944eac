using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;

namespace Portal.Core.Features.Webhooks;

/// <summary>Webhook endpoints, their secrets and their delivery log. Sending is <see cref="WebhookDispatcher"/>'s work.</summary>
public sealed class WebhookService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IWebhookSecretProtector protector,
    WakeSignal signal,
    TimeProvider clock)
{
    private const string TargetType = "webhook";

    public Result<WebhookEventType[]> EventTypes(Actor actor)
    {
        if (!actor.Can(Permission.WebhookEventTypesRead)) return Errors.Forbidden;
        return WebhookEventTypes.All.ToArray();
    }

    public async Task<Result<PagedResult<WebhookEndpointDto>>> ListAsync(Actor actor, PageQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoints = db.WebhookEndpoints.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim().ToLower();
            endpoints = endpoints.Where(e => e.Url.ToLower().Contains(term) || (e.Description != null && e.Description.ToLower().Contains(term)));
        }
        var total = await endpoints.CountAsync(ct);
        var rows = await endpoints.OrderByDescending(e => e.CreatedAt).Skip(query.Skip).Take(query.Take)
            .Select(e => new
            {
                Endpoint = e,
                Last = db.WebhookDeliveries.Where(d => d.EndpointId == e.Id).OrderByDescending(d => d.CreatedAt)
                    .Select(d => new WebhookLastDelivery(d.Status, d.DeliveredAt ?? d.CreatedAt, d.LastStatusCode, d.EventType))
                    .FirstOrDefault(),
            })
            .ToListAsync(ct);
        return new PagedResult<WebhookEndpointDto>([.. rows.Select(r => ToDto(r.Endpoint, r.Last))], Math.Max(query.Page, 1), query.Take, total);
    }

    public async Task<Result<WebhookEndpointDto>> GetAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null) return Errors.NotFound;
        return ToDto(endpoint, await LastDeliveryAsync(db, id, ct));
    }

    public async Task<Result<WebhookCreated>> CreateAsync(Actor actor, CreateWebhook request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksManage)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        var now = clock.GetUtcNow();
        var secret = WebhookSignature.NewSecret();
        var endpoint = new WebhookEndpoint
        {
            Url = request.Url.Trim(),
            Description = Blank(request.Description),
            EventTypes = Join(request.EventTypes),
            Enabled = request.Enabled,
            CreatedAt = now,
            UpdatedAt = now,
        };
        SetSecret(endpoint, secret);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.WebhookEndpoints.Add(endpoint);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.WebhookCreated, now, TargetType, endpoint.Id.ToString(), endpoint.Url,
            $"events: {endpoint.EventTypes}; enabled: {endpoint.Enabled}"));
        await db.SaveChangesAsync(ct);
        return new WebhookCreated(ToDto(endpoint, null), secret);
    }

    public async Task<Result<WebhookEndpointDto>> UpdateAsync(Actor actor, Guid id, UpdateWebhook request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksManage)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null) return Errors.NotFound;
        var changes = new List<string>();
        if (request.Url is { } url && url.Trim() != endpoint.Url)
        {
            endpoint.Url = url.Trim();
            changes.Add($"url: {endpoint.Url}");
        }
        if (request.Description is { } description && Blank(description) != endpoint.Description)
        {
            endpoint.Description = Blank(description);
            changes.Add("description");
        }
        if (request.EventTypes is { } types && Join(types) != endpoint.EventTypes)
        {
            endpoint.EventTypes = Join(types);
            changes.Add($"events: {endpoint.EventTypes}");
        }
        if (request.Enabled is { } enabled && enabled != endpoint.Enabled)
        {
            endpoint.Enabled = enabled;
            changes.Add(enabled ? "enabled" : "disabled");
        }
        if (changes.Count > 0)
        {
            endpoint.UpdatedAt = clock.GetUtcNow();
            db.Audit.Add(AuditEntry.For(actor, AuditActions.WebhookUpdated, endpoint.UpdatedAt, TargetType, id.ToString(), endpoint.Url, string.Join("; ", changes)));
            await db.SaveChangesAsync(ct);
            // Re-enabled: deliveries held while it was off are due now.
            if (request.Enabled == true) signal.Wake();
        }
        return ToDto(endpoint, await LastDeliveryAsync(db, id, ct));
    }

    public async Task<Result<Unit>> DeleteAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksManage)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null) return Errors.NotFound;
        db.WebhookEndpoints.Remove(endpoint);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.WebhookDeleted, clock.GetUtcNow(), TargetType, id.ToString(), endpoint.Url));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    /// <summary>A new secret at once: the old one stops signing from the next attempt.</summary>
    public async Task<Result<WebhookSecret>> RotateSecretAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksManage)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null) return Errors.NotFound;
        var secret = WebhookSignature.NewSecret();
        SetSecret(endpoint, secret);
        endpoint.UpdatedAt = clock.GetUtcNow();
        db.Audit.Add(AuditEntry.For(actor, AuditActions.WebhookSecretRotated, endpoint.UpdatedAt, TargetType, id.ToString(), endpoint.Url));
        await db.SaveChangesAsync(ct);
        return new WebhookSecret(id, secret, WebhookSignature.Mask(endpoint.SecretLast4));
    }

    /// <summary>The current secret, for an admin setting up a receiver; every reveal is audited.</summary>
    public async Task<Result<WebhookSecret>> RevealSecretAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksManage)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null) return Errors.NotFound;
        string secret;
        try
        {
            secret = protector.Unprotect(endpoint.ProtectedSecret);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // The data-protection key that encrypted it is gone (key ring lost or replaced): nothing was revealed.
            return new WebhookSecretUnreadable();
        }
        db.Audit.Add(AuditEntry.For(actor, AuditActions.WebhookSecretRevealed, clock.GetUtcNow(), TargetType, id.ToString(), endpoint.Url));
        await db.SaveChangesAsync(ct);
        return new WebhookSecret(id, secret, WebhookSignature.Mask(endpoint.SecretLast4));
    }

    /// <summary>Queues a <c>webhook.test</c> event for this endpoint alone (subscribed to it or not) and wakes the dispatcher.</summary>
    public async Task<Result<WebhookDeliveryDto>> SendTestAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksManage)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null) return Errors.NotFound;
        if (!endpoint.Enabled) return new WebhookEndpointDisabled();
        var now = clock.GetUtcNow();
        var eventId = Guid.CreateVersion7();
        var data = new System.Text.Json.Nodes.JsonObject
        {
            ["message"] = "A test event from the portal.",
            ["endpointId"] = id.ToString(),
            ["actor"] = new System.Text.Json.Nodes.JsonObject { ["id"] = actor.UserId == Guid.Empty ? null : actor.UserId.ToString(), ["email"] = actor.Email },
        }.ToJsonString();
        var delivery = WebhookDispatcher.NewDelivery(endpoint.Id, eventId, WebhookEventTypes.Test, WebhookOutbox.Body(eventId, WebhookEventTypes.Test, now, data), now);
        db.WebhookDeliveries.Add(delivery);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.WebhookTestSent, now, TargetType, id.ToString(), endpoint.Url, $"delivery: {delivery.Id}"));
        await db.SaveChangesAsync(ct);
        signal.Wake();
        return ToDto(delivery);
    }

    public async Task<Result<PagedResult<WebhookDeliveryDto>>> ListDeliveriesAsync(Actor actor, Guid id, WebhookDeliveryQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.WebhookEndpoints.AnyAsync(e => e.Id == id, ct)) return Errors.NotFound;
        var deliveries = db.WebhookDeliveries.AsNoTracking().Where(d => d.EndpointId == id);
        if (query.Status is { } status) deliveries = deliveries.Where(d => d.Status == status);
        var total = await deliveries.CountAsync(ct);
        var page = await deliveries.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id)
            .Skip(query.Skip).Take(query.Take)
            .Include(d => d.AttemptLog)
            .AsSplitQuery()
            .ToListAsync(ct);
        return new PagedResult<WebhookDeliveryDto>([.. page.Select(ToDto)], Math.Max(query.Page, 1), query.Take, total);
    }

    /// <summary>
    /// Sends a delivery again as soon as the dispatcher runs, whatever its state; a failure then follows the schedule
    /// from its attempt count. A retry asked for while an attempt is in flight wins: that attempt is logged, and the
    /// delivery is sent again.
    /// </summary>
    public async Task<Result<WebhookDeliveryDto>> RetryDeliveryAsync(Actor actor, Guid id, Guid deliveryId, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.WebhooksManage)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null) return Errors.NotFound;
        if (!await db.WebhookDeliveries.AnyAsync(d => d.Id == deliveryId && d.EndpointId == id, ct)) return Errors.NotFound;
        if (!endpoint.Enabled) return new WebhookEndpointDisabled();
        var now = clock.GetUtcNow();
        // One statement, not read-then-overwrite: the dispatcher writes the same row when an attempt ends.
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var changed = await db.WebhookDeliveries.Where(d => d.Id == deliveryId && d.EndpointId == id)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(d => d.Status, WebhookDeliveryStatus.Pending)
                    .SetProperty(d => d.NextAttemptAt, now)
                    .SetProperty(d => d.DeliveredAt, (DateTimeOffset?)null), ct);
            if (changed == 0) return Errors.NotFound; // deleted meanwhile
            var eventType = await db.WebhookDeliveries.Where(d => d.Id == deliveryId).Select(d => d.EventType).SingleAsync(ct);
            db.Audit.Add(AuditEntry.For(actor, AuditActions.WebhookDeliveryRetried, now, TargetType, id.ToString(), endpoint.Url,
                $"delivery: {deliveryId}; event: {eventType}"));
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        signal.Wake();
        var delivery = await db.WebhookDeliveries.AsNoTracking().Include(d => d.AttemptLog).SingleOrDefaultAsync(d => d.Id == deliveryId, ct);
        return delivery is null ? Errors.NotFound : ToDto(delivery);
    }

    private void SetSecret(WebhookEndpoint endpoint, string secret)
    {
        endpoint.ProtectedSecret = protector.Protect(secret);
        endpoint.SecretLast4 = WebhookSignature.Last4(secret);
    }

    private static Task<WebhookLastDelivery?> LastDeliveryAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        db.WebhookDeliveries.Where(d => d.EndpointId == id).OrderByDescending(d => d.CreatedAt)
            .Select(d => new WebhookLastDelivery(d.Status, d.DeliveredAt ?? d.CreatedAt, d.LastStatusCode, d.EventType))
            .FirstOrDefaultAsync(ct);

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    // Catalogue order, so the same choice always reads the same.
    private static string Join(IEnumerable<string> types)
    {
        var chosen = types.ToHashSet(StringComparer.Ordinal);
        return string.Join(' ', WebhookEventTypes.All.Select(t => t.Name).Where(chosen.Contains));
    }

    internal static WebhookEndpointDto ToDto(WebhookEndpoint e, WebhookLastDelivery? last) =>
        new(e.Id, e.Url, e.Description, e.EventTypeList, e.Enabled, WebhookSignature.Mask(e.SecretLast4), e.CreatedAt, e.UpdatedAt, last);

    internal static WebhookDeliveryDto ToDto(WebhookDelivery d) =>
        new(d.Id, d.EndpointId, d.EventId, d.EventType, d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.NextAttemptAt, d.CreatedAt,
            d.DeliveredAt, d.Payload, [.. d.AttemptLog.OrderBy(a => a.At).Select(a => new WebhookAttemptDto(a.At, a.StatusCode, a.DurationMs, a.Error, a.ResponseSnippet))]);
}
