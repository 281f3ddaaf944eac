using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Subscriptions;

namespace Portal.Core.Features.Products;

/// <summary>
/// One subscription of the plan in a what-if: last month as it was, and as it would have been under the proposed plan.
/// <see cref="Calls"/> are the billable calls (the quota counters); <see cref="RefusedBefore"/> the calls the plan's quota
/// refused (QUOTA_EXCEEDED, from the rollups); <see cref="Demand"/> both together, what the proposed quota faces;
/// <see cref="RefusedAfter"/> what it would refuse of them and <see cref="CallsAfter"/> what it lets through and bills.
/// </summary>
public sealed record PlanWhatIfLine(
    Guid SubscriptionId,
    Guid AccountId,
    string AccountName,
    Guid? ApplicationId,
    string ApplicationName,
    SubscriptionStatus Status,
    long Calls,
    long RefusedBefore,
    long Demand,
    long RefusedAfter,
    long CallsAfter,
    decimal CurrentAmount,
    decimal ProposedAmount);

/// <summary>
/// Last month (<see cref="MonthStart"/> to <see cref="MonthEnd"/>, UTC) of every subscription billed on the plan, priced by the
/// plan as it is and as proposed. Amounts are in <see cref="CurrentCurrency"/> and <see cref="ProposedCurrency"/> (a plan has one).
/// </summary>
public sealed record PlanWhatIf(
    Guid ProductId,
    Guid PlanId,
    string PlanName,
    DateTimeOffset MonthStart,
    DateTimeOffset MonthEnd,
    string CurrentCurrency,
    string ProposedCurrency,
    IReadOnlyList<PlanWhatIfLine> Subscriptions,
    long Calls,
    long RefusedBefore,
    long Demand,
    long RefusedAfter,
    long CallsAfter,
    decimal CurrentAmount,
    decimal ProposedAmount)
{
    /// <summary>What the numbers count, for people reading them (the editor shows it; the API carries it).</summary>
    public string Counted =>
        "Calls are last month's billable calls (VALID answers, as the quota counted them). Demand adds the calls the current quota " +
        "refused (QUOTA_EXCEEDED): a refused call that was retried counts each time. Rate-limited calls are not counted. The proposed " +
        "quota is applied to the demand per day or per month; what it lets through is priced by the proposed plan.";
}

/// <summary>
/// What a plan change would have meant last month, before it is saved: the cost of each subscription on the plan under
/// the plan as it is and as proposed, and the calls the proposed quota would have refused. Reads the quota counters
/// (<see cref="BillableUsage"/>) and the hourly verification rollups, never raw usage events.
/// </summary>
public sealed class PlanWhatIfService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
{
    private const string Valid = "VALID", QuotaExceeded = "QUOTA_EXCEEDED";

    public async Task<Result<PlanWhatIf>> PreviewAsync(Actor actor, Guid productId, Guid planId, PlanRequest proposed, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ProductsManage)) return Errors.Forbidden;
        if (proposed is null) return ValidationError.For("plan", "The proposed plan is missing.");
        var checks = new Dictionary<string, string[]>();
        ProductService.CheckPlan(proposed, "plan", checks);
        if (checks.Count > 0)
            return new ValidationError(checks.ToDictionary(e => e.Key.StartsWith("plan.", StringComparison.Ordinal) ? e.Key[5..] : e.Key, e => e.Value));

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var current = await db.Plans.AsNoTracking().FirstOrDefaultAsync(p => p.Id == planId && p.ProductId == productId, ct);
        if (current is null) return Errors.NotFound;
        var next = Copy(current);
        ProductService.Apply(next, proposed, current.Order);

        var end = BillableUsage.MonthStart(clock.GetUtcNow());
        var start = end.AddMonths(-1);
        var candidates = await db.Subscriptions.AsNoTracking()
            .Where(s => s.PlanId == planId && s.ProductId == productId)
            .Select(s => new { s.Id, s.AccountId, s.ApplicationId, s.ApplicationName, s.Status, s.DecidedAt, s.EndedAt })
            .ToListAsync(ct);
        var calls = await BillableUsage.CallsAsync(db, [.. candidates.Select(c => c.Id)], start, ct);
        // Billed in the month: calls in it, or approved during part of it (see the billing rules).
        var billed = candidates.Where(s => calls.ContainsKey(s.Id)
            || (s.DecidedAt is { } decided && decided < end
                && (s.Status == SubscriptionStatus.Approved || (s.Status == SubscriptionStatus.Unsubscribed && s.EndedAt is { } ended && ended >= start))))
            .ToList();

        var applicationIds = billed.Where(s => s.ApplicationId is not null).Select(s => s.ApplicationId!.Value).Distinct().ToList();
        var days = await DemandByDayAsync(db, productId, applicationIds, start, end, ct);
        var accountIds = billed.Select(s => s.AccountId).Distinct().ToList();
        var accounts = await db.Accounts.AsNoTracking().Where(a => accountIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);

        var lines = new List<PlanWhatIfLine>(billed.Count);
        foreach (var s in billed)
        {
            var used = calls.GetValueOrDefault(s.Id);
            var perDay = s.ApplicationId is { } app && days.TryGetValue(app, out var d) ? d : [];
            var refusedBefore = perDay.Values.Sum(v => v.Refused);
            var demand = used + refusedBefore;
            var refusedAfter = Refused(next, demand, perDay);
            var after = Math.Max(0, demand - refusedAfter);
            lines.Add(new PlanWhatIfLine(s.Id, s.AccountId, accounts.GetValueOrDefault(s.AccountId, ""), s.ApplicationId, s.ApplicationName, s.Status,
                used, refusedBefore, demand, refusedAfter, after,
                PlanPricing.Price(current, used).Amount, PlanPricing.Price(next, after).Amount));
        }
        lines.Sort((a, b) => b.ProposedAmount != a.ProposedAmount ? b.ProposedAmount.CompareTo(a.ProposedAmount) : string.CompareOrdinal(a.ApplicationName, b.ApplicationName));
        return new PlanWhatIf(productId, planId, current.Name, start, end, current.Currency, next.Currency, lines,
            lines.Sum(l => l.Calls), lines.Sum(l => l.RefusedBefore), lines.Sum(l => l.Demand), lines.Sum(l => l.RefusedAfter), lines.Sum(l => l.CallsAfter),
            lines.Sum(l => l.CurrentAmount), lines.Sum(l => l.ProposedAmount));
    }

    /// <summary>
    /// What the proposed quota refuses of a month's demand: the excess over a monthly quota, or the sum of each day's
    /// excess over a daily one (days from the rollups, which hold both the VALID and the refused calls per hour).
    /// </summary>
    internal static long Refused(Plan plan, long demand, IReadOnlyDictionary<DateTime, (long Valid, long Refused)> perDay)
    {
        if (plan.Quota is not { } quota) return 0;
        if (plan.QuotaPeriod == QuotaPeriod.Month) return Math.Max(0, demand - quota);
        return perDay.Values.Sum(v => Math.Max(0, v.Valid + v.Refused - quota));
    }

    /// <summary>Per application and UTC day: the VALID and QUOTA_EXCEEDED answers to its keys for the product, from the hourly rollups.</summary>
    private static async Task<Dictionary<Guid, Dictionary<DateTime, (long Valid, long Refused)>>> DemandByDayAsync(
        PortalDbContext db, Guid productId, List<Guid> applicationIds, DateTimeOffset start, DateTimeOffset end, CancellationToken ct)
    {
        var result = new Dictionary<Guid, Dictionary<DateTime, (long Valid, long Refused)>>();
        if (applicationIds.Count == 0) return result;
        var keys = new Dictionary<Guid, Guid>();
        foreach (var chunk in applicationIds.Chunk(500))
            foreach (var k in await db.ApiKeys.AsNoTracking().Where(k => k.ApplicationId != null && chunk.Contains(k.ApplicationId.Value))
                         .Select(k => new { k.Id, k.ApplicationId }).ToListAsync(ct))
                keys[k.Id] = k.ApplicationId!.Value;
        foreach (var chunk in keys.Keys.Chunk(500))
        {
            var rows = await db.UsageVerificationHours.AsNoTracking()
                .Where(v => chunk.Contains(v.KeyId) && v.ProductId == productId && v.HourStart >= start && v.HourStart < end
                            && (v.Outcome == Valid || v.Outcome == QuotaExceeded))
                .Select(v => new { v.KeyId, v.HourStart, v.Outcome, v.Count })
                .ToListAsync(ct);
            foreach (var row in rows)
            {
                var days = result.TryGetValue(keys[row.KeyId], out var d) ? d : result[keys[row.KeyId]] = [];
                var day = row.HourStart.UtcDateTime.Date;
                var (valid, refused) = days.GetValueOrDefault(day);
                days[day] = row.Outcome == Valid ? (valid + row.Count, refused) : (valid, refused + row.Count);
            }
        }
        return result;
    }

    private static Plan Copy(Plan p) => new()
    {
        Id = p.Id,
        ProductId = p.ProductId,
        Name = p.Name,
        Type = p.Type,
        RateLimit = p.RateLimit,
        RateLimitWindow = p.RateLimitWindow,
        Quota = p.Quota,
        QuotaPeriod = p.QuotaPeriod,
        PriceText = p.PriceText,
        Currency = p.Currency,
        FlatFee = p.FlatFee,
        UnitPrice = p.UnitPrice,
        PriceUnit = p.PriceUnit,
        MonthlyMinimum = p.MonthlyMinimum,
        TierMode = p.TierMode,
        Tiers = [.. p.Tiers.Select(t => new PlanTier { UpTo = t.UpTo, UnitPrice = t.UnitPrice, FlatFee = t.FlatFee, Price = t.Price })],
        Order = p.Order,
    };
}
