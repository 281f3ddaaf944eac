using Bunit;
using Portal.Core.Domain;
using Portal.Core.Features.Quotas;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;
using Portal.Web.Features.Applications;
using Portal.Web.Features.Quotas;

namespace Portal.Tests.Web.Subscriptions;

/// <summary>The quota bar (colours at 80% and 100%) and the application page's quota panel, refreshed without a reload.</summary>
public sealed class QuotaBarTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly DateTimeOffset Reset = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    private static SubscriptionUsageDto Usage(long? limit, long used, decimal cost = 0m, RateLimitDto? rate = null) => new(
        Guid.NewGuid(), SubscriptionStatus.Approved, "Gold", PlanType.Metered,
        new UsagePeriodDto(Reset.AddDays(-1), Reset), rate,
        new QuotaUsageDto(limit, used, limit is { } l ? Math.Max(0, l - used) : null, Reset, QuotaPeriod.Day),
        used, new CostDto("USD", cost), new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(0, "ok", "mud-progress-linear-color-success")]
    [InlineData(799, "ok", "mud-progress-linear-color-success")]
    [InlineData(800, "warning", "mud-progress-linear-color-warning")]
    [InlineData(999, "warning", "mud-progress-linear-color-warning")]
    [InlineData(1000, "full", "mud-progress-linear-color-error")]
    public void Bar_ColoursAt80And100Percent(long used, string level, string colourClass)
    {
        var cut = Render<QuotaBar>(p => p.Add(b => b.Usage, Usage(1000, used)).Add(b => b.Title, "Maps API · Free"));

        var bar = cut.Find("[data-testid=quota-progress]");
        Assert.Equal(level, bar.GetAttribute("data-level"));
        Assert.Contains(colourClass, bar.ClassName);
        Assert.Contains($"{used:N0} of 1,000 calls used today", Text(cut.Find("[data-testid=quota-used]").TextContent));
        Assert.Equal(used == 1000 ? "No calls left" : $"{1000 - used:N0} left", cut.Find("[data-testid=quota-remaining]").TextContent.Trim());
    }

    [Fact]
    public void Bar_ShowsRateLimit_Reset_AndCost_AndCopesWithNoQuota()
    {
        var limited = Render<QuotaBar>(p => p.Add(b => b.Usage, Usage(1000, 10, 12.5m, new RateLimitDto(5, RateLimitWindow.Second))));
        Assert.Equal("Rate limit 5 / second", limited.Find("[data-testid=quota-rate-limit]").TextContent.Trim());
        Assert.Contains("Resets 24/11/2026 00:00 UTC", limited.Find("[data-testid=quota-reset]").TextContent);
        Assert.Contains("12.50 USD", limited.Find("[data-testid=quota-cost]").TextContent);
        Assert.Equal("Gold", limited.Find("[data-testid=quota-title]").TextContent.Trim());

        var unlimited = Render<QuotaBar>(p => p.Add(b => b.Usage, Usage(null, 1234)));
        Assert.Empty(unlimited.FindAll("[data-testid=quota-progress]"));
        Assert.Contains("1,234", unlimited.Find("[data-testid=quota-used]").TextContent);
        Assert.Contains("no quota", unlimited.Find("[data-testid=quota-used]").TextContent);
        Assert.Equal("No rate limit", unlimited.Find("[data-testid=quota-rate-limit]").TextContent.Trim());
    }

    [Fact]
    public async Task Panel_Loading_ThenEmpty()
    {
        var actor = SignInAs(await Db.RootAsync());
        var loading = Render<QuotaUsagePanel>(p => p.Add(x => x.Actor, actor).Add(x => x.Titles, (IReadOnlyDictionary<Guid, string>?)null));
        Assert.NotEmpty(loading.FindAll("[data-testid=quota-loading]"));

        var empty = Render<QuotaUsagePanel>(p => p.Add(x => x.Actor, actor).Add(x => x.Titles, new Dictionary<Guid, string>()));
        empty.WaitForAssertion(() => Assert.Contains("No approved registrations", empty.Find("[data-testid=quota-empty]").TextContent), Wait);
    }

    [Fact]
    public async Task ApplicationPage_ShowsTheApprovedRegistrationsQuota_AndRefreshShowsNewCalls()
    {
        var seed = await SubscriptionSeed.CreateAsync(Db);
        SignInAs(seed.Dana);
        var subscriptionId = seed.WebShopMaps.Id;
        await SetUsedAsync(subscriptionId, 120);

        var cut = RenderWithProviders<ApplicationDetailPage>(("Id", seed.WebShop.Id));

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=quota-bar]")), Wait);
        Assert.Contains("Maps API · Free", cut.Find("[data-testid=quota-title]").TextContent);
        Assert.Contains("120 of 1,000 calls used today", Text(cut.Find("[data-testid=quota-used]").TextContent));
        Assert.Equal("Rate limit 5 / second", cut.Find("[data-testid=quota-rate-limit]").TextContent.Trim());

        await SetUsedAsync(subscriptionId, 850);
        cut.Find("[data-testid=quota-refresh]").Click();

        cut.WaitForAssertion(() => Assert.Contains("850 of 1,000 calls used today", Text(cut.Find("[data-testid=quota-used]").TextContent)), Wait);
        Assert.Equal("warning", cut.Find("[data-testid=quota-progress]").GetAttribute("data-level"));
    }

    private static string Text(string s) => string.Join(" ", s.Split([" ", "\n", "\r"], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The day's saved count (nothing is in the limiter's memory: the panel reads the database's total).</summary>
    private async Task SetUsedAsync(Guid subscriptionId, long used)
    {
        await using var db = await Db.OpenAsync();
        var start = QuotaCounterStore.PeriodStart(QuotaPeriod.Day, Db.Clock.GetUtcNow());
        var row = db.QuotaCounters.Find(subscriptionId, start);
        if (row is null) db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscriptionId, PeriodStart = start, Used = used });
        else row.Used = used;
        await db.SaveChangesAsync();
    }
}
