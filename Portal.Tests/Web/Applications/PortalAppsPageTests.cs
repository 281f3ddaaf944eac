using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Portal.Core.Common;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Web.Features.Applications;

namespace Portal.Tests.Web.Applications;

/// <summary>Portal Apps (seed 001, Scenario 5): every account's applications for admins; read-only without actions.</summary>
public sealed class PortalAppsPageTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private UserDto _admin = default!;
    private UserDto _readOnly = default!;
    private ApplicationDto _mobile = default!;
    private ApplicationDto _billing = default!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _admin = (await Db.CreateUserAsync(Roles.Admin, "alice.admin@portal.test")).User;
        _readOnly = (await Db.CreateUserAsync(Roles.ReadOnly, "rick.reader@portal.test")).User;
        var root = await Db.RootAsync();
        var accounts = Db.Get<AccountService>();
        var acme = (await accounts.CreateAsync(root, new CreateAccount { Name = "Acme Team", Kind = AccountKind.Team })).Value;
        var globex = (await accounts.CreateAsync(root, new CreateAccount { Name = "Globex Team", Kind = AccountKind.Team })).Value;
        var apps = Db.Get<ApplicationService>();
        _mobile = (await apps.CreateAsync(root, new CreateApplication { Name = "Mobile iOS App", Description = "API access for iOS", AccountId = acme.Id })).Value.Application;
        _billing = (await apps.CreateAsync(root, new CreateApplication { Name = "Billing Sync", AccountId = globex.Id })).Value.Application;
    }

    [Fact]
    public void Admin_SeesEveryAccountsApplications_WithActions()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Equal(["Billing Sync", "Mobile iOS App"], Names(cut)), Wait);
        var row = RowOf(cut, "Mobile iOS App");
        Assert.Contains("Acme Team", row.TextContent);
        Assert.Contains(_mobile.ReferenceId.ToString(), row.TextContent);
        Assert.Contains("API access for iOS", row.TextContent);
        // The date in the row, the time to the second on hover (the detail page's header shows it too).
        var created = _mobile.CreatedAt.UtcDateTime;
        Assert.Contains(created.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture), row.TextContent);
        Assert.NotNull(row.QuerySelector($"[title^='{created.ToString("dd/MM/yyyy HH:mm:ss", CultureInfo.InvariantCulture)}']"));
        Assert.Equal($"/portal-apps/{_mobile.Id}", row.QuerySelector("a[data-testid^=app-]")!.GetAttribute("href"));
        Assert.Contains("Globex Team", RowOf(cut, "Billing Sync").TextContent);
        Assert.Equal(["Open", "Remove"], ActionsOf(row));
    }

    [Fact]
    public void Search_NarrowsByNameOrAccount_AndShowsEmptyState()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        var cut = RenderPage();

        cut.Find("[data-testid=portal-apps-search] input, input[data-testid=portal-apps-search]").Input("globex");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));
        cut.WaitForAssertion(() => Assert.Equal(["Billing Sync"], Names(cut)), Wait);

        cut.Find("[data-testid=portal-apps-search] input, input[data-testid=portal-apps-search]").Input(_mobile.ReferenceId.ToString());
        Db.Clock.Advance(TimeSpan.FromSeconds(1));
        cut.WaitForAssertion(() => Assert.Equal(["Mobile iOS App"], Names(cut)), Wait);

        cut.Find("[data-testid=portal-apps-search] input, input[data-testid=portal-apps-search]").Input("nothing-called-this");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));
        cut.WaitForAssertion(() => Assert.Contains("No applications match these filters", cut.Markup), Wait);
    }

    [Fact]
    public void ReadOnly_SeesAllApplications_ButNoActions()
    {
        SignInAs(new Actor(_readOnly.Id, _readOnly.Email, _readOnly.Roles));

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Equal(["Billing Sync", "Mobile iOS App"], Names(cut)), Wait);
        Assert.Empty(cut.FindAll("tbody button[aria-label], tbody a[aria-label]"));
        Assert.DoesNotContain(cut.FindAll("th"), th => th.TextContent.Trim().StartsWith("Actions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Remove_AfterConfirming_DeletesTheApplication()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        var cut = RenderPage();
        cut.WaitForAssertion(() => Assert.Equal(2, Names(cut).Count), Wait);

        RowOf(cut, "Billing Sync").QuerySelector("button[aria-label=Remove]")!.Click();
        cut.WaitForElement(".mud-dialog", Wait);
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Remove").Click();

        cut.WaitForAssertion(() => Assert.Equal(["Mobile iOS App"], Names(cut)), Wait);
        var left = await Db.Get<ApplicationService>().GetAsync(await Db.RootAsync(), _billing.Id);
        Assert.False(left.IsSuccess);
    }

    [Fact]
    public void DetailPage_ShowsBreadcrumbAndHeader()
    {
        SignInAs(new Actor(_readOnly.Id, _readOnly.Email, _readOnly.Roles));

        var cut = Render<PortalAppDetailPage>(p => p.Add(x => x.Id, _mobile.Id));

        cut.WaitForAssertion(() =>
        {
            var crumbs = cut.Find("[data-testid=portal-app-breadcrumbs]").TextContent;
            Assert.Contains("Portal Apps", crumbs);
            Assert.Contains("Mobile iOS App", crumbs);
            var header = cut.Find("[data-testid=application-header]").TextContent;
            Assert.Contains("Acme Team", header);
            Assert.Contains(_mobile.ReferenceId.ToString(), header);
            Assert.Contains(_mobile.CreatedAt.UtcDateTime.ToString("dd/MM/yyyy HH:mm:ss"), header);
        }, Wait);
    }

    [Fact]
    public void DetailPage_UnknownId_SaysNotFound()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));

        var cut = Render<PortalAppDetailPage>(p => p.Add(x => x.Id, Guid.NewGuid()));

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=portal-app-not-found]")), Wait);
    }

    [Fact]
    public void OpenedWithAnAccountIdInTheAddress_ShowsThatAccountsApps()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/portal-apps?accountId={_mobile.AccountId}");

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Equal(["Mobile iOS App"], Names(cut)), Wait);
        Assert.Contains("Acme Team", cut.Find("[data-testid=portal-apps-account-filter]").TextContent);
    }

    [Fact]
    public void OpenedWithAMalformedAccountId_ShowsEveryApp_WithANotice()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        Services.GetRequiredService<NavigationManager>().NavigateTo("/portal-apps?accountId=not-an-id");

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Equal(["Billing Sync", "Mobile iOS App"], Names(cut)), Wait);
        Assert.Contains("\"not-an-id\" is not an account id", cut.Find("[data-testid=portal-apps-bad-account]").TextContent);
    }

    private IRenderedComponent<ContainerFragment> RenderPage() => RenderWithProviders<PortalAppsPage>();

    private static List<string> Names(IRenderedComponent<ContainerFragment> cut) =>
        [.. cut.FindAll("tbody a[data-testid^=app-]").Select(a => a.TextContent.Trim())];

    private static IElement RowOf(IRenderedComponent<ContainerFragment> cut, string name) =>
        cut.FindAll("tbody tr").Single(tr => tr.QuerySelector("a[data-testid^=app-]")?.TextContent.Trim() == name);

    private static List<string> ActionsOf(IElement row) =>
        [.. row.QuerySelectorAll("button[aria-label], a[aria-label]").Select(b => b.GetAttribute("aria-label")!)];
}
