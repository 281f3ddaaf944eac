using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Verification;

namespace Portal.Core.Features.Quotas;

/// <summary>The quota period holding now (a UTC day or month).</summary>
public sealed record UsagePeriodDto(DateTimeOffset Start, DateTimeOffset End);

/// <summary>The plan's rate limit: <c>limit</c> calls per <c>window</c> (Second or Minute).</summary>
public sealed record RateLimitDto(int Limit, RateLimitWindow Window);

/// <summary>The quota this period: <c>limit</c> and <c>remaining</c> null when the plan has none (used still counts).</summary>
public sealed record QuotaUsageDto(long? Limit, long Used, long? Remaining, DateTimeOffset ResetAt, QuotaPeriod Period);

public sealed record CostDto(string Currency, decimal Amount);

/// <summary>
/// <c>GET /api/v1/subscriptions/{id}/usage</c>: the quota period's use as the limiter counts it now, and this billing
/// month's (UTC calendar month) billable calls and their cost so far.
/// </summary>
public sealed record SubscriptionUsageDto(
    Guid SubscriptionId,
    SubscriptionStatus Status,
    string PlanName,
    PlanType PlanType,
    UsagePeriodDto Period,
    RateLimitDto? RateLimit,
    QuotaUsageDto Quota,
    long Calls,
    CostDto Cost,
    DateTimeOffset Month);

/// <summary>
/// What a subscription has used and what it costs so far: the numbers the quota panels and
/// <c>GET /api/v1/subscriptions/{id}/usage</c> show. Quota used is the limiter's live count (<see cref="ILimitStore.PeekAsync"/>:
/// this instance's memory, or Redis's total with several), not only what has reached the database; the month's calls
/// are the database's month (<see cref="BillableUsage"/>) with the current period's part replaced by that live count,
/// priced by <see cref="PlanPricing"/>.
/// </summary>
public sealed class SubscriptionUsageService(IDbContextFactory<PortalDbContext> dbFactory, ILimitStore limits, TimeProvider clock)
{
    /// <summary>The most subscriptions one <see cref="ListAsync"/> answers (a page shows a handful).</summary>
    public const int MaxPerList = 100;

    /// <summary>Developers their accounts' subscriptions, admins and read-only any; another's id is not found.</summary>
    public async Task<Result<SubscriptionUsageDto>> GetAsync(Actor actor, Guid subscriptionId, CancellationToken ct = default)
    {
        var list = await ListAsync(actor, [subscriptionId], ct);
        if (!list.IsSuccess) return list.Error!;
        return list.Value.Count == 0 ? Errors.NotFound : list.Value[0];
    }

    /// <summary>The usage of those of <paramref name="subscriptionIds"/> the actor may see (others are left out), in that order.</summary>
    public async Task<Result<IReadOnlyList<SubscriptionUsageDto>>> ListAsync(Actor actor, IReadOnlyList<Guid> subscriptionIds, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.SubscriptionsRead)) return Errors.Forbidden;
        if (subscriptionIds.Count > MaxPerList) return ValidationError.For("subscriptionIds", $"At most {MaxPerList} subscriptions at once.");
        if (subscriptionIds.Count == 0) return Array.Empty<SubscriptionUsageDto>();
        var ids = subscriptionIds.Distinct().ToList();
        var now = clock.GetUtcNow();
        var month = BillableUsage.MonthStart(now);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await (from s in SubscriptionService.Scoped(db, actor)
                          join p in db.Plans.AsNoTracking() on s.PlanId equals p.Id
                          where ids.Contains(s.Id)
                          select new { s.Id, s.Status, Plan = p }).ToListAsync(ct);
        if (rows.Count == 0) return Array.Empty<SubscriptionUsageDto>();
        var rowIds = rows.Select(r => r.Id).ToList();
        // The month and the current period's saved part in one read: a flush between two reads would skew the sum.
        var monthCalls = await BillableUsage.CallsWithCurrentPeriodsAsync(db, rowIds, month, QuotaCounterStore.PeriodStart(QuotaPeriod.Day, now), ct);
        var billedThisMonth = (await StatementService.BilledIn(db, month).Where(s => rowIds.Contains(s.Id)).Select(s => s.Id).ToListAsync(ct)).ToHashSet();

        var byId = new Dictionary<Guid, SubscriptionUsageDto>(rows.Count);
        foreach (var row in rows)
        {
            var plan = row.Plan;
            var start = QuotaCounterStore.PeriodStart(plan.QuotaPeriod, now);
            var end = QuotaCounterStore.PeriodEnd(plan.QuotaPeriod, start);
            var live = await limits.PeekAsync(row.Id, plan.QuotaPeriod, now, ct);
            var saved = monthCalls.GetValueOrDefault(row.Id);
            var inDatabase = plan.QuotaPeriod == QuotaPeriod.Day ? saved.DayRow : saved.MonthRow;
            // The period lies within the month (a day or the month itself): its saved part is swapped for the live count.
            var calls = saved.Calls - inDatabase + Math.Max(live, inDatabase);
            var used = live;
            // Live calls not yet saved count too: the month's statement will have them.
            var billed = calls > 0 || billedThisMonth.Contains(row.Id);
            var cost = billed ? PlanPricing.Price(plan, calls) : null;
            byId[row.Id] = new SubscriptionUsageDto(row.Id, row.Status, plan.Name, plan.Type,
                new UsagePeriodDto(start, end),
                plan.RateLimit is { } rate ? new RateLimitDto(rate, plan.RateLimitWindow) : null,
                new QuotaUsageDto(plan.Quota, used, plan.Quota is { } quota ? Math.Max(0, quota - used) : null, end, plan.QuotaPeriod),
                calls,
                new CostDto(plan.Currency, cost?.Amount ?? 0m),
                month);
        }
        return ids.Where(byId.ContainsKey).Select(id => byId[id]).ToList();
    }
}
