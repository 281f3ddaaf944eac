using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;

namespace Portal.Core.Features.Notifications;

/// <summary>
/// Which notification emails the user gets (<c>notifications</c> of <c>GET /api/v1/me/profile</c>). The welcome is not
/// among them: it is sent at sign-up, before anyone could choose.
/// </summary>
public sealed record NotificationChoices(bool SubscriptionApproved, bool SubscriptionRejected, bool ApiKeyExpiring, bool ApiKeyExpired,
    bool QuotaThreshold = true, bool SpendingThreshold = true)
{
    public static readonly NotificationChoices AllOn = new(true, true, true, true, true, true);
}

/// <summary>A change of some choices (<c>PATCH /api/v1/me/profile {"notifications": {...}}</c>): a null field is left as it is.</summary>
public sealed class UpdateNotificationChoices
{
    public bool? SubscriptionApproved { get; set; }
    public bool? SubscriptionRejected { get; set; }
    public bool? ApiKeyExpiring { get; set; }
    public bool? ApiKeyExpired { get; set; }
    public bool? QuotaThreshold { get; set; }
    public bool? SpendingThreshold { get; set; }

    internal IEnumerable<(NotificationKind Kind, bool Enabled)> Changes()
    {
        if (SubscriptionApproved is { } a) yield return (NotificationKind.SubscriptionApproved, a);
        if (SubscriptionRejected is { } r) yield return (NotificationKind.SubscriptionRejected, r);
        if (ApiKeyExpiring is { } soon) yield return (NotificationKind.ApiKeyExpiring, soon);
        if (ApiKeyExpired is { } expired) yield return (NotificationKind.ApiKeyExpired, expired);
        if (QuotaThreshold is { } quota) yield return (NotificationKind.QuotaThreshold, quota);
        if (SpendingThreshold is { } spending) yield return (NotificationKind.SpendingThreshold, spending);
    }
}

/// <summary>Reads and writes a user's choices (rows only for what the user set; no row is "on").</summary>
public static class NotificationPreferences
{
    public static async Task<NotificationChoices> OfAsync(PortalDbContext db, Guid userId, CancellationToken ct)
    {
        var off = await db.NotificationPreferences.AsNoTracking()
            .Where(p => p.UserId == userId && !p.Enabled).Select(p => p.Kind).ToListAsync(ct);
        return new NotificationChoices(
            !off.Contains(NotificationKind.SubscriptionApproved), !off.Contains(NotificationKind.SubscriptionRejected),
            !off.Contains(NotificationKind.ApiKeyExpiring), !off.Contains(NotificationKind.ApiKeyExpired),
            !off.Contains(NotificationKind.QuotaThreshold), !off.Contains(NotificationKind.SpendingThreshold));
    }

    /// <summary>Adds the changes to <paramref name="db"/> (the caller saves); answers the ones that change something, as "kind on|off".</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(PortalDbContext db, Guid userId, UpdateNotificationChoices update, CancellationToken ct)
    {
        var rows = await db.NotificationPreferences.Where(p => p.UserId == userId).ToDictionaryAsync(p => p.Kind, ct);
        var changed = new List<string>();
        foreach (var (kind, enabled) in update.Changes())
        {
            var current = rows.TryGetValue(kind, out var row) ? row.Enabled : true;
            if (current == enabled) continue;
            if (row is null) db.NotificationPreferences.Add(new NotificationPreference { UserId = userId, Kind = kind, Enabled = enabled });
            else row.Enabled = enabled;
            changed.Add($"{kind} {(enabled ? "on" : "off")}");
        }
        return changed;
    }
}
