using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Products;

/// <summary>
/// The plan what-if over seeded quota counters and verification rollups (no raw events): last month's cost under the
/// plan as it is and as proposed, and the calls a proposed quota would refuse, monthly and daily.
/// </summary>
public sealed class PlanWhatIfServiceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset LastMonth = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private TestDatabase _db = null!;
    private Actor _root = null!;
    private PlanWhatIfService WhatIf => _db.Get<PlanWhatIfService>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private static PlanRequest Metered(long? quota, QuotaPeriod period = QuotaPeriod.Month, decimal unitPrice = 0.01m, decimal? minimum = null) =>
        new() { Name = "Metered", Type = PlanType.Metered, Currency = "USD", UnitPrice = unitPrice, MonthlyMinimum = minimum, Quota = quota, QuotaPeriod = period };

    /// <summary>A product without approval, subscribed on 10 LastMonth by <paramref name="apps"/> applications; the clock then on 5 January.</summary>
    private async Task<(ProductDto Product, List<(SubscriptionDto Subscription, Guid KeyId)> Subscribers)> SeedAsync(PlanRequest plan, int apps)
    {
        _db.Clock.SetUtcNow(LastMonth.AddDays(9));
        var product = (await _db.Get<ProductService>().CreateAsync(_root, new CreateProduct
        {
            Name = "Metered API", Published = true, RequiresApproval = false, Plans = [plan, new PlanRequest { Name = "Other", Type = PlanType.Free }],
        })).Value;
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        var subscribers = new List<(SubscriptionDto, Guid)>();
        for (var i = 0; i < apps; i++)
        {
            var app = (await _db.Get<ApplicationService>().CreateAsync(dev, new CreateApplication { Name = $"App {i}" })).Value;
            var subscription = (await _db.Get<SubscriptionService>().CreateAsync(dev, new CreateSubscription
            {
                ApplicationId = app.Application.Id, ProductId = product.Id, PlanId = product.Plans[0].Id,
            })).Value;
            subscribers.Add((subscription, app.Key.Id));
        }
        _db.Clock.SetUtcNow(new DateTimeOffset(2027, 1, 5, 12, 0, 0, TimeSpan.Zero));
        return (product, subscribers);
    }

    private async Task CountAsync(Guid subscriptionId, DateTimeOffset periodStart, long used)
    {
        await using var db = await _db.OpenAsync();
        db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscriptionId, PeriodStart = periodStart, Used = used });
        await db.SaveChangesAsync();
    }

    private async Task RollupAsync(Guid keyId, Guid productId, DateTimeOffset hour, string outcome, long count)
    {
        await using var db = await _db.OpenAsync();
        db.UsageVerificationHours.Add(new UsageVerificationHour { KeyId = keyId, HourStart = hour, ProductId = productId, Outcome = outcome, Count = count });
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task MonthlyQuota_PricesLastMonthBothWays_AndCountsWhatTheNewQuotaRefuses()
    {
        var (product, subs) = await SeedAsync(Metered(1_000), apps: 2);
        var planId = product.Plans[0].Id;
        // App 0: 1,000 VALID (the quota), 300 more refused. App 1: 400 calls.
        await CountAsync(subs[0].Subscription.Id, LastMonth, 1_000);
        await RollupAsync(subs[0].KeyId, product.Id, LastMonth.AddDays(20), "QUOTA_EXCEEDED", 300);
        await CountAsync(subs[1].Subscription.Id, LastMonth, 400);
        // Not last month, another product, another outcome: not counted.
        await CountAsync(subs[1].Subscription.Id, LastMonth.AddMonths(1), 9_999);
        await RollupAsync(subs[0].KeyId, product.Id, LastMonth.AddMonths(1), "QUOTA_EXCEEDED", 5_000);
        await RollupAsync(subs[0].KeyId, Guid.NewGuid(), LastMonth.AddDays(3), "QUOTA_EXCEEDED", 7_000);
        await RollupAsync(subs[0].KeyId, product.Id, LastMonth.AddDays(3), "RATE_LIMITED", 8_000);

        var result = await WhatIf.PreviewAsync(_root, product.Id, planId, Metered(1_200, unitPrice: 0.02m));

        Assert.True(result.IsSuccess, result.Error?.Detail);
        var r = result.Value;
        Assert.Equal((LastMonth, LastMonth.AddMonths(1)), (r.MonthStart, r.MonthEnd));
        var first = r.Subscriptions.Single(l => l.SubscriptionId == subs[0].Subscription.Id);
        Assert.Equal((1_000L, 300L, 1_300L, 100L, 1_200L), (first.Calls, first.RefusedBefore, first.Demand, first.RefusedAfter, first.CallsAfter));
        Assert.Equal((10.00m, 24.00m), (first.CurrentAmount, first.ProposedAmount));
        var second = r.Subscriptions.Single(l => l.SubscriptionId == subs[1].Subscription.Id);
        Assert.Equal((400L, 0L, 0L, 4.00m, 8.00m), (second.Calls, second.RefusedBefore, second.RefusedAfter, second.CurrentAmount, second.ProposedAmount));
        Assert.Equal((1_400L, 300L, 100L, 14.00m, 32.00m), (r.Calls, r.RefusedBefore, r.RefusedAfter, r.CurrentAmount, r.ProposedAmount));
        Assert.Equal(("USD", "USD"), (r.CurrentCurrency, r.ProposedCurrency));
        Assert.Contains("QUOTA_EXCEEDED", r.Counted);
    }

    [Fact]
    public async Task DailyQuota_IsAppliedToEachDaysDemand_FromTheRollups()
    {
        var (product, subs) = await SeedAsync(Metered(null), apps: 1);
        var (sub, key) = subs[0];
        await CountAsync(sub.Id, LastMonth, 900);
        // Day 12: 500 VALID over two hours; day 13: 300 VALID + 100 refused; day 14: 100 VALID.
        await RollupAsync(key, product.Id, LastMonth.AddDays(11).AddHours(9), "VALID", 200);
        await RollupAsync(key, product.Id, LastMonth.AddDays(11).AddHours(23), "VALID", 300);
        await RollupAsync(key, product.Id, LastMonth.AddDays(12), "VALID", 300);
        await RollupAsync(key, product.Id, LastMonth.AddDays(12).AddHours(1), "QUOTA_EXCEEDED", 100);
        await RollupAsync(key, product.Id, LastMonth.AddDays(13), "VALID", 100);

        var result = await WhatIf.PreviewAsync(_root, product.Id, product.Plans[0].Id, Metered(350, QuotaPeriod.Day));

        var line = Assert.Single(result.Value.Subscriptions);
        // Over 350 a day: 150 on day 12, 50 on day 13, none on day 14.
        Assert.Equal((900L, 100L, 1_000L, 200L, 800L), (line.Calls, line.RefusedBefore, line.Demand, line.RefusedAfter, line.CallsAfter));
        Assert.Equal((9.00m, 8.00m), (line.CurrentAmount, line.ProposedAmount));
    }

    [Fact]
    public async Task ABilledSubscriptionWithoutCalls_IsListed_AndAFeeOrMinimumApplies()
    {
        var (product, subs) = await SeedAsync(Metered(null, minimum: 5m), apps: 1);

        var result = await WhatIf.PreviewAsync(_root, product.Id, product.Plans[0].Id,
            new PlanRequest { Name = "Metered", Type = PlanType.Subscription, Currency = "EUR", FlatFee = 29m });

        var line = Assert.Single(result.Value.Subscriptions);
        Assert.Equal((0L, 5.00m, 29.00m), (line.Calls, line.CurrentAmount, line.ProposedAmount));
        Assert.Equal(("USD", "EUR"), (result.Value.CurrentCurrency, result.Value.ProposedCurrency));
    }

    [Fact]
    public async Task NoSubscriptionLastMonth_GivesAnEmptyPreview()
    {
        var (product, _) = await SeedAsync(Metered(null), apps: 0);

        var result = await WhatIf.PreviewAsync(_root, product.Id, product.Plans[0].Id, Metered(10));

        Assert.Empty(result.Value.Subscriptions);
        Assert.Equal((0L, 0m, 0m), (result.Value.Calls, result.Value.CurrentAmount, result.Value.ProposedAmount));
    }

    [Fact]
    public async Task AnInvalidProposal_IsAValidationError_AtThePlansFields()
    {
        var (product, _) = await SeedAsync(Metered(null), apps: 0);

        var result = await WhatIf.PreviewAsync(_root, product.Id, product.Plans[0].Id,
            new PlanRequest { Name = "Metered", Type = PlanType.Metered, Currency = "usd", UnitPrice = -1m });

        Assert.Contains("cannot be negative", Assert.IsType<ValidationError>(result.Error).Errors["unitPrice"][0]);
    }

    [Fact]
    public async Task OnlyAdmins_AndOnlyThePlansOfTheProduct()
    {
        var (product, _) = await SeedAsync(Metered(null), apps: 0);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);

        Assert.IsType<ForbiddenError>((await WhatIf.PreviewAsync(readOnly, product.Id, product.Plans[0].Id, Metered(1))).Error);
        Assert.IsType<ForbiddenError>((await WhatIf.PreviewAsync(dev, product.Id, product.Plans[0].Id, Metered(1))).Error);
        Assert.IsType<NotFoundError>((await WhatIf.PreviewAsync(_root, Guid.NewGuid(), product.Plans[0].Id, Metered(1))).Error);
        Assert.IsType<NotFoundError>((await WhatIf.PreviewAsync(_root, product.Id, Guid.NewGuid(), Metered(1))).Error);
    }
}
