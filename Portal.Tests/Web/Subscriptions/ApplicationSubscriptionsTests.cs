using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Support;
using Portal.Web.Features.Applications;

namespace Portal.Tests.Web.Subscriptions;

/// <summary>The application detail's "API Products" section (seed 001): its registrations, with Unregister for open ones.</summary>
public sealed class ApplicationSubscriptionsTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private SubscriptionSeed _seed = default!;

    private SubscriptionService Subscriptions => Db.Get<SubscriptionService>();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _seed = await SubscriptionSeed.CreateAsync(Db);
    }

    [Fact]
    public void Developer_SeesTheApplicationsRegistrations_OpenFirst_WithTheRejectionReason()
    {
        SignInAs(_seed.Dana);

        var cut = RenderWithProviders<ApplicationDetailPage>(("Id", _seed.Mobile.Id));

        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);
        var (open, rejected) = (Rows(cut)[0], Rows(cut)[1]);
        Assert.Equal("Payments API", open.QuerySelector("a[data-testid=application-subscription-product]")!.TextContent.Trim());
        Assert.Equal("/products/payments-api", open.QuerySelector("a[data-testid=application-subscription-product]")!.GetAttribute("href"));
        Assert.Contains("Take card payments and refunds", open.TextContent);
        Assert.Equal("Free", open.QuerySelector("[data-testid=application-subscription-plan]")!.TextContent.Trim());
        Assert.Equal("WAITING", StatusOf(open));
        Assert.NotNull(open.QuerySelector("[data-testid=application-subscription-unregister]"));

        Assert.Equal("Maps API", rejected.QuerySelector("a[data-testid=application-subscription-product]")!.TextContent.Trim());
        Assert.Equal("Gold", rejected.QuerySelector("[data-testid=application-subscription-plan]")!.TextContent.Trim());
        Assert.Equal("REJECTED", StatusOf(rejected));
        Assert.Contains(SubscriptionSeed.RejectionReason, rejected.QuerySelector("[data-testid=application-subscription-reason]")!.TextContent);
        Assert.Null(rejected.QuerySelector("[data-testid=application-subscription-unregister]"));
        Assert.DoesNotContain("Billing Sync", cut.Markup);
    }

    [Fact]
    public async Task Developer_Unregisters_AfterConfirming()
    {
        SignInAs(_seed.Dana);
        var cut = RenderWithProviders<ApplicationDetailPage>(("Id", _seed.WebShop.Id));
        cut.WaitForAssertion(() => Assert.Equal(["APPROVED", "UNSUBSCRIBED"], Rows(cut).Select(StatusOf)), Wait);

        Rows(cut)[0].QuerySelector("[data-testid=application-subscription-unregister]")!.Click();
        var dialog = cut.WaitForElement(".mud-dialog", Wait);
        Assert.Contains("\"Web Shop\"", dialog.TextContent);
        Assert.Contains("\"Maps API\"", dialog.TextContent);
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Unregister").Click();

        cut.WaitForAssertion(() =>
        {
            Assert.Equal(["UNSUBSCRIBED", "UNSUBSCRIBED"], Rows(cut).Select(StatusOf));
            Assert.Empty(cut.FindAll("[data-testid=application-subscription-unregister]"));
            Assert.Contains("Unregistered from Maps API", cut.Find(".mud-snackbar").TextContent);
        }, Wait);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Subscriptions.GetAsync(_seed.Dana, _seed.WebShopMaps.Id)).Value.Status);
    }

    [Fact]
    public async Task NoRegistrations_ShowsTheEmptyStateWithALinkToTheCatalog()
    {
        var app = await SubscriptionSeed.ApplicationAsync(Db, _seed.Dana, "Fresh App");
        SignInAs(_seed.Dana);

        var cut = RenderWithProviders<ApplicationDetailPage>(("Id", app.Id));

        cut.WaitForAssertion(() =>
        {
            var empty = cut.Find("[data-testid=application-products-empty]");
            Assert.Contains("No API product registrations yet", empty.TextContent);
            Assert.Equal("/products", empty.QuerySelector("a[data-testid=browse-products]")!.GetAttribute("href"));
        }, Wait);
        Assert.Empty(Rows(cut));
    }

    [Fact]
    public async Task ReadOnly_OnPortalAppDetail_SeesRegistrations_WithoutUnregister()
    {
        SignInAs((await Db.CreateUserAsync(Roles.ReadOnly)).Actor);

        var cut = RenderWithProviders<PortalAppDetailPage>(("Id", _seed.Billing.Id));

        cut.WaitForAssertion(() => Assert.Equal(["WAITING"], Rows(cut).Select(StatusOf)), Wait);
        Assert.Empty(cut.FindAll("[data-testid=application-subscription-unregister]"));
    }

    [Fact]
    public async Task Admin_OnPortalAppDetail_UnregistersAnotherAccountsApplication()
    {
        var admin = SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);
        var cut = RenderWithProviders<PortalAppDetailPage>(("Id", _seed.Billing.Id));
        cut.WaitForAssertion(() => Assert.Single(Rows(cut)), Wait);

        Rows(cut)[0].QuerySelector("[data-testid=application-subscription-unregister]")!.Click();
        cut.WaitForElement(".mud-dialog", Wait);
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Unregister").Click();

        cut.WaitForAssertion(() => Assert.Equal(["UNSUBSCRIBED"], Rows(cut).Select(StatusOf)), Wait);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Subscriptions.GetAsync(admin, _seed.BillingPayments.Id)).Value.Status);
    }

    private static List<IElement> Rows(IRenderedComponent<ContainerFragment> cut) => [.. cut.FindAll("tr.application-subscription")];

    private static string StatusOf(IElement row) => row.QuerySelector("[data-testid=subscription-status]")!.GetAttribute("data-status")!;
}
