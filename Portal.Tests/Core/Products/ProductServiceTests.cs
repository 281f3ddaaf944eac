using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Products;

public sealed class ProductServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _root = null!;
    private ProductService Products => _db.Get<ProductService>();
    private SubscriptionService Subscriptions => _db.Get<SubscriptionService>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    internal static PlanRequest Plan(string name, PlanType type = PlanType.Free, params PlanTierRequest[] tiers) =>
        new() { Name = name, Type = type, RateLimit = 10, Quota = 1000, PriceText = type == PlanType.Free ? "Free" : "$49 / month", Tiers = [.. tiers] };

    internal static PlanTierRequest Tier(long? upTo, string price) => new() { UpTo = upTo, Price = price };

    private async Task<ProductDto> CreateAsync(string name = "Payments API", bool published = true, bool requiresApproval = true, string? slug = null, params PlanRequest[] plans)
    {
        var result = await Products.CreateAsync(_root, new CreateProduct
        {
            Name = name,
            Slug = slug,
            Title = "Take card payments",
            Description = "Charges, refunds and payouts.",
            UpstreamUrl = "https://payments.internal.example/v2",
            Published = published,
            RequiresApproval = requiresApproval,
            Plans = plans.Length > 0 ? [.. plans] : [Plan("Free"), Plan("Pro", PlanType.Subscription)],
        });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private async Task<(Actor Developer, ApplicationDto App)> DeveloperWithAppAsync()
    {
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        var app = await _db.Get<ApplicationService>().CreateAsync(dev, new CreateApplication { Name = "Web Shop" });
        return (dev, app.Value.Application);
    }

    private async Task<SubscriptionDto> SubscribeAsync(Actor dev, ApplicationDto app, ProductDto product, int plan = 0)
    {
        var result = await Subscriptions.CreateAsync(dev, new CreateSubscription { ApplicationId = app.Id, ProductId = product.Id, PlanId = product.Plans[plan].Id });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private static IReadOnlyDictionary<string, string[]> FieldErrors<T>(Result<T> result) => Assert.IsType<ValidationError>(result.Error).Errors;

    [Fact]
    public async Task UpstreamUrl_IsShownToThoseWhoSeeEveryProduct_NotToDevelopers()
    {
        var product = await CreateAsync();
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);

        Assert.Equal("https://payments.internal.example/v2", product.UpstreamUrl);
        Assert.Null((await Products.GetAsync(dev, product.Slug)).Value.UpstreamUrl);
        Assert.All((await Products.ListAsync(dev, new ProductQuery())).Value.Items, p => Assert.Null(p.UpstreamUrl));
        Assert.Equal(product.UpstreamUrl, (await Products.GetAsync(readOnly, product.Slug)).Value.UpstreamUrl);
    }

    [Fact]
    public async Task Create_DerivesTheSlugFromTheName_KeepsPlansInOrder_AndAudits()
    {
        var product = await CreateAsync("Crème Payments API v2 (beta)", plans: [Plan("Starter"), Plan("Business", PlanType.Metered), Plan("Enterprise", PlanType.Subscription)]);

        Assert.Equal("creme-payments-api-v2-beta", product.Slug);
        Assert.Equal(["Starter", "Business", "Enterprise"], product.Plans.Select(p => p.Name));
        Assert.True(product.RequiresApproval);
        Assert.Equal(0, product.OpenSubscriptions);
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.ProductCreated && a.TargetId == product.Id.ToString()));
        Assert.Equal(product.Slug, (await Products.GetAsync(_root, product.Slug)).Value.Slug);
        Assert.Equal(product.Id, (await Products.GetAsync(_root, product.Id.ToString())).Value.Id);
        Assert.Equal(product.Id, (await Products.GetAsync(_root, "CREME-PAYMENTS-API-V2-BETA")).Value.Id);
    }

    [Theory]
    [InlineData("Payments API", "payments-api")]
    [InlineData("  --Hello,   World!--  ", "hello-world")]
    [InlineData("Ünïcödé Çafé", "unicode-cafe")]
    [InlineData("v2.1 / REST", "v2-1-rest")]
    [InlineData("日本語", "")]
    public void SlugFrom_LowercaseLettersDigitsAndSingleHyphens(string name, string slug) =>
        Assert.Equal(slug, ProductService.SlugFrom(name));

    [Fact]
    public async Task Create_SlugThatCannotBeDerived_Is400OnSlug_ExplicitSlugWorks()
    {
        var bad = await Products.CreateAsync(_root, new CreateProduct { Name = "日本語", Plans = [Plan("Free")] });
        Assert.Contains("slug", FieldErrors(bad).Keys);
        var good = await Products.CreateAsync(_root, new CreateProduct { Name = "日本語", Slug = "japanese", Plans = [Plan("Free")] });
        Assert.Equal("japanese", good.Value.Slug);
    }

    [Fact]
    public async Task Create_SlugClash_Is409WithAClearMessage_DerivedOrGiven()
    {
        await CreateAsync("Payments API");

        var derived = await Products.CreateAsync(_root, new CreateProduct { Name = "payments api", Plans = [Plan("Free")] });
        var given = await Products.CreateAsync(_root, new CreateProduct { Name = "Other", Slug = "payments-api", Plans = [Plan("Free")] });

        var conflict = Assert.IsType<DuplicateProductSlug>(derived.Error);
        Assert.Contains("'payments-api'", conflict.Detail);
        Assert.IsType<DuplicateProductSlug>(given.Error);
        var badSlug = await Products.CreateAsync(_root, new CreateProduct { Name = "Other", Slug = "Not A Slug", Plans = [Plan("Free")] });
        Assert.Contains("slug", FieldErrors(badSlug).Keys);
    }

    [Fact]
    public async Task Create_PlanRules_AreFieldErrors()
    {
        var result = await Products.CreateAsync(_root, new CreateProduct
        {
            Name = "Rules",
            UpstreamUrl = "ftp://nope",
            Plans =
            [
                Plan("Basic"),
                Plan("basic "),
                Plan("Tiered, none", PlanType.Tiered),
                Plan("Tiered, falling", PlanType.Tiered, Tier(10_000, "$0.01"), Tier(5_000, "$0.005")),
                Plan("Tiered, open middle", PlanType.Tiered, Tier(10_000, "$0.01"), Tier(null, "$0.005"), Tier(50_000, "$0.001")),
                new PlanRequest { Name = "", Type = (PlanType)42, RateLimit = 0 },
            ],
        });

        var errors = FieldErrors(result);
        Assert.Contains("already named", Assert.Contains("plans[1].name", errors)[0]);
        Assert.Contains("plans[2].tiers", errors.Keys);
        Assert.Contains("plans[3].tiers[1].upTo", errors.Keys);
        Assert.Contains("plans[4].tiers[1].upTo", errors.Keys);
        Assert.DoesNotContain("plans[4].tiers[2].upTo", errors.Keys);
        Assert.Contains("plans[5].name", errors.Keys);
        Assert.Contains("plans[5].type", errors.Keys);
        Assert.Contains("plans[5].rateLimit", errors.Keys);
        Assert.Contains("upstreamUrl", errors.Keys);
        await using var db = await _db.OpenAsync();
        Assert.False(await db.Products.AnyAsync());
    }

    [Fact]
    public async Task TieredPlan_KeepsItsAscendingTiers_OtherTypesKeepNone()
    {
        var product = await CreateAsync("Maps", plans:
        [
            Plan("Volume", PlanType.Tiered, Tier(10_000, "$0.01 per call"), Tier(100_000, "$0.008 per call"), Tier(null, "$0.005 per call")),
            Plan("Free", PlanType.Free, Tier(5, "ignored")),
        ]);

        var reread = (await Products.GetAsync(_root, "maps")).Value;
        Assert.Equal([new PlanTierDto(10_000, "$0.01 per call"), new PlanTierDto(100_000, "$0.008 per call"), new PlanTierDto(null, "$0.005 per call")], reread.Plans[0].Tiers);
        Assert.Empty(reread.Plans[1].Tiers);
        Assert.Equal(product.Plans.Select(p => p.Id), reread.Plans.Select(p => p.Id));
    }

    [Fact]
    public async Task Publishing_WithoutAnyPlan_Is400()
    {
        var create = await Products.CreateAsync(_root, new CreateProduct { Name = "Empty", Published = true });
        Assert.Contains("published", FieldErrors(create).Keys);

        var draft = (await Products.CreateAsync(_root, new CreateProduct { Name = "Empty" })).Value;
        Assert.False(draft.Published);
        Assert.Contains("published", FieldErrors(await Products.UpdateAsync(_root, draft.Id, new UpdateProduct { Published = true })).Keys);

        var live = await CreateAsync("Live");
        Assert.Contains("plans", FieldErrors(await Products.UpdateAsync(_root, live.Id, new UpdateProduct { Plans = [] })).Keys);
    }

    [Fact]
    public async Task Developers_SeePublishedProductsOnly_DraftsAreNotFound_AndTheyCannotChangeAnything()
    {
        var live = await CreateAsync("Live API");
        var draft = await CreateAsync("Draft API", published: false);
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);

        var list = (await Products.ListAsync(dev, new ProductQuery())).Value;
        Assert.Equal([live.Id], list.Items.Select(p => p.Id));
        Assert.Equal(1, list.Total);
        Assert.Equal([live.Id], (await Products.ListAsync(dev, new ProductQuery { Published = false })).Value.Items.Select(p => p.Id));
        Assert.IsType<NotFoundError>((await Products.GetAsync(dev, draft.Id.ToString())).Error);
        Assert.IsType<NotFoundError>((await Products.GetAsync(dev, draft.Slug)).Error);
        Assert.Equal(live.Id, (await Products.GetAsync(dev, live.Slug)).Value.Id);

        Assert.IsType<ForbiddenError>((await Products.CreateAsync(dev, new CreateProduct { Name = "Mine" })).Error);
        Assert.IsType<ForbiddenError>((await Products.UpdateAsync(dev, live.Id, new UpdateProduct { Name = "Mine" })).Error);
        Assert.IsType<ForbiddenError>((await Products.DeleteAsync(dev, live.Id)).Error);

        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        Assert.Equal(2, (await Products.ListAsync(readOnly, new ProductQuery())).Value.Total);
        Assert.Equal([draft.Id], (await Products.ListAsync(readOnly, new ProductQuery { Published = false })).Value.Items.Select(p => p.Id));
        Assert.IsType<ForbiddenError>((await Products.DeleteAsync(readOnly, live.Id)).Error);
    }

    [Fact]
    public async Task List_SearchesNameSlugAndTitle_AndPagesOnTheServer()
    {
        for (var i = 0; i < 5; i++) await CreateAsync($"Product {i}", slug: $"prod-{i}");
        await Products.CreateAsync(_root, new CreateProduct { Name = "Weather", Slug = "forecast", Title = "Rain or shine", Plans = [Plan("Free")] });

        Assert.Single((await Products.ListAsync(_root, new ProductQuery { Search = "weath" })).Value.Items);
        Assert.Single((await Products.ListAsync(_root, new ProductQuery { Search = "FORECAST" })).Value.Items);
        Assert.Single((await Products.ListAsync(_root, new ProductQuery { Search = "shine" })).Value.Items);
        var page = (await Products.ListAsync(_root, new ProductQuery { Page = 2, PageSize = 2 })).Value;
        Assert.Equal(6, page.Total);
        Assert.Equal(["Product 2", "Product 3"], page.Items.Select(p => p.Name));
        Assert.Equal(2, page.Items[0].Plans.Count);
    }

    [Fact]
    public async Task OpenSubscriptions_CountsWaitingAndApproved_ForAdminsOnly()
    {
        var product = await CreateAsync();
        var (dev, app) = await DeveloperWithAppAsync();
        var (dev2, app2) = await DeveloperWithAppAsync();
        var (dev3, app3) = await DeveloperWithAppAsync();
        await SubscribeAsync(dev, app, product);
        var approved = await SubscribeAsync(dev2, app2, product);
        await Subscriptions.ApproveAsync(_root, approved.Id, new DecideSubscription());
        var rejected = await SubscribeAsync(dev3, app3, product);
        await Subscriptions.RejectAsync(_root, rejected.Id, new DecideSubscription());

        Assert.Equal(2, (await Products.GetAsync(_root, product.Slug)).Value.OpenSubscriptions);
        Assert.Equal(2, (await Products.ListAsync(_root, new ProductQuery())).Value.Items.Single().OpenSubscriptions);
        Assert.Equal(0, (await Products.GetAsync(dev, product.Slug)).Value.OpenSubscriptions);
    }

    [Fact]
    public async Task Update_IsPartial_NullFieldsStay_PlansReplaceTheSetMatchedById()
    {
        var product = await CreateAsync(plans: [Plan("Free"), Plan("Pro", PlanType.Subscription), Plan("Old")]);
        var (free, pro) = (product.Plans[0], product.Plans[1]);
        _db.Clock.Advance(TimeSpan.FromMinutes(5));

        var updated = (await Products.UpdateAsync(_root, product.Id, new UpdateProduct
        {
            Title = "New tagline",
            RequiresApproval = false,
            Plans =
            [
                new PlanRequest { Id = pro.Id, Name = "Pro", Type = PlanType.Tiered, Tiers = [Tier(1000, "$10"), Tier(null, "$5")] },
                new PlanRequest { Id = free.Id, Name = "Free forever", Type = PlanType.Free },
                Plan("Added", PlanType.Metered),
            ],
        })).Value;

        Assert.Equal("Payments API", updated.Name);
        Assert.Equal("payments-api", updated.Slug);
        Assert.Equal("Charges, refunds and payouts.", updated.Description);
        Assert.Equal("New tagline", updated.Title);
        Assert.False(updated.RequiresApproval);
        Assert.Equal(_db.Clock.GetUtcNow(), updated.UpdatedAt);
        Assert.Equal(["Pro", "Free forever", "Added"], updated.Plans.Select(p => p.Name));
        Assert.Equal(pro.Id, updated.Plans[0].Id);
        Assert.Equal(free.Id, updated.Plans[1].Id);
        var reread = (await Products.GetAsync(_root, product.Id.ToString())).Value;
        Assert.Equal(updated.Plans.Select(p => p.Id), reread.Plans.Select(p => p.Id));
        Assert.Equal(2, reread.Plans[0].Tiers.Count);
        Assert.Null(reread.Plans[1].RateLimit);
        await using var db = await _db.OpenAsync();
        Assert.Equal(3, await db.Plans.CountAsync(p => p.ProductId == product.Id));
        var audit = await db.Audit.SingleAsync(a => a.Action == AuditActions.ProductUpdated);
        Assert.Contains("-Old", audit.Details);
        Assert.Contains("+Added", audit.Details);

        // Empty strings clear optional text; nothing changed writes nothing.
        var cleared = (await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Title = "", UpstreamUrl = " " })).Value;
        Assert.Null(cleared.Title);
        Assert.Null(cleared.UpstreamUrl);
        await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Name = "Payments API" });
        Assert.Equal(2, await db.Audit.CountAsync(a => a.Action == AuditActions.ProductUpdated));
    }

    [Fact]
    public async Task Update_UnknownOrRepeatedPlanId_Is400_SlugClash_Is409_UnknownProduct_Is404()
    {
        var product = await CreateAsync();
        var other = await CreateAsync("Other API");

        var unknown = await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Plans = [new PlanRequest { Id = other.Plans[0].Id, Name = "Stolen" }] });
        Assert.Contains("plans[0].id", FieldErrors(unknown).Keys);
        var twice = await Products.UpdateAsync(_root, product.Id, new UpdateProduct
        {
            Plans = [new PlanRequest { Id = product.Plans[0].Id, Name = "A" }, new PlanRequest { Id = product.Plans[0].Id, Name = "B" }],
        });
        Assert.Contains("plans[1].id", FieldErrors(twice).Keys);
        Assert.IsType<DuplicateProductSlug>((await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Slug = "other-api" })).Error);
        Assert.IsType<NotFoundError>((await Products.UpdateAsync(_root, Guid.NewGuid(), new UpdateProduct { Name = "x" })).Error);
        Assert.Equal("payments-v3", (await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Slug = "payments-v3" })).Value.Slug);
    }

    [Fact]
    public async Task RemovingAPlan_UsedByAnOpenSubscription_Is409_EndedOnesGoWithThePlan()
    {
        var product = await CreateAsync();
        var (free, pro) = (product.Plans[0], product.Plans[1]);
        var (dev, app) = await DeveloperWithAppAsync();
        var waiting = await SubscribeAsync(dev, app, product, plan: 1);

        var refused = await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Plans = [new PlanRequest { Id = free.Id, Name = "Free" }] });
        Assert.Contains("'Pro'", Assert.IsType<PlanHasOpenSubscriptions>(refused.Error).Detail);

        await Subscriptions.ApproveAsync(_root, waiting.Id, new DecideSubscription());
        Assert.IsType<PlanHasOpenSubscriptions>((await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Plans = [new PlanRequest { Id = free.Id, Name = "Free" }] })).Error);

        await Subscriptions.UnsubscribeAsync(dev, waiting.Id);
        await using (var db = await _db.OpenAsync())
        {
            db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = waiting.Id, PeriodStart = _db.Clock.GetUtcNow(), Used = 12 });
            await db.SaveChangesAsync();
        }
        var removed = await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Plans = [new PlanRequest { Id = free.Id, Name = "Free" }] });

        Assert.True(removed.IsSuccess, removed.Error?.Detail);
        await using var check = await _db.OpenAsync();
        Assert.False(await check.Plans.AnyAsync(p => p.Id == pro.Id));
        Assert.False(await check.Subscriptions.AnyAsync(s => s.Id == waiting.Id));
        Assert.False(await check.QuotaCounters.AnyAsync());
    }

    [Fact]
    public async Task Delete_RefusedWhileWaitingOrApproved_ThenRemovesEndedSubscriptionsAndCounters()
    {
        var product = await CreateAsync();
        var (dev, app) = await DeveloperWithAppAsync();
        var subscription = await SubscribeAsync(dev, app, product);

        Assert.IsType<ProductHasOpenSubscriptions>((await Products.DeleteAsync(_root, product.Id)).Error);
        await Subscriptions.ApproveAsync(_root, subscription.Id, new DecideSubscription());
        Assert.Contains("1 waiting or approved", (await Products.DeleteAsync(_root, product.Id)).Error!.Detail);

        await Subscriptions.UnsubscribeAsync(_root, subscription.Id);
        await using (var db = await _db.OpenAsync())
        {
            db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscription.Id, PeriodStart = _db.Clock.GetUtcNow(), Used = 5 });
            await db.SaveChangesAsync();
        }
        Assert.True((await Products.DeleteAsync(_root, product.Id)).IsSuccess);

        await using var check = await _db.OpenAsync();
        Assert.False(await check.Products.AnyAsync());
        Assert.False(await check.Plans.AnyAsync());
        Assert.False(await check.Subscriptions.AnyAsync());
        Assert.False(await check.QuotaCounters.AnyAsync());
        Assert.True(await check.Audit.AnyAsync(a => a.Action == AuditActions.ProductDeleted && a.TargetId == product.Id.ToString()));
        Assert.IsType<NotFoundError>((await Products.DeleteAsync(_root, product.Id)).Error);
    }

    [Fact]
    public async Task EverySavedChange_InvalidatesTheVerificationCache()
    {
        var cache = _db.Get<VerificationCache>();
        var before = cache.Generation;
        var product = await CreateAsync();
        Assert.True(cache.Generation > before);

        before = cache.Generation;
        await Products.UpdateAsync(_root, product.Id, new UpdateProduct { RequiresApproval = false });
        Assert.True(cache.Generation > before);

        before = cache.Generation;
        await Products.DeleteAsync(_root, product.Id);
        Assert.True(cache.Generation > before);
    }
}
