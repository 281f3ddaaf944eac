using Bunit;
using Bunit.Rendering;
using MudBlazor;
using MudBlazor.Extensions;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Support;
using Portal.Web.Features.Products;

namespace Portal.Tests.Web.Products;

/// <summary>The product page at /products/{slug}: plans, Subscribe, the caller's registrations, with real services over SQLite.</summary>
public sealed class ProductPageTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Plans_StandSideBySide_WithPriceLimitsQuotaAndTiers()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API", title: "Take card payments", upstream: "https://payments.internal/v2");
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var cut = RenderProduct("payments-api");

        Assert.Contains("Payments API", cut.Find("h1").TextContent);
        Assert.Contains("Take card payments", cut.Find("[data-testid=product-header]").TextContent);
        var plans = cut.Find("[data-testid=product-plans]");
        Assert.Contains("product-plans", plans.ClassList);
        var cards = plans.QuerySelectorAll("[data-testid=plan-card]");
        Assert.Equal(["Free", "Gold", "Volume"], cards.Select(c => c.QuerySelector("[data-testid=plan-name]")!.TextContent.Trim()));
        Assert.Equal(["Free", "$49 / month", "Pay per volume"], cards.Select(c => c.QuerySelector("[data-testid=plan-price]")!.TextContent.Trim()));
        Assert.Equal(["5 requests / second", "100 requests / minute", "No rate limit"], cards.Select(c => c.QuerySelector("[data-testid=plan-rate-limit]")!.TextContent.Trim()));
        Assert.Equal(["1,000 requests / day", "Unlimited", "Unlimited"], cards.Select(c => c.QuerySelector("[data-testid=plan-quota]")!.TextContent.Trim()));
        var tiers = cards[2].QuerySelectorAll("[data-testid=plan-tier]").Select(r => r.TextContent.Trim()).ToList();
        Assert.Equal(["Up to 10,000$0.002 / request", "Above 10,000$0.001 / request"], tiers);
        Assert.Empty(cards[0].QuerySelectorAll("[data-testid=plan-tiers]"));
        Assert.Equal(3, cut.FindAll("[data-testid=subscribe]").Count);
        // Admin-only facts stay hidden from developers.
        Assert.Empty(cut.FindAll("[data-testid=product-upstream], [data-testid=edit-product], [data-testid=product-draft]"));
    }

    [Fact]
    public async Task UnknownSlug_ShowsNotFound()
    {
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var cut = RenderWithProviders<ProductPage>(("Slug", "no-such-product"));

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=product-not-found]")), Wait);
    }

    [Fact]
    public async Task Draft_IsNotFoundForADeveloper()
    {
        await ProductCatalog.ProductAsync(Db, "Secret Beta API", published: false, upstream: "https://beta.internal");
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var cut = RenderWithProviders<ProductPage>(("Slug", "secret-beta-api"));

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=product-not-found]")), Wait);
        Assert.DoesNotContain("Secret Beta API", cut.Markup);
        Assert.DoesNotContain("beta.internal", cut.Markup);
    }

    [Fact]
    public async Task Draft_IsShownMarkedToAnAdmin_WithUpstreamAndEdit()
    {
        await ProductCatalog.ProductAsync(Db, "Secret Beta API", published: false, upstream: "https://beta.internal");
        SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);

        var adminView = RenderProduct("secret-beta-api");
        Assert.NotNull(adminView.Find("[data-testid=product-draft]"));
        Assert.Contains("https://beta.internal", adminView.Find("[data-testid=product-upstream]").TextContent);
        Assert.NotNull(adminView.Find("[data-testid=edit-product]"));
    }

    [Fact]
    public async Task ReadOnly_SeesPlansWithoutSubscribeOrEdit()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        SignInAs((await Db.CreateUserAsync(Roles.ReadOnly)).Actor);

        var cut = RenderProduct("payments-api");

        Assert.Equal(3, cut.FindAll("[data-testid=plan-card]").Count);
        Assert.Empty(cut.FindAll("[data-testid=subscribe], [data-testid=edit-product], [data-testid=product-registrations], [data-testid=try-it]"));
    }

    [Fact]
    public async Task Subscribe_CreatesAWaitingRegistration_AndListsIt()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        var developer = SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var app = await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        var cut = RenderProduct("payments-api");
        Assert.NotNull(cut.Find("[data-testid=registrations-empty]"));

        cut.FindAll("[data-testid=subscribe]")[1].Click();
        cut.WaitForElement("[data-testid=subscribe-confirm]", Wait);
        Assert.Equal(product.Plans[1].Id, cut.FindComponents<MudSelect<Guid?>>().Single(s => s.Instance.Label == "Plan").Instance.GetState(x => x.Value));
        cut.Find("form#subscribe-form").Submit();

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("Subscription requested — waiting for approval", cut.Find(".mud-snackbar").TextContent);
            Assert.Empty(cut.FindAll(".mud-dialog"));
            var row = Assert.Single(cut.FindAll("[data-testid=product-registrations] tbody tr"));
            Assert.Contains("Mobile iOS App", row.TextContent);
            Assert.Contains("Gold", row.TextContent);
            Assert.Equal("WAITING", row.QuerySelector("[data-testid=subscription-status]")!.GetAttribute("data-status"));
        }, Wait);
        var stored = Assert.Single((await Db.Get<SubscriptionService>().ListAsync(developer, new SubscriptionQuery { ProductId = product.Id })).Value.Items);
        Assert.Equal(SubscriptionStatus.Waiting, stored.Status);
        Assert.Equal(app.Application.Id, stored.ApplicationId);
        Assert.Equal(product.Plans[1].Id, stored.PlanId);
    }

    [Fact]
    public async Task Subscribe_ToAProductWithoutApproval_IsApprovedAtOnce()
    {
        await ProductCatalog.ProductAsync(Db, "Open Data API", requiresApproval: false);
        var developer = SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        var cut = RenderProduct("open-data-api");

        cut.FindAll("[data-testid=subscribe]")[0].Click();
        cut.WaitForElement("form#subscribe-form", Wait).Submit();

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("Subscribed — approved", cut.Find(".mud-snackbar").TextContent);
            Assert.Equal("APPROVED", cut.Find("[data-testid=product-registrations] [data-testid=subscription-status]").GetAttribute("data-status"));
        }, Wait);
    }

    [Fact]
    public async Task Subscribe_WhenAlreadyRegistered_ShowsTheConflictInTheDialog()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        var developer = SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var app = await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        await ProductCatalog.SubscribeAsync(Db, developer, app.Application.Id, product, "Free");
        var cut = RenderProduct("payments-api");

        cut.FindAll("[data-testid=subscribe]")[1].Click();
        cut.WaitForElement("form#subscribe-form", Wait).Submit();

        cut.WaitForAssertion(() => Assert.Contains("already has a WAITING registration", cut.Find("[data-testid=dialog-error]").TextContent), Wait);
        Assert.NotEmpty(cut.FindAll(".mud-dialog"));
    }

    [Fact]
    public async Task Subscribe_WithoutApplications_LinksToMyApplications()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var cut = RenderProduct("payments-api");

        cut.FindAll("[data-testid=subscribe]")[0].Click();

        cut.WaitForAssertion(() => Assert.Equal("/applications", cut.Find("[data-testid=subscribe-create-application]").GetAttribute("href")), Wait);
        Assert.Empty(cut.FindAll("[data-testid=subscribe-confirm]"));
    }

    [Fact]
    public async Task Registrations_ShowOnlyTheCallersOwn_WithTheRejectionReason()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        var other = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        var theirs = await ProductCatalog.ApplicationAsync(Db, other, "Someone else's app");
        await ProductCatalog.SubscribeAsync(Db, other, theirs.Application.Id, product, "Free");
        var developer = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        var mine = await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        var rejected = await ProductCatalog.SubscribeAsync(Db, developer, mine.Application.Id, product, "Gold");
        await Db.Get<SubscriptionService>().RejectAsync(await Db.RootAsync(), rejected.Id, new DecideSubscription { Reason = "Tell us about your use case." });
        SignInAs(developer);

        var cut = RenderProduct("payments-api");

        cut.WaitForAssertion(() =>
        {
            var row = Assert.Single(cut.FindAll("[data-testid=product-registrations] tbody tr"));
            Assert.Equal("REJECTED", row.QuerySelector("[data-testid=subscription-status]")!.GetAttribute("data-status"));
            Assert.Contains("Tell us about your use case.", row.QuerySelector("[data-testid=registration-reason]")!.TextContent);
        }, Wait);
        Assert.DoesNotContain("Someone else's app", cut.Markup);
    }

    [Fact]
    public async Task Registrations_OfADeletedApplication_StayAsHistory_MarkedDeleted_WithoutALink()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        var developer = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        var gone = await ProductCatalog.ApplicationAsync(Db, developer, "Old Shop");
        await ProductCatalog.SubscribeAsync(Db, developer, gone.Application.Id, product, "Free");
        Assert.True((await Db.Get<ApplicationService>().DeleteAsync(developer, gone.Application.Id)).IsSuccess);
        SignInAs(developer);

        var cut = RenderProduct("payments-api");

        cut.WaitForAssertion(() =>
        {
            var row = Assert.Single(cut.FindAll("[data-testid=product-registrations] tbody tr"));
            Assert.Equal("UNSUBSCRIBED", row.QuerySelector("[data-testid=subscription-status]")!.GetAttribute("data-status"));
            Assert.Equal("Old Shop (deleted)", row.QuerySelector("[data-testid=subscription-application-deleted]")!.TextContent.Trim());
            Assert.Null(row.QuerySelector("a"));
        }, Wait);
    }

    [Fact]
    public async Task Registrations_ForAnAdmin_AreTheirOwnApplicationsOnly()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        var developer = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        var theirs = await ProductCatalog.ApplicationAsync(Db, developer, "A developer's app");
        await ProductCatalog.SubscribeAsync(Db, developer, theirs.Application.Id, product, "Free");
        var admin = SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);
        // An admin has no personal account; give them a team of their own to hold a test application.
        var team = await Db.Get<AccountService>().CreateAsync(admin, new CreateAccount { Name = "Platform team", MemberIds = [admin.UserId] });
        Assert.True(team.IsSuccess, team.Error?.Detail);
        var own = await ProductCatalog.ApplicationAsync(Db, admin, "Admin's test app");
        await ProductCatalog.SubscribeAsync(Db, admin, own.Application.Id, product, "Gold");

        var cut = RenderProduct("payments-api");

        cut.WaitForAssertion(() => Assert.Contains("Admin's test app", Assert.Single(cut.FindAll("[data-testid=product-registrations] tbody tr")).TextContent), Wait);
        Assert.DoesNotContain("A developer's app", cut.Markup);
    }

    [Fact]
    public async Task TryIt_WithOneOfYourKeys_ShowsValid_ThenRateLimitedWithARetryTime()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API", requiresApproval: false, plans:
            [new() { Name = "Trial", Type = PlanType.Free, RateLimit = 1, RateLimitWindow = RateLimitWindow.Minute, Quota = 100, QuotaPeriod = QuotaPeriod.Day }]);
        var developer = SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var app = await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        await ProductCatalog.SubscribeAsync(Db, developer, app.Application.Id, product, "Trial");
        var cut = RenderProduct("payments-api");
        cut.WaitForAssertion(() => Assert.Contains($"Mobile iOS App · {app.Key.MaskedKey}", cut.Find("[data-testid=try-key-select]").InnerHtml), Wait);

        cut.Find("[data-testid=try-verify]").Click();

        cut.WaitForAssertion(() => Assert.Equal("VALID", cut.Find("[data-testid=try-code]").GetAttribute("data-code")), Wait);
        Assert.Contains("mud-chip-color-success", cut.Find("[data-testid=try-code]").ClassName);
        Assert.Equal("Trial (Free)", cut.Find("[data-testid=try-plan]").TextContent.Trim());
        Assert.StartsWith("0 of 1 left · resets in", cut.Find("[data-testid=try-ratelimit]").TextContent.Trim());
        Assert.StartsWith("99 of 100 left", cut.Find("[data-testid=try-quota]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=try-retry-after]"));

        cut.Find("[data-testid=try-verify]").Click();

        cut.WaitForAssertion(() => Assert.Equal("RATE_LIMITED", cut.Find("[data-testid=try-code]").GetAttribute("data-code")), Wait);
        Assert.Contains("mud-chip-color-warning", cut.Find("[data-testid=try-code]").ClassName);
        Assert.Matches(@"^Retry after \d+ s$", cut.Find("[data-testid=try-retry-after]").TextContent.Trim());
        // A refused check consumed nothing: the quota still has 99 left.
        Assert.StartsWith("99 of 100 left", cut.Find("[data-testid=try-quota]").TextContent.Trim());
    }

    [Fact]
    public async Task TryIt_BeforeApproval_IsNotSubscribed_InRed()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        var developer = SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var app = await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        await ProductCatalog.SubscribeAsync(Db, developer, app.Application.Id, product, "Free");
        var cut = RenderProduct("payments-api");
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=try-verify]").HasAttribute("disabled")), Wait);

        cut.Find("[data-testid=try-verify]").Click();

        cut.WaitForAssertion(() => Assert.Equal("NOT_SUBSCRIBED", cut.Find("[data-testid=try-code]").GetAttribute("data-code")), Wait);
        Assert.Contains("mud-chip-color-error", cut.Find("[data-testid=try-code]").ClassName);
        Assert.Equal("—", cut.Find("[data-testid=try-plan]").TextContent.Trim());
        Assert.Equal("—", cut.Find("[data-testid=try-ratelimit]").TextContent.Trim());
        Assert.Equal("—", cut.Find("[data-testid=try-quota]").TextContent.Trim());
    }

    [Fact]
    public async Task TryIt_WithAPastedKey_VerifiesIt_AndForgetsIt()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API", requiresApproval: false);
        var developer = SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var app = await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        await ProductCatalog.SubscribeAsync(Db, developer, app.Application.Id, product, "Gold");
        var cut = RenderProduct("payments-api");
        var paste = cut.Find("input[data-testid=try-key-paste], [data-testid=try-key-paste] input");
        Assert.Equal("password", paste.GetAttribute("type"));

        paste.Input(app.Key.Key);
        cut.Find("[data-testid=try-verify]").Click();

        cut.WaitForAssertion(() => Assert.Equal("VALID", cut.Find("[data-testid=try-code]").GetAttribute("data-code")), Wait);
        Assert.Equal("Gold (Subscription)", cut.Find("[data-testid=try-plan]").TextContent.Trim());
        Assert.Equal("Unlimited", cut.Find("[data-testid=try-quota]").TextContent.Trim());
        Assert.DoesNotContain(app.Key.Key, cut.Markup);
    }

    [Fact]
    public async Task TryIt_WithAPastedUnknownKey_IsNotFound()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var cut = RenderProduct("payments-api");
        Assert.True(cut.Find("[data-testid=try-verify]").HasAttribute("disabled"));

        cut.Find("input[data-testid=try-key-paste], [data-testid=try-key-paste] input").Input("ptl_not-a-real-key");
        cut.Find("[data-testid=try-verify]").Click();

        cut.WaitForAssertion(() => Assert.Equal("NOT_FOUND", cut.Find("[data-testid=try-code]").GetAttribute("data-code")), Wait);
        // No key, no plan: neither "No rate limit" nor "Unlimited", which would read as a generous answer.
        Assert.Equal("—", cut.Find("[data-testid=try-plan]").TextContent.Trim());
        Assert.Equal("—", cut.Find("[data-testid=try-ratelimit]").TextContent.Trim());
        Assert.Equal("—", cut.Find("[data-testid=try-quota]").TextContent.Trim());
    }

    private IRenderedComponent<ContainerFragment> RenderProduct(string slug)
    {
        var cut = RenderWithProviders<ProductPage>(("Slug", slug));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=product-header]")), Wait);
        return cut;
    }
}
