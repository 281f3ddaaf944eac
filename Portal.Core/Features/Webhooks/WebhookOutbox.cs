using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Portal.Core.Features.Audit;
using Portal.Core.Common;

namespace Portal.Core.Features.Webhooks;

/// <summary>
/// Turns the audit entries a SaveChanges adds into outbox events in the same SaveChanges, so an event exists exactly
/// when its change was committed. Services write their audit entry anyway; none of them needs to know about webhooks.
/// A save without audit entries (usage batches, quota counters, the hot path) costs one look at the change tracker.
/// </summary>
public sealed class WebhookOutbox(WakeSignal signal) : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } db) AddEvents(db);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } db) AddEvents(db);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        WakeIfAny(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        WakeIfAny(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private static void AddEvents(DbContext db)
    {
        var added = Tracked<AuditEntry>(db).Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        foreach (var audit in added)
            if (WebhookEventTypes.ForAuditAction(audit.Action) is { } type)
                db.Add(new WebhookOutboxEvent { Type = type, OccurredAt = audit.At, Data = DataOf(audit) });
    }

    private void WakeIfAny(DbContext? db)
    {
        if (db is not null && Tracked<WebhookOutboxEvent>(db).Any()) signal.Wake();
    }

    /// <summary>
    /// The tracked entries of one type, without the change detection <c>Entries</c> runs first: SaveChanges runs its own,
    /// and a usage batch tracks thousands of rows. Entities added with <c>Add</c> are tracked without it.
    /// </summary>
    private static List<Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry<T>> Tracked<T>(DbContext db) where T : class
    {
        var tracker = db.ChangeTracker;
        var detect = tracker.AutoDetectChangesEnabled;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            return [.. tracker.Entries<T>()];
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = detect;
        }
    }

    /// <summary>
    /// The event's <c>data</c>: which object changed and who changed it. Built from the audit entry, which never holds
    /// key material or passwords, so neither does an event. Key events also carry <c>keyId</c> (and, for an
    /// application's key, whose audit entry is about the application, <c>applicationId</c>).
    /// </summary>
    internal static string DataOf(AuditEntry audit)
    {
        var data = new JsonObject
        {
            ["object"] = audit.TargetType,
            ["id"] = audit.TargetId,
            ["name"] = audit.Target,
            ["details"] = audit.Details,
            ["actor"] = new JsonObject { ["id"] = audit.ActorId?.ToString(), ["email"] = audit.ActorEmail },
        };
        switch (audit.Action)
        {
            case AuditActions.ApplicationKeyCreated or AuditActions.ApplicationKeyRevoked:
                // ApplicationService writes "key: {id}" as the details of both.
                if (audit.Details is { } details && details.StartsWith(ApplicationKeyDetailsPrefix, StringComparison.Ordinal)
                    && Guid.TryParse(details.AsSpan(ApplicationKeyDetailsPrefix.Length), out var keyId))
                    data["keyId"] = keyId.ToString();
                data["applicationId"] = audit.TargetId;
                break;
            case AuditActions.ApiKeyCreated or AuditActions.ApiKeyRevoked or AuditActions.ApiKeyRegenerated or AuditActions.ApiKeyDeleted:
                data["keyId"] = audit.TargetId;
                break;
            case AuditActions.ApiKeyExpiring or AuditActions.ApiKeyExpired:
                // The expiry sweep's entries are about the key; their details carry the expiry and the application.
                data["keyId"] = audit.TargetId;
                foreach (var (name, value) in Notifications.KeyNoticeDetails.Parse(audit.Details))
                    data[name] = value;
                break;
            case AuditActions.QuotaThresholdReached or AuditActions.SpendingThresholdReached:
                // The alert's entries are about the subscription; their details carry the numbers (Quotas.AlertDetails).
                data["subscriptionId"] = audit.TargetId;
                foreach (var (name, value) in Quotas.AlertDetails.Parse(audit.Details))
                    data[name] = value;
                break;
        }
        return data.ToJsonString();
    }

    private const string ApplicationKeyDetailsPrefix = "key: ";

    /// <summary>The body every attempt sends: <c>{id, type, timestamp, data}</c>.</summary>
    internal static string Body(Guid eventId, string type, DateTimeOffset occurredAt, string data) => new JsonObject
    {
        ["id"] = eventId.ToString(),
        ["type"] = type,
        ["timestamp"] = occurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
        ["data"] = JsonNode.Parse(data),
    }.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
