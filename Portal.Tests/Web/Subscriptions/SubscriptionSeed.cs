using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Subscriptions;

/// <summary>
/// Registrations in every status, made through the services the pages call: two developers' applications, two
/// products. The clock moves a minute between steps so "newest first" has one answer.
/// </summary>
internal sealed class SubscriptionSeed
{
    public const string RejectionReason = "Tell us what you will use the maps for.";

    public required Actor Dana { get; init; }
    public required Actor Gina { get; init; }
    public required ApplicationDto Mobile { get; init; }
    public required ApplicationDto WebShop { get; init; }
    public required ApplicationDto Billing { get; init; }
    public required ProductDto Payments { get; init; }
    public required ProductDto Maps { get; init; }
    /// <summary>Mobile iOS App → Payments API (Free): WAITING.</summary>
    public required SubscriptionDto MobilePayments { get; init; }
    /// <summary>Billing Sync → Payments API (Gold): WAITING.</summary>
    public required SubscriptionDto BillingPayments { get; init; }
    /// <summary>Web Shop → Maps API (Free): APPROVED.</summary>
    public required SubscriptionDto WebShopMaps { get; init; }
    /// <summary>Mobile iOS App → Maps API (Gold): REJECTED with <see cref="RejectionReason"/>.</summary>
    public required SubscriptionDto MobileMaps { get; init; }
    /// <summary>Web Shop → Payments API (Free): UNSUBSCRIBED.</summary>
    public required SubscriptionDto WebShopPayments { get; init; }

    public static async Task<Actor> DeveloperAsync(TestDatabase db, string email, string displayName)
    {
        var created = await db.Get<UserService>().CreateAsync(await db.RootAsync(),
            new CreateUser { Email = email, DisplayName = displayName, Password = "Passw0rd!", Roles = [Roles.Developer] });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return new Actor(created.Value.Id, created.Value.Email, created.Value.Roles);
    }

    public static async Task<ApplicationDto> ApplicationAsync(TestDatabase db, Actor owner, string name)
    {
        var created = await db.Get<ApplicationService>().CreateAsync(owner, new CreateApplication { Name = name });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value.Application;
    }

    public static async Task<ProductDto> ProductAsync(TestDatabase db, string name, string slug, string description)
    {
        var created = await db.Get<ProductService>().CreateAsync(await db.RootAsync(), new CreateProduct
        {
            Name = name,
            Slug = slug,
            Title = description,
            Description = description,
            Published = true,
            RequiresApproval = true,
            Plans =
            [
                new PlanRequest { Name = "Free", Type = PlanType.Free, RateLimit = 5, RateLimitWindow = RateLimitWindow.Second, Quota = 1000, QuotaPeriod = QuotaPeriod.Day },
                new PlanRequest { Name = "Gold", Type = PlanType.Subscription, RateLimit = 100, Quota = 1_000_000, PriceText = "$49 / month" },
            ],
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value;
    }

    public static async Task<SubscriptionDto> SubscribeAsync(TestDatabase db, Actor developer, ApplicationDto app, ProductDto product, string plan)
    {
        db.Clock.Advance(TimeSpan.FromMinutes(1));
        var created = await db.Get<SubscriptionService>().CreateAsync(developer, new CreateSubscription
        {
            ApplicationId = app.Id,
            ProductId = product.Id,
            PlanId = product.Plans.Single(p => p.Name == plan).Id,
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value;
    }

    public static async Task<SubscriptionSeed> CreateAsync(TestDatabase db)
    {
        var root = await db.RootAsync();
        var subscriptions = db.Get<SubscriptionService>();
        var dana = await DeveloperAsync(db, "dana.dev@portal.test", "Dana Developer");
        var gina = await DeveloperAsync(db, "gina@globex.test", "Globex Team");
        var mobile = await ApplicationAsync(db, dana, "Mobile iOS App");
        var webShop = await ApplicationAsync(db, dana, "Web Shop");
        var billing = await ApplicationAsync(db, gina, "Billing Sync");
        var payments = await ProductAsync(db, "Payments API", "payments-api", "Take card payments and refunds");
        var maps = await ProductAsync(db, "Maps API", "maps-api", "Geocoding and routing");

        var webShopPayments = await SubscribeAsync(db, dana, webShop, payments, "Free");
        webShopPayments = (await subscriptions.UnsubscribeAsync(dana, webShopPayments.Id)).Value;
        var webShopMaps = await SubscribeAsync(db, dana, webShop, maps, "Free");
        db.Clock.Advance(TimeSpan.FromMinutes(1));
        webShopMaps = (await subscriptions.ApproveAsync(root, webShopMaps.Id, new DecideSubscription())).Value;
        var mobileMaps = await SubscribeAsync(db, dana, mobile, maps, "Gold");
        db.Clock.Advance(TimeSpan.FromMinutes(1));
        mobileMaps = (await subscriptions.RejectAsync(root, mobileMaps.Id, new DecideSubscription { Reason = RejectionReason })).Value;
        var mobilePayments = await SubscribeAsync(db, dana, mobile, payments, "Free");
        var billingPayments = await SubscribeAsync(db, gina, billing, payments, "Gold");

        return new SubscriptionSeed
        {
            Dana = dana, Gina = gina, Mobile = mobile, WebShop = webShop, Billing = billing, Payments = payments, Maps = maps,
            MobilePayments = mobilePayments, BillingPayments = billingPayments, WebShopMaps = webShopMaps,
            MobileMaps = mobileMaps, WebShopPayments = webShopPayments,
        };
    }
}
