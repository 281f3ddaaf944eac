using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Domain;

namespace Portal.Core.Features.Verification;

/// <summary>
/// The durable quota totals (<c>QuotaCounters</c>), what billing reads. Written only by addition, so any number of
/// instances (and a flush racing a write-through) add up instead of overwriting each other.
/// </summary>
internal static class QuotaTotals
{
    /// <summary>
    /// Adds each delta to its row (<c>UPDATE … SET Used = Used + n</c>), creating the row when there is none yet; a
    /// subscription deleted meanwhile is skipped (its counters went with it). Rows in a fixed order, one statement
    /// each, so two instances adding at once neither deadlock nor overwrite each other. Returns the rows not
    /// written (each row is written or not on its own, so only those may be retried) and why.
    /// </summary>
    public static async Task<(List<T> Failed, Exception? Error)> AddAsync<T>(IDbContextFactory<PortalDbContext> dbFactory,
        IReadOnlyList<T> items, Func<T, (Guid SubscriptionId, DateTimeOffset PeriodStart, long Delta)> delta, CancellationToken ct)
    {
        var failed = new List<T>();
        Exception? error = null;
        if (items.Count == 0) return (failed, error);
        PortalDbContext? db = null;
        try
        {
            db = await dbFactory.CreateDbContextAsync(ct);
            foreach (var item in items.OrderBy(i => delta(i).SubscriptionId).ThenBy(i => delta(i).PeriodStart))
            {
                if (error is not null || ct.IsCancellationRequested)
                {
                    failed.Add(item);
                    continue;
                }
                try
                {
                    var (id, start, n) = delta(item);
                    if (n != 0) await AddOneAsync(db, id, start, n, ct);
                }
                catch (Exception e)
                {
                    // The connection is likely gone: the rest waits for the next flush.
                    (error, failed) = (e, [.. failed, item]);
                }
            }
        }
        catch (Exception e)
        {
            return ([.. items], e);
        }
        finally
        {
            if (db is not null) await db.DisposeAsync();
        }
        return (failed, error);
    }

    private static async Task AddOneAsync(PortalDbContext db, Guid id, DateTimeOffset start, long delta, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var updated = await db.QuotaCounters.Where(c => c.SubscriptionId == id && c.PeriodStart == start)
                .ExecuteUpdateAsync(set => set.SetProperty(c => c.Used, c => c.Used + delta), ct);
            if (updated > 0 || !await db.Subscriptions.AnyAsync(s => s.Id == id, ct)) return;
            var row = new QuotaCounter { SubscriptionId = id, PeriodStart = start, Used = delta };
            db.QuotaCounters.Add(row);
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // Another instance created the row first (or the subscription just went): add to it instead.
                db.Entry(row).State = EntityState.Detached;
            }
        }
    }

    /// <summary>The saved total of one subscription's period (0 when nothing was saved yet).</summary>
    public static async Task<long> ReadAsync(IDbContextFactory<PortalDbContext> dbFactory, Guid subscriptionId, DateTimeOffset periodStart, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.QuotaCounters.AsNoTracking()
            .Where(c => c.SubscriptionId == subscriptionId && c.PeriodStart == periodStart)
            .Select(c => (long?)c.Used)
            .FirstOrDefaultAsync(ct) ?? 0;
    }
}
