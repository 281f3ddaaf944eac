using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;

namespace Portal.Core.Features.Billing;

/// <summary>
/// The calls a subscription's plan counts in a billing month (calendar month, UTC): the VALID answers to
/// verifications and gateway calls, read from the quota totals (<c>QuotaCounters</c>), which are the numbers the quotas
/// enforce. Every subscription has them, limited or not, on one instance or several. A month is the sum of the rows
/// whose period starts in it: one monthly row, or a row per day for a daily quota (both if the plan's period
/// changed in the month; each call is in exactly one of them). Reads an index range, never raw events.
/// </summary>
public static class BillableUsage
{
    /// <summary>The first instant of the month holding <paramref name="at"/> (UTC).</summary>
    public static DateTimeOffset MonthStart(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>The most subscriptions <see cref="CallsWithCurrentPeriodsAsync"/> reads at once (one statement).</summary>
    public const int MaxInOneRead = 500;

    /// <summary>
    /// <see cref="CallsAsync"/> together with what the current periods' rows hold (the month's own row, and the row of
    /// the day starting at <paramref name="day"/>), from one statement and so one snapshot: the counters are flushed in
    /// the background, and two reads on either side of a flush would count the current period's calls twice or not at
    /// all. At most <see cref="MaxInOneRead"/> subscriptions.
    /// </summary>
    public static async Task<Dictionary<Guid, MonthCalls>> CallsWithCurrentPeriodsAsync(
        PortalDbContext db, IReadOnlyCollection<Guid> subscriptionIds, DateTimeOffset month, DateTimeOffset day, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(subscriptionIds.Count, MaxInOneRead);
        if (subscriptionIds.Count == 0) return [];
        var end = month.AddMonths(1);
        var ids = subscriptionIds.ToList();
        return await db.QuotaCounters.AsNoTracking()
            .Where(c => ids.Contains(c.SubscriptionId) && c.PeriodStart >= month && c.PeriodStart < end)
            .GroupBy(c => c.SubscriptionId)
            .Select(g => new
            {
                g.Key,
                Calls = g.Sum(c => c.Used),
                MonthRow = g.Sum(c => c.PeriodStart == month ? c.Used : 0L),
                DayRow = g.Sum(c => c.PeriodStart == day ? c.Used : 0L),
            })
            .ToDictionaryAsync(r => r.Key, r => new MonthCalls(r.Calls, r.MonthRow, r.DayRow), ct);
    }

    /// <summary>Billable calls per subscription in the month starting at <paramref name="month"/>; subscriptions without calls are absent.</summary>
    public static async Task<Dictionary<Guid, long>> CallsAsync(PortalDbContext db, IReadOnlyCollection<Guid> subscriptionIds, DateTimeOffset month, CancellationToken ct)
    {
        var result = new Dictionary<Guid, long>(subscriptionIds.Count);
        // Chunks keep the IN list within every engine's parameter limits: one statement each, the current periods' sums unread.
        foreach (var chunk in subscriptionIds.Chunk(MaxInOneRead))
            foreach (var (id, calls) in await CallsWithCurrentPeriodsAsync(db, chunk, month, month, ct))
                result[id] = calls.Calls;
        return result;
    }

    /// <summary>Every subscription with billable calls in the month, and how many (for all-account statements).</summary>
    public static Task<Dictionary<Guid, long>> AllCallsAsync(PortalDbContext db, DateTimeOffset month, CancellationToken ct)
    {
        var end = month.AddMonths(1);
        return db.QuotaCounters.AsNoTracking()
            .Where(c => c.PeriodStart >= month && c.PeriodStart < end)
            .GroupBy(c => c.SubscriptionId)
            .Select(g => new { g.Key, Calls = g.Sum(c => c.Used) })
            .ToDictionaryAsync(r => r.Key, r => r.Calls, ct);
    }
}

/// <summary>A subscription's calls in a month, and the part of them in the month's own row and in one day's row.</summary>
public readonly record struct MonthCalls(long Calls, long MonthRow, long DayRow);
