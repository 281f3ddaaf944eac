using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;
using Portal.Web.Features.Home;
using Portal.Web.Features.Usage;

namespace Portal.Tests.Web.Usage;

/// <summary>
/// A visit renders a page twice (the prerender, then the interactive circuit): the overview and the dashboard count
/// their usage once, in the prerender, and the interactive render takes what it persisted.
/// </summary>
public sealed class UsageOncePerVisitTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Counts the database contexts the usage service opens: one per query of it.</summary>
    private sealed class CountingFactory(IDbContextFactory<PortalDbContext> inner) : IDbContextFactory<PortalDbContext>
    {
        private int _created;
        public int Created => Volatile.Read(ref _created);

        public PortalDbContext CreateDbContext()
        {
            Interlocked.Increment(ref _created);
            return inner.CreateDbContext();
        }

        public async Task<PortalDbContext> CreateDbContextAsync(CancellationToken ct = default)
        {
            Interlocked.Increment(ref _created);
            return await inner.CreateDbContextAsync(ct);
        }
    }

    private CountingFactory _usageQueries = null!;

    protected override void AddPageServices()
    {
        _usageQueries = new CountingFactory(Db.Get<IDbContextFactory<PortalDbContext>>());
        Services.AddSingleton(new UsageService(_usageQueries, Db.Get<TimeProvider>()));
    }

    private async Task<UsageSeed> SeedAsync()
    {
        var seed = await UsageSeed.CreateAsync(Db.Services, await Db.RootAsync(), async _ => (await Db.CreateUserAsync(Roles.Developer)).Actor);
        await seed.WriteStandardUsageAsync();
        return seed;
    }

    private static string Calls(IRenderedComponent<Bunit.Rendering.ContainerFragment> page) =>
        page.Find("[data-testid=usage-metric][data-metric=calls] [data-testid=usage-metric-value]").TextContent.Trim();

    [Fact]
    public async Task UsagePage_PrerenderThenInteractive_CountsTheSummaryOnce()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);

        var prerender = RenderWithProviders<UsagePage>();
        prerender.WaitForAssertion(() => Assert.Equal("11", Calls(prerender)), Wait);
        Assert.Equal(1, _usageQueries.Created);
        PersistentState.TriggerOnPersisting();
        // The prerender's components end with its response; the circuit renders anew.
        await DisposeComponentsAsync();

        var interactive = RenderWithProviders<UsagePage>();
        interactive.WaitForAssertion(() => Assert.Equal("11", Calls(interactive)), Wait);
        Assert.Equal(1, _usageQueries.Created);
        Assert.Empty(interactive.FindAll("[data-testid=usage-dropped]"));
    }

    [Fact]
    public async Task UsagePage_AnotherPeriodThanThePrerenders_IsCountedAfresh()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        var prerender = RenderWithProviders<UsagePage>();
        prerender.WaitForAssertion(() => Assert.Equal("11", Calls(prerender)), Wait);
        PersistentState.TriggerOnPersisting();
        // The prerender's components end with its response; the circuit renders anew.
        await DisposeComponentsAsync();

        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("/usage?period=24h");
        var interactive = RenderWithProviders<UsagePage>();

        interactive.WaitForAssertion(() => Assert.Equal(2, _usageQueries.Created), Wait);
    }

    [Fact]
    public async Task Dashboard_PrerenderThenInteractive_CountsItsFiguresOnce()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);

        var prerender = RenderWithProviders<HomePage>();
        prerender.WaitForAssertion(() => Assert.NotEmpty(prerender.FindAll("[data-testid=dashboard-usage-chart]")), Wait);
        Assert.Equal(1, _usageQueries.Created);
        var metrics = prerender.FindAll("[data-testid=dashboard-metric]").Select(m => m.TextContent).ToList();
        PersistentState.TriggerOnPersisting();
        // The prerender's components end with its response; the circuit renders anew.
        await DisposeComponentsAsync();

        var interactive = RenderWithProviders<HomePage>();
        interactive.WaitForAssertion(() => Assert.NotEmpty(interactive.FindAll("[data-testid=dashboard-usage-chart]")), Wait);
        Assert.Equal(metrics, interactive.FindAll("[data-testid=dashboard-metric]").Select(m => m.TextContent));
        Assert.Equal(1, _usageQueries.Created);
    }

    [Fact]
    public async Task UsagePage_WhenTheQueueDroppedEvents_SaysSo()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        var recorder = Db.Get<UsageRecorder>();
        for (var i = 0; i < UsageRecorder.Capacity + 7; i++)
            recorder.Record(new UsageRecord(seed.Now, Guid.NewGuid(), null, "GET", "/api/v1/me", 200, 1));

        var page = RenderWithProviders<UsagePage>();

        page.WaitForAssertion(() => Assert.Contains("dropped 7 usage events", page.Find("[data-testid=usage-dropped]").TextContent), Wait);
    }
}
