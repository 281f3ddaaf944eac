using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Notifications;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Verification;

namespace Portal.Core.Features.Quotas;

/// <summary>
/// The alerts about a subscription's use: 80% and 100% of its quota (once per quota period and threshold), and its cost
/// this month passing the account's spending threshold (once per month). Each alert is one save: the
/// <see cref="BillingAlert"/> row (unique per subscription, period and kind), the emails to the account's members who
/// want them, and the audit entry that raises the webhook event (<c>quota.threshold_reached</c>,
/// <c>billing.threshold_reached</c>). Two instances raising at once both try; the unique row lets one save win.
/// <para>
/// The quota thresholds are noticed on the verification path itself (<see cref="Observe"/>): a comparison per call, and
/// work only for the call that brings the count to or past a threshold this instance has not raised yet; the save runs
/// in the background, so no call waits for it. The spending threshold is checked by a sweep (<see cref="SweepSpendingAsync"/>),
/// off that path: a price is a database read and arithmetic, too much for every call.
/// </para>
/// </summary>
public sealed class QuotaAlerts(
    IDbContextFactory<PortalDbContext> dbFactory,
    Notifier notifier,
    TimeProvider clock,
    ILogger<QuotaAlerts> logger) : IQuotaWatch
{
    /// <summary>How often the spending sweep runs.</summary>
    public static readonly TimeSpan SpendingSweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>Per subscription and quota period, the highest threshold (80, 100) this instance raised or is raising.</summary>
    private readonly ConcurrentDictionary<(Guid SubscriptionId, DateTimeOffset PeriodStart), int> _raised = new();

    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Alerts this instance saved (not those another instance or an earlier call had saved first).</summary>
    public long Raised => Interlocked.Read(ref _saved);
    private long _saved;

    /// <summary>
    /// Called after a VALID call counted against a quota: when the count (from the limiter's own answer) reaches 80% or
    /// 100% and this instance has not raised that threshold for this period, raises it in the background.
    /// </summary>
    void IQuotaWatch.Observe(Guid subscriptionId, QuotaPeriod period, LimitState quota, DateTimeOffset now) => Observe(subscriptionId, period, quota, now);

    internal void Observe(Guid subscriptionId, QuotaPeriod period, LimitState quota, DateTimeOffset now)
    {
        if (quota.Limit is not { } limit || limit <= 0 || quota.Remaining is not { } remaining) return;
        var used = limit - remaining;
        var percent = used >= limit ? 100 : (Int128)used * 5 >= (Int128)limit * 4 ? 80 : 0;
        if (percent == 0) return;
        var key = (subscriptionId, QuotaCounterStore.PeriodStart(period, now));
        while (true)
        {
            var known = _raised.TryGetValue(key, out var seen);
            if (seen >= percent) return;
            var claimed = known ? _raised.TryUpdate(key, percent, seen) : _raised.TryAdd(key, percent);
            if (!claimed) continue;
            if (!known) Prune(now);
            var kinds = new List<BillingAlertKind>(2);
            if (seen < 80) kinds.Add(BillingAlertKind.Quota80);
            if (percent == 100) kinds.Add(BillingAlertKind.Quota100);
            Track(RaiseQuotaAsync(key, seen, percent, kinds, used, limit, quota.ResetAt ?? QuotaCounterStore.PeriodEnd(period, key.Item2)));
            return;
        }
    }

    /// <summary>Forgets the periods that are over (a subscription's key is added once per period it crosses 80%).</summary>
    private void Prune(DateTimeOffset now)
    {
        if (_raised.Count < 1024) return;
        var before = now.AddDays(-32);
        foreach (var (key, _) in _raised)
            if (key.PeriodStart < before) _raised.TryRemove(key, out _);
    }

    private void Track(Task task)
    {
        _running.TryAdd(task, 0);
        _ = task.ContinueWith(t => _running.TryRemove(t, out _), TaskScheduler.Default);
    }

    /// <summary>Waits for the alerts being raised now (tests; shutdown).</summary>
    public Task IdleAsync() => Task.WhenAll(_running.Keys);

    private async Task RaiseQuotaAsync((Guid SubscriptionId, DateTimeOffset PeriodStart) key, int before, int percent,
        List<BillingAlertKind> kinds, long used, long limit, DateTimeOffset resetAt)
    {
        // Off the caller's path: the call that crossed the threshold is answered without waiting for this.
        await Task.Yield();
        try
        {
            foreach (var kind in kinds)
            {
                var threshold = kind == BillingAlertKind.Quota100 ? 100 : 80;
                await RaiseAsync(key.SubscriptionId, key.PeriodStart, kind, (db, sub, now) =>
                {
                    var template = NotificationEmails.QuotaThreshold(sub.ApplicationName, sub.ProductName, threshold, used, limit, resetAt, sub.AccountName,
                        sub.ApplicationId is { } app ? notifier.Link($"/applications/{app}") : null);
                    return (NotificationKind.QuotaThreshold, template, AuditActions.QuotaThresholdReached,
                        AlertDetails.Quota(threshold, used, limit, key.PeriodStart, resetAt, sub.AccountId, sub.ApplicationId, sub.ProductId));
                }, CancellationToken.None);
            }
        }
        catch (Exception e)
        {
            // Given back, so the next call past the threshold tries again (the unique row keeps it once-only).
            if (before == 0) _raised.TryRemove(new KeyValuePair<(Guid, DateTimeOffset), int>(key, percent));
            else _raised.TryUpdate(key, before, percent);
            logger.LogWarning(e, "Could not raise the {Percent}% quota alert of subscription {SubscriptionId}; the next call tries again", percent, key.SubscriptionId);
        }
    }

    private sealed record Subject(Guid Id, Guid AccountId, string AccountName, Guid? ApplicationId, string ApplicationName, Guid ProductId, string ProductName);

    /// <summary>One alert in one save; false when it had been raised (by another call, instance or an earlier run).</summary>
    private async Task<bool> RaiseAsync(Guid subscriptionId, DateTimeOffset periodStart, BillingAlertKind kind,
        Func<PortalDbContext, Subject, DateTimeOffset, (NotificationKind Notification, Email.EmailTemplate Template, string Action, string Details)> describe,
        CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.BillingAlerts.AnyAsync(a => a.SubscriptionId == subscriptionId && a.PeriodStart == periodStart && a.Kind == kind, ct)) return false;
        var subject = await (from s in db.Subscriptions.AsNoTracking()
                             join acc in db.Accounts on s.AccountId equals acc.Id
                             join p in db.Products on s.ProductId equals p.Id
                             where s.Id == subscriptionId
                             select new Subject(s.Id, s.AccountId, acc.Name, s.ApplicationId,
                                 db.Applications.Where(a => a.Id == s.ApplicationId).Select(a => a.Name).FirstOrDefault() ?? s.ApplicationName,
                                 p.Id, p.Name)).FirstOrDefaultAsync(ct);
        if (subject is null) return false;
        var now = clock.GetUtcNow();
        var (notification, template, action, details) = describe(db, subject, now);
        db.BillingAlerts.Add(new BillingAlert { SubscriptionId = subscriptionId, PeriodStart = periodStart, Kind = kind, RaisedAt = now });
        await notifier.AddAsync(db, Notifier.AccountMembers(db, subject.AccountId, notification), template, null, now, ct);
        db.Audit.Add(AuditEntry.For(Actor.System, action, now, "subscription", subscriptionId.ToString(),
            $"{subject.ApplicationName} → {subject.ProductName}", details));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another call or instance raised it first; its save holds the emails and the event.
            await using var check = await dbFactory.CreateDbContextAsync(ct);
            if (await check.BillingAlerts.AnyAsync(a => a.SubscriptionId == subscriptionId && a.PeriodStart == periodStart && a.Kind == kind, ct)) return false;
            throw;
        }
        Interlocked.Increment(ref _saved);
        notifier.Wake();
        return true;
    }

    /// <summary>The background loop of the spending sweep (every instance runs one; each alert goes out once).</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepSpendingAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Spending threshold sweep failed; trying again in {Interval}", SpendingSweepInterval);
            }
            try
            {
                await Task.Delay(SpendingSweepInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Raises <c>billing.threshold_reached</c> for every APPROVED metered or tiered subscription of an account with a
    /// spending threshold whose cost this month (as <see cref="PlanPricing"/> prices its billable calls) is past that
    /// threshold, once per month. Reads only the accounts that set a threshold. Answers how many alerts it raised.
    /// </summary>
    public async Task<int> SweepSpendingAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var month = BillableUsage.MonthStart(now);
        List<(Guid Id, Guid AccountId, decimal Threshold, Plan Plan)> watched;
        Dictionary<Guid, long> calls;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var accounts = await db.Accounts.AsNoTracking().Where(a => a.SpendingThreshold != null)
                .Select(a => new { a.Id, a.SpendingThreshold }).ToListAsync(ct);
            if (accounts.Count == 0) return 0;
            var thresholds = accounts.ToDictionary(a => a.Id, a => a.SpendingThreshold!.Value);
            var accountIds = thresholds.Keys.ToList();
            var rows = new List<(Guid, Guid, Plan)>();
            foreach (var chunk in accountIds.Chunk(500))
            {
                var found = await (from s in db.Subscriptions.AsNoTracking()
                                   join p in db.Plans.AsNoTracking() on s.PlanId equals p.Id
                                   where chunk.Contains(s.AccountId) && s.Status == SubscriptionStatus.Approved
                                         && (p.Type == PlanType.Metered || p.Type == PlanType.Tiered)
                                         && !db.BillingAlerts.Any(a => a.SubscriptionId == s.Id && a.PeriodStart == month && a.Kind == BillingAlertKind.Spending)
                                   select new { s.Id, s.AccountId, Plan = p }).ToListAsync(ct);
                rows.AddRange(found.Select(f => (f.Id, f.AccountId, f.Plan)));
            }
            watched = [.. rows.Select(r => (r.Item1, r.Item2, thresholds[r.Item2], r.Item3))];
            calls = await BillableUsage.CallsAsync(db, [.. watched.Select(w => w.Id)], month, ct);
        }
        var raised = 0;
        foreach (var (id, _, threshold, plan) in watched)
        {
            var used = calls.GetValueOrDefault(id);
            var charge = PlanPricing.Price(plan, used);
            if (charge.Amount <= threshold) continue;
            if (await RaiseAsync(id, month, BillingAlertKind.Spending, (db, sub, _) =>
                {
                    var template = NotificationEmails.SpendingThreshold(sub.ApplicationName, sub.ProductName, charge.Amount, threshold, charge.Currency, sub.AccountName,
                        sub.ApplicationId is { } app ? notifier.Link($"/applications/{app}") : null);
                    return (NotificationKind.SpendingThreshold, template, AuditActions.SpendingThresholdReached,
                        AlertDetails.Spending(charge.Amount, threshold, charge.Currency, month, used, sub.AccountId, sub.ApplicationId, sub.ProductId));
                }, ct))
                raised++;
        }
        return raised;
    }
}
