using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Support;
using Portal.Web.Features.Subscriptions;

namespace Portal.Tests.Web.Subscriptions;

/// <summary>The Subscriptions page (seed 001, Scenario 2): every registration, WAITING first; approve, reject, unregister.</summary>
public sealed class SubscriptionsPageTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private SubscriptionSeed _seed = default!;
    private Actor _admin = default!;

    private SubscriptionService Subscriptions => Db.Get<SubscriptionService>();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _seed = await SubscriptionSeed.CreateAsync(Db);
        _admin = (await Db.CreateUserAsync(Roles.Admin, "alice.admin@portal.test")).Actor;
    }

    [Fact]
    public void Admin_OpensOnWaiting_WithCountsLinksAndActions()
    {
        SignInAs(_admin);

        var cut = RenderWithProviders<SubscriptionsPage>();

        cut.WaitForAssertion(() => Assert.Equal(["Billing Sync", "Mobile iOS App"], Applications(cut)), Wait);
        Assert.Equal("true", cut.Find("[data-testid=status-filter-waiting]").GetAttribute("data-selected"));
        Assert.Equal(["Waiting 2", "Approved 1", "Rejected 1", "Unsubscribed 1", "All 5"], StatusChips(cut));

        var row = RowOf(cut, "Mobile iOS App");
        Assert.Equal($"/portal-apps/{_seed.Mobile.Id}", row.QuerySelector("[data-testid=subscription-application] a")!.GetAttribute("href"));
        Assert.Equal("Dana Developer", row.QuerySelector("[data-testid=subscription-account]")!.TextContent.Trim());
        Assert.Equal("/products/payments-api", row.QuerySelector("a[data-testid=subscription-product]")!.GetAttribute("href"));
        Assert.Equal("Payments API", row.QuerySelector("a[data-testid=subscription-product]")!.TextContent.Trim());
        Assert.Equal("Free", row.QuerySelector("[data-testid=subscription-plan]")!.TextContent.Trim());
        Assert.Equal("WAITING", StatusOf(row));
        Assert.Contains(_seed.MobilePayments.CreatedAt.UtcDateTime.ToString("dd/MM/yyyy HH:mm"), row.TextContent);
        Assert.Equal(["subscription-approve", "subscription-reject", "subscription-unregister"], ActionsOf(row));
        Assert.Equal("Globex Team", RowOf(cut, "Billing Sync").QuerySelector("[data-testid=subscription-account]")!.TextContent.Trim());
    }

    [Fact]
    public void AllStatuses_ShowEveryRegistration_WithTheActionsItsStatusAllows()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<SubscriptionsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);

        cut.Find("[data-testid=status-filter-all]").Click();

        cut.WaitForAssertion(() => Assert.Equal(5, Rows(cut).Count), Wait);
        Assert.Equal(["APPROVED", "REJECTED", "UNSUBSCRIBED", "WAITING", "WAITING"], Rows(cut).Select(StatusOf).Order());
        var approved = RowWithStatus(cut, "APPROVED");
        Assert.Equal(["subscription-unregister"], ActionsOf(approved));
        Assert.Contains(_seed.WebShopMaps.DecidedAt!.Value.UtcDateTime.ToString("dd/MM/yyyy HH:mm"),
            approved.QuerySelector("[data-testid=subscription-decided]")!.TextContent);
        var rejected = RowWithStatus(cut, "REJECTED");
        Assert.Empty(ActionsOf(rejected));
        Assert.Equal(SubscriptionSeed.RejectionReason, rejected.QuerySelector("[data-testid=subscription-reason]")!.TextContent.Trim());
        var unsubscribed = RowWithStatus(cut, "UNSUBSCRIBED");
        Assert.Empty(ActionsOf(unsubscribed));
        Assert.NotNull(unsubscribed.QuerySelector("[data-testid=subscription-decided]"));
    }

    [Fact]
    public async Task ProductAndSearchFilters_NarrowTheList_AndTheEmptyStateSaysSo()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<SubscriptionsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);
        cut.Find("[data-testid=status-filter-all]").Click();
        cut.WaitForAssertion(() => Assert.Equal(5, Rows(cut).Count), Wait);

        // Choosing from the popover list needs a browser's layout; invoke the select's change callback as a click would.
        var product = cut.FindComponents<MudSelect<Guid?>>().Single(s => s.Instance.Label == "Product");
        await cut.InvokeAsync(() => product.Instance.ValueChanged.InvokeAsync(_seed.Maps.Id));
        cut.WaitForAssertion(() => Assert.Equal(["Mobile iOS App", "Web Shop"], Applications(cut)), Wait);
        Assert.Equal(["Waiting 0", "Approved 1", "Rejected 1", "Unsubscribed 0", "All 2"], StatusChips(cut));

        cut.Find("[data-testid=subscriptions-search] input, input[data-testid=subscriptions-search]").Input("Globex");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));
        cut.WaitForAssertion(() => Assert.Contains("No registrations match these filters", cut.Find("[data-testid=subscriptions-empty]").TextContent), Wait);

        await cut.InvokeAsync(() => product.Instance.ValueChanged.InvokeAsync(null));
        cut.WaitForAssertion(() => Assert.Equal(["Billing Sync"], Applications(cut)), Wait);
    }

    [Fact]
    public async Task EmptyStates_SayWhatIsMissing_ForEachStatus()
    {
        foreach (var waiting in new[] { _seed.MobilePayments, _seed.BillingPayments })
            await Subscriptions.RejectAsync(await Db.RootAsync(), waiting.Id, new DecideSubscription());
        SignInAs(_admin);

        var cut = RenderWithProviders<SubscriptionsPage>();

        cut.WaitForAssertion(() => Assert.Contains("Nothing is waiting for a decision", cut.Find("[data-testid=subscriptions-empty]").TextContent), Wait);
        cut.Find("[data-testid=subscriptions-show-all]").Click();
        cut.WaitForAssertion(() => Assert.Equal(5, Rows(cut).Count), Wait);
        Assert.Equal("true", cut.Find("[data-testid=status-filter-all]").GetAttribute("data-selected"));
    }

    [Fact]
    public async Task Approve_InTheWaitingList_ReloadsIt_SoTheApprovedRowLeavesAsItsCountDrops()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<SubscriptionsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);

        RowOf(cut, "Mobile iOS App").QuerySelector("[data-testid=subscription-approve]")!.Click();

        cut.WaitForAssertion(() =>
        {
            Assert.Equal(["Billing Sync"], Applications(cut));
            Assert.Contains("Approved Mobile iOS App for Payments API", cut.Find(".mud-snackbar").TextContent);
            Assert.Equal(["Waiting 1", "Approved 2", "Rejected 1", "Unsubscribed 1", "All 5"], StatusChips(cut));
        }, Wait);
        Assert.Equal(SubscriptionStatus.Approved, (await Subscriptions.GetAsync(_admin, _seed.MobilePayments.Id)).Value.Status);

        cut.Find("[data-testid=status-filter-approved]").Click();
        cut.WaitForAssertion(() => Assert.Contains("Mobile iOS App", Applications(cut)), Wait);
        Assert.Equal(["subscription-unregister"], ActionsOf(RowOf(cut, "Mobile iOS App")));
    }

    [Fact]
    public async Task Approve_InTheAllList_TurnsTheRowApproved_WithOnlyUnregisterLeft()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<SubscriptionsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);
        cut.Find("[data-testid=status-filter-all]").Click();
        cut.WaitForAssertion(() => Assert.Equal(5, Rows(cut).Count), Wait);

        RowOf(cut, _seed.MobilePayments).QuerySelector("[data-testid=subscription-approve]")!.Click();

        cut.WaitForAssertion(() =>
        {
            var row = RowOf(cut, _seed.MobilePayments);
            Assert.Equal("APPROVED", StatusOf(row));
            Assert.Equal(["subscription-unregister"], ActionsOf(row));
            Assert.Equal(["Waiting 1", "Approved 2", "Rejected 1", "Unsubscribed 1", "All 5"], StatusChips(cut));
        }, Wait);
        Assert.Equal(5, Rows(cut).Count);
        Assert.Equal(SubscriptionStatus.Approved, (await Subscriptions.GetAsync(_admin, _seed.MobilePayments.Id)).Value.Status);
    }

    [Fact]
    public async Task Reject_WithAReason_RejectsAndShowsTheReason()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<SubscriptionsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);

        RowOf(cut, "Billing Sync").QuerySelector("[data-testid=subscription-reject]")!.Click();
        var dialog = cut.WaitForElement(".mud-dialog", Wait);
        Assert.Contains("Billing Sync", dialog.TextContent);
        Assert.Contains("Payments API", dialog.TextContent);
        cut.Find("[data-testid=reject-reason] textarea, textarea[data-testid=reject-reason]").Input("  Not for resale partners.  ");
        cut.Find("[data-testid=reject-confirm]").Click();

        // The rejected row leaves the Waiting list and shows, with its reason, under Rejected.
        cut.WaitForAssertion(() =>
        {
            Assert.Empty(cut.FindAll(".mud-dialog"));
            Assert.Equal(["Mobile iOS App"], Applications(cut));
            Assert.Equal(["Waiting 1", "Approved 1", "Rejected 2", "Unsubscribed 1", "All 5"], StatusChips(cut));
        }, Wait);
        cut.Find("[data-testid=status-filter-rejected]").Click();
        cut.WaitForAssertion(() =>
        {
            var row = RowOf(cut, "Billing Sync");
            Assert.Equal("REJECTED", StatusOf(row));
            Assert.Empty(ActionsOf(row));
            Assert.Equal("Not for resale partners.", row.QuerySelector("[data-testid=subscription-reason]")!.TextContent.Trim());
        }, Wait);
        var stored = (await Subscriptions.GetAsync(_admin, _seed.BillingPayments.Id)).Value;
        Assert.Equal(SubscriptionStatus.Rejected, stored.Status);
        Assert.Equal("Not for resale partners.", stored.Reason);
    }

    [Fact]
    public async Task Unregister_AfterConfirmingTheApplicationAndProduct_Unsubscribes()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<SubscriptionsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);
        cut.Find("[data-testid=status-filter-all]").Click();
        cut.WaitForAssertion(() => Assert.Equal(5, Rows(cut).Count), Wait);

        RowOf(cut, _seed.MobilePayments).QuerySelector("[data-testid=subscription-unregister]")!.Click();
        var dialog = cut.WaitForElement(".mud-dialog", Wait);
        Assert.Contains("\"Mobile iOS App\"", dialog.TextContent);
        Assert.Contains("\"Payments API\"", dialog.TextContent);
        // The shared confirmation: Cancel, and a red button naming the action.
        var confirm = cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Unregister");
        Assert.Contains("mud-button-filled-error", confirm.ClassName);
        confirm.Click();

        cut.WaitForAssertion(() => Assert.Equal("UNSUBSCRIBED", StatusOf(RowOf(cut, _seed.MobilePayments))), Wait);
        Assert.Empty(ActionsOf(RowOf(cut, _seed.MobilePayments)));
        Assert.Equal(["Waiting 1", "Approved 1", "Rejected 1", "Unsubscribed 2", "All 5"], StatusChips(cut));
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Subscriptions.GetAsync(_admin, _seed.MobilePayments.Id)).Value.Status);
    }

    [Fact]
    public async Task Approve_AfterSomeoneElseDecided_ShowsTheConflictAndReloads()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<SubscriptionsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);
        var root = await Db.RootAsync();
        await Subscriptions.RejectAsync(root, _seed.MobilePayments.Id, new DecideSubscription());

        RowOf(cut, "Mobile iOS App").QuerySelector("[data-testid=subscription-approve]")!.Click();

        var conflict = Assert.IsAssignableFrom<ConflictError>((await Subscriptions.ApproveAsync(root, _seed.MobilePayments.Id, new DecideSubscription())).Error);
        cut.WaitForAssertion(() =>
        {
            Assert.Contains(conflict.Detail, cut.Find(".mud-snackbar").TextContent);
            Assert.Equal(["Billing Sync"], Applications(cut));
            Assert.Equal(["Waiting 1", "Approved 1", "Rejected 2", "Unsubscribed 1", "All 5"], StatusChips(cut));
        }, Wait);
        Assert.Equal(SubscriptionStatus.Rejected, (await Subscriptions.GetAsync(root, _seed.MobilePayments.Id)).Value.Status);
    }

    [Fact]
    public async Task ADeletedApplicationsRegistrations_StayListed_Unsubscribed_MarkedDeleted_WithoutLinkOrActions()
    {
        Assert.True((await Db.Get<ApplicationService>().DeleteAsync(_seed.Dana, _seed.WebShop.Id)).IsSuccess);
        SignInAs(_admin);
        var cut = RenderWithProviders<SubscriptionsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, Rows(cut).Count), Wait);

        cut.Find("[data-testid=status-filter-all]").Click();

        cut.WaitForAssertion(() => Assert.Equal(5, Rows(cut).Count), Wait);
        Assert.Equal(["Waiting 2", "Approved 0", "Rejected 1", "Unsubscribed 2", "All 5"], StatusChips(cut));
        var deleted = Rows(cut).Where(r => r.QuerySelector("[data-testid=subscription-application-deleted]") is not null).ToList();
        Assert.Equal(2, deleted.Count);
        Assert.All(deleted, row =>
        {
            Assert.Equal("Web Shop (deleted)", row.QuerySelector("[data-testid=subscription-application-deleted]")!.TextContent.Trim());
            Assert.Null(row.QuerySelector("[data-testid=subscription-application] a"));
            Assert.Equal("Dana Developer", row.QuerySelector("[data-testid=subscription-account]")!.TextContent.Trim());
            Assert.Equal("UNSUBSCRIBED", StatusOf(row));
            Assert.Empty(ActionsOf(row));
        });
    }

    [Fact]
    public async Task ReadOnly_SeesEveryRegistration_ButNoActions()
    {
        SignInAs((await Db.CreateUserAsync(Roles.ReadOnly, "rick.reader@portal.test")).Actor);

        var cut = RenderWithProviders<SubscriptionsPage>();

        cut.WaitForAssertion(() => Assert.Equal(["Billing Sync", "Mobile iOS App"], Applications(cut)), Wait);
        cut.Find("[data-testid=status-filter-all]").Click();
        cut.WaitForAssertion(() => Assert.Equal(5, Rows(cut).Count), Wait);
        Assert.Empty(cut.FindAll("tbody button"));
        Assert.DoesNotContain(cut.FindAll("th"), th => th.TextContent.Trim() == "Actions");
    }

    private static List<IElement> Rows(IRenderedComponent<ContainerFragment> cut) => [.. cut.FindAll("tr.subscription-row")];

    private static List<string> Applications(IRenderedComponent<ContainerFragment> cut) =>
        [.. Rows(cut).Select(r => r.QuerySelector("[data-testid=subscription-application] a")!.TextContent.Trim()).Order()];

    private static IElement RowOf(IRenderedComponent<ContainerFragment> cut, string application) =>
        Rows(cut).Single(r => r.QuerySelector("[data-testid=subscription-application] a")!.TextContent.Trim() == application);

    /// <summary>One registration's row (an application may be listed once per product).</summary>
    private static IElement RowOf(IRenderedComponent<ContainerFragment> cut, SubscriptionDto registration) =>
        Rows(cut).Single(r => r.QuerySelector("[data-testid=subscription-application]")!.GetAttribute("data-id") == registration.Id.ToString());

    private static IElement RowWithStatus(IRenderedComponent<ContainerFragment> cut, string status) =>
        Rows(cut).Single(r => StatusOf(r) == status);

    private static string StatusOf(IElement row) => row.QuerySelector("[data-testid=subscription-status]")!.GetAttribute("data-status")!;

    private static List<string> ActionsOf(IElement row) =>
        [.. row.QuerySelectorAll("button[data-testid]").Select(b => b.GetAttribute("data-testid")!)];

    private static List<string> StatusChips(IRenderedComponent<ContainerFragment> cut) =>
        [.. cut.FindAll("[data-testid=subscriptions-status-filter] [data-testid^=status-filter-]")
            .Select(c => string.Join(' ', c.TextContent.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries)))];
}
