using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Tests.Web.Subscriptions;
using Portal.Web.Features.Applications;

namespace Portal.Tests.Web.Applications;

/// <summary>
/// Seed 001's admin scenarios: Create on Portal Apps for an account picked by searching, Approve / Reject
/// beside a WAITING registration on the application's page, and Generate Key with an optional expiry.
/// </summary>
public sealed class PortalAppAdminTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private SubscriptionSeed _seed = default!;
    private Actor _admin = default!;
    private Actor _readOnly = default!;

    private SubscriptionService Subscriptions => Db.Get<SubscriptionService>();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _seed = await SubscriptionSeed.CreateAsync(Db);
        _admin = (await Db.CreateUserAsync(Roles.Admin, "alice.admin@portal.test")).Actor;
        _readOnly = (await Db.CreateUserAsync(Roles.ReadOnly, "rick.reader@portal.test")).Actor;
    }

    private static List<IElement> Rows(IRenderedComponent<ContainerFragment> cut) => [.. cut.FindAll("tr.application-subscription")];

    private static IElement RowOf(IRenderedComponent<ContainerFragment> cut, string product) =>
        Rows(cut).Single(r => r.QuerySelector("[data-testid=application-subscription-product]")!.TextContent.Trim() == product);

    private static string StatusOf(IElement row) => row.QuerySelector(".mud-chip")!.TextContent.Trim();

    [Fact]
    public async Task Admin_ApprovesAWaitingRegistration_FromTheApplicationsPage_AfterConfirming()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<PortalAppDetailPage>(("Id", _seed.Mobile.Id));
        cut.WaitForAssertion(() => Assert.Equal("WAITING", StatusOf(RowOf(cut, "Payments API"))), Wait);
        // Only the WAITING row is decided; the REJECTED one has nothing to approve.
        Assert.Null(RowOf(cut, "Maps API").QuerySelector("[data-testid=application-subscription-approve]"));

        RowOf(cut, "Payments API").QuerySelector("[data-testid=application-subscription-approve]")!.Click();
        var dialog = cut.WaitForElement(".mud-dialog", Wait);
        Assert.Contains("\"Mobile iOS App\"", dialog.TextContent);
        Assert.Contains("\"Payments API\"", dialog.TextContent);
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Approve").Click();

        cut.WaitForAssertion(() =>
        {
            Assert.Equal("APPROVED", StatusOf(RowOf(cut, "Payments API")));
            Assert.Empty(cut.FindAll("[data-testid=application-subscription-approve]"));
            Assert.Contains("Approved for Payments API", cut.Find(".mud-snackbar").TextContent);
        }, Wait);
        var stored = (await Subscriptions.GetAsync(_admin, _seed.MobilePayments.Id)).Value;
        Assert.Equal(SubscriptionStatus.Approved, stored.Status);
    }

    [Fact]
    public async Task Admin_RejectsWithAReason_ThatTheRowThenShows()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<PortalAppDetailPage>(("Id", _seed.Mobile.Id));
        cut.WaitForAssertion(() => Assert.Equal("WAITING", StatusOf(RowOf(cut, "Payments API"))), Wait);

        RowOf(cut, "Payments API").QuerySelector("[data-testid=application-subscription-reject]")!.Click();
        cut.WaitForElement("textarea[data-testid=reject-reason], [data-testid=reject-reason] textarea", Wait).Input("Payments need a signed contract first.");
        cut.Find("[data-testid=reject-confirm]").Click();

        cut.WaitForAssertion(() =>
        {
            var row = RowOf(cut, "Payments API");
            Assert.Equal("REJECTED", StatusOf(row));
            Assert.Contains("Payments need a signed contract first.", row.QuerySelector("[data-testid=application-subscription-reason]")!.TextContent);
            Assert.Contains("Rejected for Payments API", cut.Find(".mud-snackbar").TextContent);
        }, Wait);
        Assert.Equal(SubscriptionStatus.Rejected, (await Subscriptions.GetAsync(_admin, _seed.MobilePayments.Id)).Value.Status);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadOnlyAndTheDeveloper_SeeNoApproveOrReject(bool readOnly)
    {
        SignInAs(readOnly ? _readOnly : _seed.Dana);
        var cut = readOnly
            ? RenderWithProviders<PortalAppDetailPage>(("Id", _seed.Mobile.Id))
            : RenderWithProviders<ApplicationDetailPage>(("Id", _seed.Mobile.Id));
        cut.WaitForAssertion(() => Assert.Equal("WAITING", StatusOf(RowOf(cut, "Payments API"))), Wait);
        Assert.Empty(cut.FindAll("[data-testid=application-subscription-approve]"));
        Assert.Empty(cut.FindAll("[data-testid=application-subscription-reject]"));
    }

    [Fact]
    public async Task GenerateKey_APastExpiry_IsAFormErrorOnTheDate_AFutureOneIsShownWithTheKey()
    {
        SignInAs(_admin);
        var cut = RenderWithProviders<PortalAppDetailPage>(("Id", _seed.Mobile.Id));
        cut.WaitForElement("[data-testid=generate-key]", Wait).Click();
        var expiry = cut.WaitForElement("input[data-testid=generate-key-expiry], [data-testid=generate-key-expiry] input", Wait);

        // Typed rather than picked (the calendar offers no past day): the service refuses it, on the field.
        expiry.Change("01/01/2020");
        cut.Find("[data-testid=generate-key-confirm]").Click();
        cut.WaitForAssertion(() => Assert.Contains("The expiry must be in the future.", cut.Find("[data-testid=generate-key-dialog]").TextContent), Wait);
        var keysBefore = (await Db.Get<ApplicationService>().ListKeysAsync(_admin, _seed.Mobile.Id, new PageQuery())).Value.Total;

        // The test clock stands at 23/11/2026: a key expiring on 31/12/2026 works through that whole day.
        cut.Find("input[data-testid=generate-key-expiry], [data-testid=generate-key-expiry] input").Change("31/12/2026");
        cut.Find("[data-testid=generate-key-confirm]").Click();
        cut.WaitForAssertion(() => Assert.Contains("31/12/2026 23:59:59 UTC", cut.Find("[data-testid=new-key-expires]").TextContent), Wait);

        var keys = (await Db.Get<ApplicationService>().ListKeysAsync(_admin, _seed.Mobile.Id, new PageQuery())).Value;
        Assert.Equal(keysBefore + 1, keys.Total);
        Assert.Equal(new DateTimeOffset(2026, 12, 31, 23, 59, 59, TimeSpan.Zero), keys.Items[0].ExpiresAt);
    }

    [Fact]
    public async Task Admin_CreatesAPortalApp_ForAnAccountPickedBySearching()
    {
        var root = await Db.RootAsync();
        var accounts = Db.Get<AccountService>();
        for (var i = 0; i < 25; i++) await accounts.CreateAsync(root, new CreateAccount { Name = $"Filler {i:D2}" });
        var initech = (await accounts.CreateAsync(root, new CreateAccount { Name = "Initech Labs" })).Value;
        SignInAs(_admin);
        var cut = RenderWithProviders<PortalAppsPage>();

        cut.WaitForElement("[data-testid=create-portal-app]", Wait).Click();
        var picker = cut.WaitForElement("input[data-testid=account-picker], [data-testid=account-picker] input", Wait);
        // Nothing picked: the account is required, never the admin's own by default.
        cut.Find("input[data-testid=create-name], [data-testid=create-name] input").Change("Partner Portal");
        cut.Find("form#create-application-form").Submit();
        cut.WaitForAssertion(() => Assert.Contains("Choose the account the application belongs to.", cut.Find(".mud-dialog").TextContent), Wait);

        picker.Input("initech");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));
        var option = cut.WaitForElement(".mud-popover-open .mud-list-item", Wait);
        Assert.Contains("Initech Labs", option.TextContent);
        option.Click();
        cut.Find("form#create-application-form").Submit();

        cut.WaitForAssertion(() => Assert.Contains("Partner Portal", cut.Find("[data-testid=created-application-name]").TextContent), Wait);
        var created = (await Db.Get<ApplicationService>().ListAsync(_admin, new ApplicationQuery { AccountId = initech.Id })).Value.Items.Single();
        Assert.Equal("Partner Portal", created.Name);
    }

    [Fact]
    public async Task ThePicker_LoadsOnePageOfAccounts_AndSaysHowManyMoreThereAre()
    {
        var root = await Db.RootAsync();
        for (var i = 0; i < 30; i++) await Db.Get<AccountService>().CreateAsync(root, new CreateAccount { Name = $"Partner {i:D2}" });
        SignInAs(_admin);
        var cut = RenderWithProviders<PortalAppsPage>();
        cut.WaitForElement("[data-testid=create-portal-app]", Wait).Click();

        cut.WaitForElement("input[data-testid=account-picker], [data-testid=account-picker] input", Wait).Input("partner");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));

        cut.WaitForAssertion(() =>
        {
            Assert.Equal(20, cut.FindAll(".mud-popover-open .mud-list-item").Count);
            Assert.Contains("Showing 20 of 30 accounts", cut.Find("[data-testid=account-picker-more]").TextContent);
        }, Wait);
    }

    [Fact]
    public void ReadOnly_HasNoCreate()
    {
        SignInAs(_readOnly);
        var cut = RenderWithProviders<PortalAppsPage>();
        cut.WaitForAssertion(() => Assert.Contains("Mobile iOS App", cut.Markup), Wait);
        Assert.Empty(cut.FindAll("[data-testid=create-portal-app]"));
    }
}
