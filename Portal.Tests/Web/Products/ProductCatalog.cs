using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Products;

/// <summary>Products, applications and registrations for the API Products page tests, made through the services the pages call.</summary>
internal static class ProductCatalog
{
    /// <summary>Free (5/s, 1,000/day), Gold ($49 / month, 100/min, unlimited) and Volume (tiered, no limits).</summary>
    public static List<PlanRequest> ThreePlans() =>
    [
        new() { Name = "Free", Type = PlanType.Free, RateLimit = 5, RateLimitWindow = RateLimitWindow.Second, Quota = 1000, QuotaPeriod = QuotaPeriod.Day },
        new() { Name = "Gold", Type = PlanType.Subscription, RateLimit = 100, RateLimitWindow = RateLimitWindow.Minute, PriceText = "$49 / month" },
        new()
        {
            Name = "Volume", Type = PlanType.Tiered, PriceText = "Pay per volume",
            Tiers = [new() { UpTo = 10_000, Price = "$0.002 / request" }, new() { UpTo = null, Price = "$0.001 / request" }],
        },
    ];

    public static async Task<ProductDto> ProductAsync(TestDatabase db, string name, bool published = true, bool requiresApproval = true,
        List<PlanRequest>? plans = null, string? title = null, string? upstream = null)
    {
        var created = await db.Get<ProductService>().CreateAsync(await db.RootAsync(), new CreateProduct
        {
            Name = name,
            Title = title ?? $"{name} for everyone",
            Description = $"What {name} does, in a few words.",
            UpstreamUrl = upstream,
            Published = published,
            RequiresApproval = requiresApproval,
            Plans = plans ?? ThreePlans(),
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value;
    }

    public static async Task<ApplicationCreated> ApplicationAsync(TestDatabase db, Actor owner, string name)
    {
        var created = await db.Get<ApplicationService>().CreateAsync(owner, new CreateApplication { Name = name });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value;
    }

    public static async Task<SubscriptionDto> SubscribeAsync(TestDatabase db, Actor owner, Guid applicationId, ProductDto product, string plan)
    {
        var created = await db.Get<SubscriptionService>().CreateAsync(owner, new CreateSubscription
        {
            ApplicationId = applicationId,
            ProductId = product.Id,
            PlanId = product.Plans.Single(p => p.Name == plan).Id,
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value;
    }
}
