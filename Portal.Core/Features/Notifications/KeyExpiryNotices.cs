using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Email;

namespace Portal.Core.Features.Notifications;

/// <summary>
/// The expiry notices: "expires within 7 days" and "has expired", each once per key, by email to the key's owner (a
/// personal key) or its application's account members, and as the webhook events <c>api_key.expiring</c> and
/// <c>api_key.expired</c> (through the audit entry each notice writes).
/// <para>
/// A sweep reads the keys due in a window from the index on (ExpiresAt, Id), a batch at a time by keyset, never all
/// keys. Each notice is one save: the <see cref="ApiKeyNotice"/> row (unique per key and kind), the emails and the audit
/// entry. Two instances sweeping at once both try; the unique row lets one save win and the other fail as a whole, so
/// nobody gets a notice twice, across restarts too.
/// </para>
/// </summary>
public sealed class KeyExpiryNotices(
    IDbContextFactory<PortalDbContext> dbFactory,
    Notifier notifier,
    IOptions<PortalOptions> options,
    TimeProvider clock,
    ILogger<KeyExpiryNotices> logger)
{
    public const int BatchSize = 500;

    /// <summary>Keys that expired longer ago than this get no "expired" notice: turning notices on does not mail about old keys.</summary>
    public static readonly TimeSpan ExpiredLookback = TimeSpan.FromDays(7);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var interval = TimeSpan.FromMinutes(Math.Max(1, options.Value.Notifications.SweepMinutes));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Key expiry sweep failed; trying again in {Interval}", interval);
            }
            try
            {
                await Task.Delay(interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One sweep of both notices; answers how many notices this call sent (not those another instance won).</summary>
    public async Task<int> SweepAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        EmailBrand brand;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            brand = await EmailTemplate.BrandAsync(db, ct);
        var days = Math.Max(1, options.Value.Notifications.ExpiringDays);
        var sent = await SweepAsync(KeyNoticeKind.Expiring, now, now.AddDays(days), brand, now, ct);
        sent += await SweepAsync(KeyNoticeKind.Expired, now - ExpiredLookback, now, brand, now, ct);
        if (sent > 0) notifier.Wake();
        return sent;
    }

    private sealed record Due(Guid Id, string Name, Guid? ApplicationId, Guid? OwnerUserId, DateTimeOffset ExpiresAt);

    /// <summary>Keys expiring in (from, to] without this notice yet, in (ExpiresAt, Id) order, batch after batch.</summary>
    private async Task<int> SweepAsync(KeyNoticeKind kind, DateTimeOffset from, DateTimeOffset to, EmailBrand brand, DateTimeOffset now, CancellationToken ct)
    {
        var sent = 0;
        DateTimeOffset? lastAt = null;
        // The keys of the last batch that share its last expiry: the next batch starts at that expiry without them.
        var seenAtLast = new List<Guid>();
        while (true)
        {
            List<Due> batch;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                var keys = db.ApiKeys.AsNoTracking().Where(k => k.RevokedAt == null && k.ExpiresAt > from && k.ExpiresAt <= to);
                if (lastAt is { } at)
                {
                    var seen = seenAtLast;
                    keys = keys.Where(k => k.ExpiresAt >= at && (k.ExpiresAt > at || !seen.Contains(k.Id)));
                }
                batch = await keys
                    .Where(k => !db.ApiKeyNotices.Any(n => n.KeyId == k.Id && n.Kind == kind))
                    .OrderBy(k => k.ExpiresAt).ThenBy(k => k.Id)
                    .Take(BatchSize)
                    .Select(k => new Due(k.Id, k.Name, k.ApplicationId, k.OwnerUserId, k.ExpiresAt!.Value))
                    .ToListAsync(ct);
            }
            foreach (var key in batch)
                if (await NoticeAsync(key, kind, brand, now, ct)) sent++;
            if (batch.Count < BatchSize) return sent;
            var last = batch[^1].ExpiresAt;
            if (last != lastAt) seenAtLast = [];
            seenAtLast.AddRange(batch.Where(k => k.ExpiresAt == last).Select(k => k.Id));
            lastAt = last;
        }
    }

    /// <summary>One key's notice in one save; false when another sweep has sent it (its row exists).</summary>
    private async Task<bool> NoticeAsync(Due key, KeyNoticeKind kind, EmailBrand brand, DateTimeOffset now, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var notification = kind == KeyNoticeKind.Expiring ? NotificationKind.ApiKeyExpiring : NotificationKind.ApiKeyExpired;
        string keyName, whose, targetType;
        IQueryable<string> recipients;
        string? link;
        if (key.ApplicationId is { } applicationId)
        {
            var app = await db.Applications.AsNoTracking().Where(a => a.Id == applicationId)
                .Select(a => new { a.Name, a.AccountId, Account = db.Accounts.Where(x => x.Id == a.AccountId).Select(x => x.Name).FirstOrDefault() })
                .FirstOrDefaultAsync(ct);
            if (app is null) return false;
            keyName = $"{app.Name} key";
            whose = $"You get this email as a member of the account {app.Account}.";
            recipients = Notifier.AccountMembers(db, app.AccountId, notification);
            link = notifier.Link($"/applications/{applicationId}");
            targetType = "application-key";
        }
        else if (key.OwnerUserId is { } ownerId)
        {
            keyName = key.Name;
            whose = "You get this email as the owner of the key.";
            recipients = Notifier.User(db, ownerId, notification);
            link = notifier.Link("/api-keys");
            targetType = "api-key";
        }
        else
        {
            return false;
        }

        db.ApiKeyNotices.Add(new ApiKeyNotice { KeyId = key.Id, Kind = kind, SentAt = now, ExpiresAt = key.ExpiresAt });
        var template = kind == KeyNoticeKind.Expiring
            ? NotificationEmails.KeyExpiring(keyName, key.ExpiresAt, whose, link)
            : NotificationEmails.KeyExpired(keyName, key.ExpiresAt, whose, link);
        await notifier.AddAsync(db, recipients, template, brand, now, ct);
        db.Audit.Add(AuditEntry.For(Actor.System, kind == KeyNoticeKind.Expiring ? AuditActions.ApiKeyExpiring : AuditActions.ApiKeyExpired, now,
            targetType, key.Id.ToString(), keyName, KeyNoticeDetails.Format(key.ExpiresAt, key.ApplicationId)));
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another instance's sweep sent this notice first; its save holds the emails and the event.
            if (await SentAsync(key.Id, kind, ct)) return false;
            throw;
        }
    }

    private async Task<bool> SentAsync(Guid keyId, KeyNoticeKind kind, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeyNotices.AnyAsync(n => n.KeyId == keyId && n.Kind == kind, ct);
    }
}

/// <summary>The details of an expiry notice's audit entry (<c>expires: …; application: …</c>), and their reading back for the webhook event.</summary>
public static class KeyNoticeDetails
{
    public static string Format(DateTimeOffset expiresAt, Guid? applicationId) =>
        $"expires: {expiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}"
        + (applicationId is { } app ? $"; application: {app}" : "");

    /// <summary><c>expiresAt</c> and, for an application's key, <c>applicationId</c>.</summary>
    public static IEnumerable<(string Name, string Value)> Parse(string? details)
    {
        foreach (var part in (details ?? "").Split("; ", StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("expires: ", StringComparison.Ordinal)) yield return ("expiresAt", part["expires: ".Length..]);
            else if (part.StartsWith("application: ", StringComparison.Ordinal)) yield return ("applicationId", part["application: ".Length..]);
        }
    }
}
