using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Notifications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Quotas;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;
using Portal.Core.Features.Webhooks;
using Portal.Tests.Core.Profile;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Quotas;

/// <summary>
/// Quota alerts at 80% and 100%, raised exactly once per period and threshold however many calls cross them at once
/// and however many instances notice; the spending threshold's alert once a month; the live usage numbers.
/// </summary>
public sealed class QuotaAlertTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _gateway = null!;
    private Actor _root = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(SelfServiceSetup.With(portal: o => o.Email.BaseUrl = "https://portal.example.test"));
        _gateway = (await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read])).Actor;
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private sealed record Subscribed(Actor Developer, Guid ApplicationId, Guid AccountId, string Key, string Product, Guid SubscriptionId, Plan Plan);

    private async Task<Subscribed> SubscribedAsync(long? quota, PlanType type = PlanType.Subscription, decimal? unitPrice = null, QuotaPeriod period = QuotaPeriod.Month,
        decimal? flatFee = null)
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var created = (await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = "Web Shop" })).Value;
        var now = _db.Clock.GetUtcNow();
        var slug = $"payments-{Guid.NewGuid():N}"[..20];
        var plan = new Plan { Name = "Gold", Type = type, Quota = quota, QuotaPeriod = period, UnitPrice = unitPrice, FlatFee = flatFee, RateLimit = 1000, RateLimitWindow = RateLimitWindow.Second };
        var product = new ApiProduct { Name = slug, Slug = slug, Published = true, CreatedAt = now, UpdatedAt = now, Plans = [plan] };
        var subscription = new Subscription
        {
            ApplicationId = created.Application.Id, ApplicationName = "Web Shop", AccountId = created.Application.AccountId,
            ProductId = product.Id, PlanId = plan.Id, Status = SubscriptionStatus.Approved, CreatedAt = now, DecidedAt = now,
        };
        await using (var db = await _db.OpenAsync())
        {
            db.Products.Add(product);
            db.Subscriptions.Add(subscription);
            await db.SaveChangesAsync();
            await db.EmailOutbox.ExecuteDeleteAsync();
        }
        _db.Get<VerificationCache>().Invalidate();
        return new Subscribed(developer, created.Application.Id, created.Application.AccountId, created.Key.Key, slug, subscription.Id, plan);
    }

    private async Task<VerifyResult> VerifyAsync(Subscribed s)
    {
        var result = await _db.Get<VerificationService>().VerifyAsync(_gateway, new VerifyKey { Key = s.Key, Product = s.Product });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private async Task<List<BillingAlert>> AlertsAsync(Guid subscriptionId)
    {
        await using var db = await _db.OpenAsync();
        return [.. (await db.BillingAlerts.AsNoTracking().Where(a => a.SubscriptionId == subscriptionId).ToListAsync()).OrderBy(a => a.PeriodStart).ThenBy(a => a.Kind)];
    }

    private async Task<List<AuditEntry>> AuditAsync(string action, Guid subscriptionId)
    {
        await using var db = await _db.OpenAsync();
        var id = subscriptionId.ToString();
        return await db.Audit.AsNoTracking().Where(a => a.Action == action && a.TargetId == id).OrderBy(a => a.Details).ToListAsync();
    }

    [Fact]
    public async Task ManyParallelCalls_CrossingBothThresholds_RaiseEachAlertExactlyOnce_WithEmailAndEvent()
    {
        var s = await SubscribedAsync(quota: 100);

        var answers = await Task.WhenAll(Enumerable.Range(0, 400).Select(_ => Task.Run(() => VerifyAsync(s))));
        await _db.Get<QuotaAlerts>().IdleAsync();

        Assert.Equal(100, answers.Count(a => a.Valid));
        Assert.Equal([BillingAlertKind.Quota80, BillingAlertKind.Quota100], (await AlertsAsync(s.SubscriptionId)).Select(a => a.Kind));
        var audit = await AuditAsync(AuditActions.QuotaThresholdReached, s.SubscriptionId);
        Assert.Equal(2, audit.Count);
        Assert.StartsWith("threshold: 100; used: 100; limit: 100;", audit[0].Details);
        Assert.StartsWith("threshold: 80; used: 80; limit: 100;", audit[1].Details);
        Assert.Equal("quota.threshold_reached", WebhookEventTypes.ForAuditAction(audit[0].Action));
        var data = System.Text.Json.Nodes.JsonNode.Parse(WebhookOutbox.DataOf(audit[1]))!;
        Assert.Equal(s.SubscriptionId.ToString(), data["subscriptionId"]!.GetValue<string>());
        Assert.Equal("80", data["threshold"]!.GetValue<string>());
        Assert.Equal("2026-12-01T00:00:00Z", data["resetAt"]!.GetValue<string>());
        Assert.Equal(s.AccountId.ToString(), data["accountId"]!.GetValue<string>());

        await using var db = await _db.OpenAsync();
        var mails = await db.EmailOutbox.AsNoTracking().Select(m => m.Subject).OrderBy(x => x).ToListAsync();
        Assert.Equal(["80% of the quota used: Web Shop → " + s.Product, "Quota used up: Web Shop → " + s.Product], mails);

        // More refused calls, and a fresh pass over the same numbers, raise nothing more.
        for (var i = 0; i < 5; i++) await VerifyAsync(s);
        await _db.Get<QuotaAlerts>().IdleAsync();
        Assert.Equal(2, (await AlertsAsync(s.SubscriptionId)).Count);
    }

    [Fact]
    public async Task SeveralInstancesNoticingAtOnce_RaiseEachAlertOnce()
    {
        var s = await SubscribedAsync(quota: 10);
        // Four instances' alert services (each with its own memory), all noticing every threshold at once.
        var instances = Enumerable.Range(0, 4).Select(_ => ActivatorUtilities.CreateInstance<QuotaAlerts>(_db.Services)).ToList();
        var resetAt = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

        await Task.WhenAll(instances.SelectMany(alerts => Enumerable.Range(0, 10).Select(i => Task.Run(() =>
            alerts.Observe(s.SubscriptionId, QuotaPeriod.Month, new LimitState(10, i % 3, 1, resetAt), _db.Clock.GetUtcNow())))));
        await Task.WhenAll(instances.Select(i => i.IdleAsync()));

        Assert.Equal([BillingAlertKind.Quota80, BillingAlertKind.Quota100], (await AlertsAsync(s.SubscriptionId)).Select(a => a.Kind));
        Assert.Equal(2, (await AuditAsync(AuditActions.QuotaThresholdReached, s.SubscriptionId)).Count);
        Assert.Equal(2, instances.Sum(i => i.Raised));
    }

    [Fact]
    public async Task NextPeriod_RaisesAgain_AndAMemberWhoTurnedItOff_GetsNoEmail()
    {
        var s = await SubscribedAsync(quota: 5, period: QuotaPeriod.Day);
        Assert.True((await _db.Get<ProfileService>().UpdateAsync(s.Developer, new UpdateProfile { Notifications = new UpdateNotificationChoices { QuotaThreshold = false } })).IsSuccess);
        for (var i = 0; i < 5; i++) Assert.True((await VerifyAsync(s)).Valid);
        await _db.Get<QuotaAlerts>().IdleAsync();
        _db.Clock.Advance(TimeSpan.FromDays(1));
        for (var i = 0; i < 4; i++) Assert.True((await VerifyAsync(s)).Valid);
        await _db.Get<QuotaAlerts>().IdleAsync();

        var alerts = await AlertsAsync(s.SubscriptionId);
        Assert.Equal(3, alerts.Count);
        Assert.Equal(2, alerts.Count(a => a.PeriodStart == new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero)));
        Assert.Single(alerts, a => a.PeriodStart == new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) && a.Kind == BillingAlertKind.Quota80);
        await using var db = await _db.OpenAsync();
        Assert.Equal(0, await db.EmailOutbox.CountAsync());
    }

    [Fact]
    public async Task Usage_IsTheLiveCount_BeforeAnyFlush_WithTheMonthsCost()
    {
        var s = await SubscribedAsync(quota: 1000, type: PlanType.Metered, unitPrice: 0.25m);
        for (var i = 0; i < 7; i++) Assert.True((await VerifyAsync(s)).Valid);

        var usage = await _db.Get<SubscriptionUsageService>().GetAsync(s.Developer, s.SubscriptionId);

        Assert.True(usage.IsSuccess, usage.Error?.Detail);
        Assert.Equal(new QuotaUsageDto(1000, 7, 993, new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), QuotaPeriod.Month), usage.Value.Quota);
        Assert.Equal(new UsagePeriodDto(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)), usage.Value.Period);
        Assert.Equal(new RateLimitDto(1000, RateLimitWindow.Second), usage.Value.RateLimit);
        Assert.Equal(7, usage.Value.Calls);
        Assert.Equal(new CostDto("USD", 1.75m), usage.Value.Cost);

        // Flushed, the same numbers; reading never counts a call.
        await _db.Get<ILimitStore>().FlushAsync();
        var again = (await _db.Get<SubscriptionUsageService>().GetAsync(_root, s.SubscriptionId)).Value;
        Assert.Equal(7, again.Quota.Used);
        Assert.Equal(7, again.Calls);
        Assert.Equal(993, (await VerifyAsync(s)).Quota!.Remaining + 1);
    }

    [Fact]
    public async Task Usage_OfAnotherDevelopersSubscription_IsNotFound_ReadOnlySeesIt()
    {
        var s = await SubscribedAsync(quota: null, type: PlanType.Subscription, flatFee: 49m, period: QuotaPeriod.Day);
        var (_, stranger) = await _db.CreateUserAsync(Roles.Developer);
        var (_, auditor) = await _db.CreateUserAsync(Roles.ReadOnly);

        Assert.IsType<NotFoundError>((await _db.Get<SubscriptionUsageService>().GetAsync(stranger, s.SubscriptionId)).Error);
        var seen = await _db.Get<SubscriptionUsageService>().GetAsync(auditor, s.SubscriptionId);
        Assert.True(seen.IsSuccess);
        // No quota: limit and remaining null; a subscription plan's fee is the month's cost from the first day.
        Assert.Null(seen.Value.Quota.Limit);
        Assert.Null(seen.Value.Quota.Remaining);
        Assert.Equal(new CostDto("USD", 49m), seen.Value.Cost);
    }

    [Fact]
    public async Task SpendingThreshold_SetByAMember_RaisesOnceAMonth_WhenAMeteredSubscriptionPassesIt()
    {
        var s = await SubscribedAsync(quota: null, type: PlanType.Metered, unitPrice: 0.5m);
        var (_, stranger) = await _db.CreateUserAsync(Roles.Developer);
        var (_, auditor) = await _db.CreateUserAsync(Roles.ReadOnly);
        var accounts = _db.Get<AccountService>();
        Assert.IsType<NotFoundError>((await accounts.SetBillingSettingsAsync(stranger, s.AccountId, new UpdateAccountBillingSettings { SpendingThreshold = 2 })).Error);
        Assert.IsType<ForbiddenError>((await accounts.SetBillingSettingsAsync(auditor, s.AccountId, new UpdateAccountBillingSettings { SpendingThreshold = 2 })).Error);
        Assert.IsType<ValidationError>((await accounts.SetBillingSettingsAsync(s.Developer, s.AccountId, new UpdateAccountBillingSettings { SpendingThreshold = -1 })).Error);
        var set = await accounts.SetBillingSettingsAsync(s.Developer, s.AccountId, new UpdateAccountBillingSettings { SpendingThreshold = 2 });
        Assert.Equal(2m, set.Value.SpendingThreshold);
        Assert.Equal(2m, (await accounts.GetBillingSettingsAsync(auditor, s.AccountId)).Value.SpendingThreshold);
        var alerts = _db.Get<QuotaAlerts>();

        for (var i = 0; i < 4; i++) await VerifyAsync(s);
        await _db.Get<ILimitStore>().FlushAsync();
        Assert.Equal(0, await alerts.SweepSpendingAsync()); // 2.00: not past 2.00
        await VerifyAsync(s);
        await _db.Get<ILimitStore>().FlushAsync();
        Assert.Equal(1, await alerts.SweepSpendingAsync()); // 2.50
        await VerifyAsync(s);
        await _db.Get<ILimitStore>().FlushAsync();
        Assert.Equal(0, await alerts.SweepSpendingAsync());

        var audit = Assert.Single(await AuditAsync(AuditActions.SpendingThresholdReached, s.SubscriptionId));
        Assert.Equal("billing.threshold_reached", WebhookEventTypes.ForAuditAction(audit.Action));
        Assert.StartsWith("amount: 2.5; threshold: 2; currency: USD; month: 2026-11; calls: 5;", audit.Details);
        await using var db = await _db.OpenAsync();
        Assert.Equal(["Spending threshold passed: Web Shop → " + s.Product], await db.EmailOutbox.Select(m => m.Subject).ToListAsync());
    }
}
