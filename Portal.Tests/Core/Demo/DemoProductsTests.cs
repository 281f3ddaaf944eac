using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Demo;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Demo;

public sealed class DemoProductsTests
{
    [Fact]
    public async Task SeedDemo_GivesProductsWithEveryPlanType_ADraft_OneWithoutApproval_AndRegistrationsInEveryStatus()
    {
        await using var database = await TestDatabase.CreateAsync();
        Assert.True((await database.Get<DemoData>().SeedAsync()).IsSuccess);

        await using var db = await database.OpenAsync();
        var products = await db.Products.Include(p => p.Plans).ToListAsync();
        Assert.True(products.Count >= 4);
        Assert.Contains(products, p => !p.Published);
        Assert.Contains(products, p => p.Published && !p.RequiresApproval);
        var plans = products.SelectMany(p => p.Plans).ToList();
        Assert.All(Enum.GetValues<PlanType>(), type => Assert.Contains(plans, p => p.Type == type));
        Assert.All(plans.Where(p => p.Type == PlanType.Tiered), p => Assert.True(p.Tiers.Count >= 2));
        // Every paid plan is priced in numbers, so statements have something to bill.
        Assert.All(plans.Where(p => p.Type == PlanType.Subscription), p => Assert.True(p.FlatFee > 0));
        Assert.All(plans.Where(p => p.Type == PlanType.Metered), p => Assert.True(p.UnitPrice > 0));
        Assert.All(plans.Where(p => p.Type == PlanType.Tiered), p => Assert.All(p.Tiers, t => Assert.True(t.UnitPrice > 0)));
        Assert.Contains(plans, p => p.Currency != "USD");

        var subscriptions = await db.Subscriptions.ToListAsync();
        Assert.All(Enum.GetValues<SubscriptionStatus>(), status => Assert.Contains(subscriptions, s => s.Status == status));
        Assert.Contains(subscriptions, s => s.Status == SubscriptionStatus.Rejected && s.Reason is not null);
        // A retired application's registrations: ended with it, kept with its name.
        Assert.Equal(2, subscriptions.Count(s => s.ApplicationId is null && s.ApplicationName == "Legacy Checkout" && s.Status == SubscriptionStatus.Unsubscribed));
        var now = database.Clock.GetUtcNow();
        Assert.All(subscriptions, s => Assert.True(s.CreatedAt <= now && (s.DecidedAt ?? s.CreatedAt) >= s.CreatedAt && (s.EndedAt ?? now) <= now));
        Assert.DoesNotContain(subscriptions.Where(s => s.Status is SubscriptionStatus.Waiting or SubscriptionStatus.Approved)
            .GroupBy(s => (s.ApplicationId, s.ProductId)), g => g.Count() > 1);
        // The catalog a developer sees holds published products only.
        Assert.DoesNotContain(subscriptions, s => products.Single(p => p.Id == s.ProductId) is { Published: false });
    }

    [Fact]
    public async Task SeedDemo_OnADatabaseInUse_LeavesRealApplicationsAndProductsAlone()
    {
        await using var database = await TestDatabase.CreateAsync();
        var (_, developer) = await database.CreateUserAsync(Portal.Core.Common.Roles.Developer);
        var app = (await database.Get<Portal.Core.Features.Applications.ApplicationService>()
            .CreateAsync(developer, new Portal.Core.Features.Applications.CreateApplication { Name = "Real Checkout" })).Value.Application;
        var product = (await database.Get<ProductService>().CreateAsync(await database.RootAsync(), new CreateProduct
        {
            Name = "Real API", Published = true, RequiresApproval = false,
            Plans = [new PlanRequest { Name = "Free", Type = PlanType.Free, RateLimit = 10, Quota = 100 }],
        })).Value;

        Assert.True((await database.Get<DemoData>().SeedAsync()).IsSuccess);

        await using var db = await database.OpenAsync();
        Assert.False(await db.Subscriptions.AnyAsync(s => s.ApplicationId == app.Id));
        Assert.Equal(product.CreatedAt, (await db.Products.SingleAsync(p => p.Id == product.Id)).CreatedAt);
        Assert.Equal(1, await db.Applications.CountAsync(a => a.AccountId == app.AccountId));
        Assert.True(await db.Subscriptions.AnyAsync());
    }
}
