using Bunit;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Tests.Support;
using Portal.Web.Features.Home;
using RenderedPage = Bunit.IRenderedComponent<Bunit.Rendering.ContainerFragment>;

namespace Portal.Tests.Web.Home;

/// <summary><c>/</c>: My Applications for a developer; for those who look after the portal, its overview with counts.</summary>
public sealed class HomePageTests : PortalBunitContext
{
    [Fact]
    public async Task Developer_SeesMyApplications_WithTheEmptyStateAtFirst()
    {
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var page = RenderWithProviders<HomePage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=applications-empty]")), Wait);
        Assert.Equal("My Applications", page.Find("h1").TextContent.Trim());
        Assert.Contains("No applications yet", page.Markup);
        Assert.NotNull(page.Find("[data-testid=create-application]"));
        Assert.Empty(page.FindAll("[data-testid=dashboard-metric]"));
    }

    [Fact]
    public async Task Developer_SeesTheirOwnApplications()
    {
        var me = SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        await Db.Get<Portal.Core.Features.Applications.ApplicationService>().CreateAsync(me, new() { Name = "Mobile iOS App" });

        var page = RenderWithProviders<HomePage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=application-card]")), Wait);
        Assert.Contains("Mobile iOS App", page.Markup);
    }

    [Fact]
    public async Task Admin_SeesTheOverview_CountedFromEveryAccount()
    {
        var seed = await Subscriptions.SubscriptionSeed.CreateAsync(Db);
        var admin = SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor, "Alice Admin");
        var keys = Db.Get<ApiKeyService>();
        await keys.CreateAsync(admin, new CreateApiKey { Name = "deploy", Scopes = [Scopes.Read] });
        var revoked = (await keys.CreateAsync(seed.Dana, new CreateApiKey { Name = "old", Scopes = [Scopes.Read] })).Value;
        await keys.RevokeAsync(seed.Dana, revoked.Id);
        // People get a personal account when created: count both through the services rather than by hand.
        var accounts = (await Db.Get<Portal.Core.Features.Accounts.AccountService>().ListAsync(admin, new())).Value.Total;
        var users = (await Db.Get<Portal.Core.Features.Users.UserService>().ListAsync(admin, new())).Value.Total;

        var page = RenderWithProviders<HomePage>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=dashboard-metric]")), Wait);
        Assert.Equal("Welcome, Alice Admin", page.Find("h1").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=applications-empty]"));
        Assert.Equal("2", ValueOf(page, "waiting-subscriptions"));
        Assert.Equal("/subscriptions?status=WAITING", LinkOf(page, "waiting-subscriptions"));
        Assert.Equal("1", ValueOf(page, "api-keys"));
        Assert.Contains("2 issued, 0 expired, 1 revoked", page.Find(MetricSelector("api-keys")).TextContent);
        Assert.Equal("3", ValueOf(page, "applications"));
        Assert.Equal("/portal-apps", LinkOf(page, "applications"));
        Assert.Equal(accounts.ToString(), ValueOf(page, "accounts"));
        Assert.Equal("2", ValueOf(page, "products"));
        Assert.Equal(users.ToString(), ValueOf(page, "users"));
        Assert.Equal("0", ValueOf(page, "calls-today"));
        Assert.NotNull(page.Find("[data-testid=dashboard-usage]"));
    }

    [Fact]
    public async Task ReadOnly_SeesTheOverview_WithoutWhatItMayNotOpen()
    {
        await Subscriptions.SubscriptionSeed.CreateAsync(Db);
        SignInAs((await Db.CreateUserAsync(Roles.ReadOnly)).Actor);

        var page = RenderWithProviders<HomePage>();

        page.WaitForAssertion(() => Assert.Equal("2", ValueOf(page, "waiting-subscriptions")), Wait);
        Assert.Equal("3", ValueOf(page, "applications"));
        Assert.StartsWith("Welcome, ", page.Find("h1").TextContent.Trim());
    }

    [Fact]
    public async Task DeveloperWhoIsAlsoAdmin_GetsTheOverview()
    {
        var user = (await Db.CreateUserAsync(Roles.Admin)).Actor;
        SignInAs(new Actor(user.UserId, user.Email, [Roles.Admin, Roles.Developer]));

        var page = RenderWithProviders<HomePage>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=dashboard-metric]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=applications-empty]"));
    }

    [Fact]
    public async Task Admin_CallsToday_CountEveryKeysCallsSinceMidnight_ApplicationKeysToo()
    {
        var admin = SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);
        var personal = (await Db.Get<ApiKeyService>().CreateAsync(admin, new CreateApiKey { Name = "deploy", Scopes = [Scopes.Read] })).Value;
        var today = Portal.Core.Features.Usage.UsageWriter.HourOf(Db.Clock.GetUtcNow());
        await using (var db = await Db.OpenAsync())
        {
            // A personal key's and an application key's calls this hour, and yesterday's, which do not count.
            // Into every rollup, as the usage writer adds them (the dashboard reads the portal-wide hourly ones).
            await Portal.Core.Features.Usage.UsageRollupWriter.AddAsync(db, [
                new(today, personal.Id, null, null, null, 3, 0),
                new(today, Guid.NewGuid(), Guid.NewGuid(), null, null, 4, 0),
                new(today.AddDays(-1), personal.Id, null, null, null, 50, 0)]);
        }

        var page = RenderWithProviders<HomePage>();

        page.WaitForAssertion(() => Assert.Equal("7", ValueOf(page, "calls-today")), Wait);
        Assert.Equal("/usage?period=24h", LinkOf(page, "calls-today"));
    }

    /// <summary>The dashboard counts after a slow first render on a busy machine.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private static string MetricSelector(string name) => $"[data-testid=dashboard-metric][data-metric={name}]";

    private static string ValueOf(RenderedPage page, string name) =>
        page.Find($"{MetricSelector(name)} [data-testid=dashboard-metric-value]").TextContent.Trim();

    private static string? LinkOf(RenderedPage page, string name) => page.Find($"{MetricSelector(name)} a").GetAttribute("href");
}
