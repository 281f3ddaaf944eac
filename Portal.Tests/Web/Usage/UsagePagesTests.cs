using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Tests.Support;
using Portal.Web.Features.Home;
using Portal.Web.Features.Usage;

namespace Portal.Tests.Web.Usage;

/// <summary>/usage, /usage/requests and the dashboard's usage chart, with the real services over the known usage seed.</summary>
public sealed class UsagePagesTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private const string SearchBox = "input[data-testid=usage-search], [data-testid=usage-search] input";

    private async Task<UsageSeed> SeedAsync(bool withUsage = true)
    {
        var seed = await UsageSeed.CreateAsync(Db.Services, await Db.RootAsync(), async _ => (await Db.CreateUserAsync(Roles.Developer)).Actor);
        if (withUsage) await seed.WriteStandardUsageAsync();
        return seed;
    }

    private static Dictionary<string, string> Metrics(IRenderedComponent<ContainerFragment> page) =>
        page.FindAll("[data-testid=usage-metric]").ToDictionary(m => m.GetAttribute("data-metric")!, m => m.QuerySelector("[data-testid=usage-metric-value]")!.TextContent.Trim());

    [Fact]
    public async Task Overview_AsAdmin_ShowsTheCardsChartOutcomesAndTopLists()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);

        var page = RenderWithProviders<UsagePage>();

        // The last 7 days: the 10 calls of the last hours and the admin's call 3 days ago.
        page.WaitForAssertion(() => Assert.Equal("11", Metrics(page)["calls"]), Wait);
        Assert.Equal("18.2%", Metrics(page)["error-rate"]);
        Assert.Equal("3 / 3", Metrics(page)["verifications"]);
        Assert.Equal("4 / 4", Metrics(page)["keys"]);
        Assert.NotNull(page.Find("[data-testid=usage-calls-chart] svg"));
        Assert.Equal(4, page.FindAll("[data-testid=usage-outcome]").Count);
        Assert.Contains("App A", page.Find("[data-testid=usage-top-applications]").TextContent);
        Assert.Contains(seed.Product.Name, page.Find("[data-testid=usage-top-products]").TextContent);
        // The links open the request log on the overview's window: the 7 UTC days up to the end of today.
        var week = $"from={seed.Now.UtcDateTime.Date.AddDays(-6):yyyy-MM-dd}T00:00:00Z&to={seed.Now.UtcDateTime.Date.AddDays(1):yyyy-MM-dd}T00:00:00Z";
        Assert.Equal($"/usage/requests?applicationId={seed.AppA.Id}&{week}", page.Find("[data-testid=usage-top-applications] a").GetAttribute("href"));
        Assert.Equal($"/usage/requests?keyId={seed.AdminKey}&{week}",
            page.FindAll("[data-testid=usage-top-keys] a").Select(a => a.GetAttribute("href")).Single(h => h!.Contains(seed.AdminKey.ToString())));
        Assert.Empty(page.FindAll("[data-testid=usage-empty]"));
    }

    [Fact]
    public async Task Overview_Period24Hours_LeavesOutOlderCalls()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        var page = RenderWithProviders<UsagePage>();
        page.WaitForAssertion(() => Assert.Equal("11", Metrics(page)["calls"]), Wait);

        page.FindAll("[data-testid=usage-period] button").Single(b => b.TextContent.Contains("24 hours")).Click();

        page.WaitForAssertion(() => Assert.Equal("10", Metrics(page)["calls"]), Wait);
    }

    [Fact]
    public async Task Overview_AsDeveloper_ShowsOnlyTheirOwnUsage()
    {
        var seed = await SeedAsync();
        SignInAs(seed.DeveloperD);

        var page = RenderWithProviders<UsagePage>();

        page.WaitForAssertion(() => Assert.Equal("5", Metrics(page)["calls"]), Wait);
        Assert.Equal("2 / 1", Metrics(page)["verifications"]);
        Assert.DoesNotContain("App B", page.Markup);
        Assert.Contains("your applications", page.Markup);
    }

    [Fact]
    public async Task Overview_WithNoCalls_ShowsTheEmptyStateWithAHint()
    {
        var seed = await SeedAsync(withUsage: false);
        SignInAs(seed.DeveloperE);

        var page = RenderWithProviders<UsagePage>();

        page.WaitForAssertion(() => Assert.Contains("No API calls in this period", page.Find("[data-testid=usage-empty]").TextContent), Wait);
        Assert.Equal("0", Metrics(page)["calls"]);
        Assert.Empty(page.FindAll("[data-testid=usage-calls-chart]"));
    }

    [Fact]
    public async Task RequestLog_ListsRequestsNewestFirst_AndARowOpensItsDetails()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);

        var page = RenderWithProviders<UsageRequestsPage>();

        // The seed's 12 events but the unknown key's NOT_FOUND, which is counted per minute rather than logged.
        page.WaitForAssertion(() => Assert.Equal(11, page.FindAll("tr.usage-request-row").Count), Wait);
        Assert.Contains("/api/v1/me", page.FindAll("tr.usage-request-row")[^1].TextContent);
        // A verification shows its code beside the status.
        Assert.Equal(1, page.FindAll("[data-testid=usage-status]").Count(c => c.TextContent.Contains("200 · RATE_LIMITED")));

        page.FindAll("tr.usage-request-row")[^1].Click();

        page.WaitForAssertion(() =>
        {
            var details = page.Find("[data-testid=usage-request-details]");
            Assert.Contains("/api/v1/me", details.TextContent);
            Assert.Contains("admin reporting", details.TextContent);
            Assert.Contains(seed.AdminKey.ToString(), details.TextContent);
        }, Wait);
    }

    [Fact]
    public async Task RequestLog_OpenedWithFilters_ShowsOnlyMatchingRequests_ForADeveloperOnlyTheirs()
    {
        var seed = await SeedAsync();
        SignInAs(seed.DeveloperD);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/usage/requests?status=4xx");

        var page = RenderWithProviders<UsageRequestsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("tr.usage-request-row")), Wait);
        Assert.Contains("404", page.Find("tr.usage-request-row").TextContent);
        Assert.Contains("d laptop", page.Find("tr.usage-request-row").TextContent);
    }

    [Fact]
    public async Task RequestLog_OpenedWithAMalformedId_LeavesItOutWithAMessage_KeepingTheValidFilters()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/usage/requests?keyId=abc&applicationId={seed.AppA.Id}&productId=1");

        var page = RenderWithProviders<UsageRequestsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("tr.usage-request-row").Count), Wait);
        var warning = page.Find("[data-testid=usage-link-warning]").TextContent;
        Assert.Contains("keyId 'abc' is not an id", warning);
        Assert.Contains("productId '1' is not an id", warning);
        Assert.DoesNotContain("applicationId", warning);
    }

    [Fact]
    public async Task RequestLog_OpenedWithAnUnknownStatus_SaysWhatAStatusIs()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/usage/requests?status=teapot");

        var page = RenderWithProviders<UsageRequestsPage>();

        page.WaitForAssertion(() => Assert.Contains("Status is a code", page.Find(".mud-alert-text-error").TextContent), Wait);
    }

    [Fact]
    public async Task Overview_OpenedWithAnUnknownPeriod_IsSevenDays()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/usage?period=forever");

        var page = RenderWithProviders<UsagePage>();

        page.WaitForAssertion(() => Assert.Equal("11", Metrics(page)["calls"]), Wait);
    }

    [Fact]
    public async Task RequestLog_OpenedFromATopListOfThe24HourOverview_ShowsOnlyThatWindowsCalls()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        var from = seed.Now.AddHours(-23).UtcDateTime.ToString("yyyy-MM-ddTHH:00:00Z");
        var to = seed.Now.AddHours(1).UtcDateTime.ToString("yyyy-MM-ddTHH:00:00Z");
        // The admin key's 3 calls of 2 hours ago, not its call of 3 days ago.
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/usage/requests?keyId={seed.AdminKey}&from={from}&to={to}");

        var page = RenderWithProviders<UsageRequestsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("tr.usage-request-row").Count), Wait);
        Assert.DoesNotContain("/api/v1/me", page.Find("table").TextContent);
        Assert.Contains($"{from[..10]} {from[11..16]} to {to[..10]} {to[11..16]}", page.Markup);
        Assert.Empty(page.FindAll("[data-testid=usage-link-warning]"));
    }

    [Fact]
    public async Task RequestLog_OpenedWithAMalformedTime_LeavesItOutWithAMessage()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/usage/requests?keyId={seed.AdminKey}&from=yesterday");

        var page = RenderWithProviders<UsageRequestsPage>();

        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("tr.usage-request-row").Count), Wait);
        Assert.Contains("from 'yesterday' is not an ISO 8601 time", page.Find("[data-testid=usage-link-warning]").TextContent);
    }

    [Fact]
    public async Task RequestLog_SearchedByRoute_IgnoringCase_AndOpenedWithASearch()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/usage/requests?search=users");
        var page = RenderWithProviders<UsageRequestsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tr.usage-request-row").Count), Wait);
        Assert.Equal("users", page.Find(SearchBox).GetAttribute("value"));

        page.Find(SearchBox).Input("/API/V1/APPLICATIONS");
        Db.Clock.Advance(TimeSpan.FromSeconds(1)); // past the box's debounce (MudBlazor times it by the TimeProvider)

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tr.usage-request-row");
            Assert.Equal(2, rows.Count);
            Assert.All(rows, r => Assert.Contains("/api/v1/applications", r.TextContent));
        }, Wait);

        page.Find(SearchBox).Input("no-such-route");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=usage-requests-empty]")), Wait);
    }

    [Fact]
    public async Task RequestLog_PastTheBound_Shows10000Plus_AndPagesNextAndPrevious()
    {
        var seed = await SeedAsync(withUsage: false);
        await using (var db = await Db.OpenAsync())
        {
            db.UsageEvents.AddRange(Enumerable.Range(0, Portal.Core.Features.Usage.UsageService.RequestTotalBound + 1).Select(i => new Portal.Core.Features.Usage.UsageEvent
            {
                At = seed.Now.AddSeconds(-i), KeyId = seed.AdminKey, OwnerUserId = seed.Admin.UserId, Method = "GET", Route = $"/api/v1/me/{i}", Status = 200,
            }));
            await db.SaveChangesAsync();
        }
        SignInAs(seed.Admin);
        var page = RenderWithProviders<UsageRequestsPage>();
        string Range() => page.Find("[data-testid=usage-requests-range]").TextContent.Trim();
        string FirstRoute() => page.FindAll("tr.usage-request-row")[0].TextContent;

        page.WaitForAssertion(() => Assert.Equal("1–25 of 10,000+", Range()), Wait);
        Assert.Contains("/api/v1/me/0", FirstRoute());
        Assert.True(page.Find("[data-testid=usage-requests-previous]").HasAttribute("disabled"));

        page.Find("[data-testid=usage-requests-next]").Click();
        page.WaitForAssertion(() => Assert.Equal("26–50 of 10,000+", Range()), Wait);
        Assert.Contains("/api/v1/me/25", FirstRoute());
        Assert.Equal(25, page.FindAll("tr.usage-request-row").Count);

        page.Find("[data-testid=usage-requests-previous]").Click();
        page.WaitForAssertion(() => Assert.Equal("1–25 of 10,000+", Range()), Wait);
        Assert.Contains("/api/v1/me/0", FirstRoute());
    }

    [Fact]
    public async Task RequestLog_OpenedWithAKey_NamesItInTheKeyFilter()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/usage/requests?keyId={seed.AdminKey}");

        var page = RenderWithProviders<UsageRequestsPage>();

        page.WaitForAssertion(() => Assert.Equal("1–4 of 4", page.Find("[data-testid=usage-requests-range]").TextContent.Trim()), Wait);
        Assert.StartsWith("admin reporting", page.Find("[data-testid=usage-filter-key] input, input[data-testid=usage-filter-key]").GetAttribute("value"));
    }

    [Fact]
    public async Task RequestLog_WithNothingMatching_SaysSo()
    {
        var seed = await SeedAsync();
        SignInAs(seed.DeveloperE);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/usage/requests?status=500");

        var page = RenderWithProviders<UsageRequestsPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=usage-requests-empty]")), Wait);
    }

    [Fact]
    public async Task Dashboard_ShowsTheUsageChart_WithALinkToTheOverview()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);

        var page = Render<Dashboard>(p => p.Add(d => d.Actor, seed.Admin).Add(d => d.DisplayName, "Root"));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=dashboard-usage-chart] [data-testid=usage-calls-chart]")), Wait);
        Assert.Contains("11 calls", page.Find("[data-testid=dashboard-usage-chart]").TextContent);
        Assert.Contains(page.FindAll("[data-testid=dashboard-usage-chart] a"), a => a.GetAttribute("href") == "/usage");
    }

    [Fact]
    public async Task Dashboard_ChartAxis_ReachesTheCardsCallsToday_WithLabelsThatFit()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        // A busy hour on top of the seed: the axis runs into the thousands, whose labels (N0: "2,560") MudBlazor cut.
        await seed.WriteAsync([.. Enumerable.Range(0, 2_400).Select(i => UsageSeed.Call(seed.Now.AddMinutes(-10), seed.AdminKey, seed.Admin.UserId, "/api/v1/users", 200))]);

        var page = Render<Dashboard>(p => p.Add(d => d.Actor, seed.Admin).Add(d => d.DisplayName, "Root"));
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=dashboard-usage-chart] [data-testid=usage-calls-chart]")), Wait);

        var card = long.Parse(page.Find("[data-metric=calls-today] [data-testid=dashboard-metric-value]").TextContent.Trim(),
            System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);
        var chart = page.FindComponent<UsageCallsChart>().Instance;
        var line = page.FindComponent<MudBlazor.MudChart<double>>().Instance;
#pragma warning disable MUD0012
        var options = (MudBlazor.LineChartOptions)line.ChartOptions!;
        var calls = line.ChartSeries.Single(s => s.Name == "Calls").Data.ToArray();
#pragma warning restore MUD0012
        // The chart draws the card's series: its last point is today's calls.
        Assert.Equal(card, calls[^1]);
        // The axis is scaled to what it draws: it reaches the highest day, in round steps of a few lines.
        Assert.True(chart.AxisTop >= calls.Max(), $"the axis tops at {chart.AxisTop}, below {calls.Max()}");
        Assert.True(chart.AxisTop <= 2 * calls.Max(), $"the axis tops at {chart.AxisTop}, far above {calls.Max()}");
        Assert.Equal(0, chart.AxisTop % options.YAxisTicks);
        Assert.InRange(chart.AxisTop / options.YAxisTicks, 1, 4);
        // Every label fits the room left of the plot (a cut "20,480" read as "480").
        for (var v = 0.0; v <= chart.AxisTop; v += options.YAxisTicks)
            Assert.True(options.YAxisToStringFunc!(v).Length <= 4, $"the axis label '{options.YAxisToStringFunc!(v)}' is too wide");
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 1)]
    [InlineData(11, 5)]
    [InlineData(440, 200)]
    [InlineData(19_000, 5_000)]
    [InlineData(20_001, 10_000)]
    [InlineData(3_100_000, 1_000_000)]
    public void AxisStep_IsRound_AndReachesTheMaximumInFourBands(double max, int step)
    {
        Assert.Equal(step, UsageCallsChart.AxisStep(max));
        Assert.True(4 * step >= max);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(950, "950")]
    [InlineData(5_000, "5k")]
    [InlineData(12_500, "12.5k")]
    [InlineData(1_200_000, "1.2M")]
    public void AxisLabel_IsShort(double value, string label) => Assert.Equal(label, UsageCallsChart.AxisLabel(value));

    [Fact]
    public async Task RequestLog_DateRange_EndsToday_AndOpensOnLastAndThisMonth()
    {
        var seed = await SeedAsync(withUsage: false);
        SignInAs(seed.Admin);

        var page = RenderWithProviders<UsageRequestsPage>();

        var picker = page.FindComponent<MudBlazor.MudDateRangePicker>().Instance;
        var today = Db.Clock.GetUtcNow().UtcDateTime.Date;
        // Reading the parameters the page passed (MudBlazor has no GetState for these).
#pragma warning disable MUD0012
        Assert.Equal(today, picker.MaxDate);
        // Two months show: the previous one on the left, this one on the right; no future month.
        Assert.Equal(new DateTime(today.Year, today.Month, 1).AddMonths(-1), picker.PickerMonth);
#pragma warning restore MUD0012
    }

    [Fact]
    public async Task Overview_OutcomesHaveAColourEach_AndTheChartMarksTodayAsSoFar()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);

        var page = RenderWithProviders<UsagePage>();
        page.WaitForAssertion(() => Assert.Equal("11", Metrics(page)["calls"]), Wait);

        // Each code its own colour, and the legend chip the same colour as its slice.
        var styles = page.FindAll("[data-testid=usage-outcome-code]").ToDictionary(c => c.TextContent.Trim(), c => c.GetAttribute("style")!);
        Assert.Equal(styles.Count, styles.Values.Distinct().Count());
        foreach (var (code, style) in styles) Assert.Contains(OutcomeColors.Hex(code), style);
        var all = new[] { "VALID", "NOT_FOUND", "REVOKED", "EXPIRED", "DISABLED", "NOT_SUBSCRIBED", "RATE_LIMITED", "QUOTA_EXCEEDED" };
        Assert.Equal(all.Length, all.Select(OutcomeColors.Hex).Distinct().Count());

        // The 7-day chart ends on today, which is not over: its label ("so far") says so, and so does the chart's description.
        // (bUnit draws no axis without a browser's layout: the labels are read from the chart's parameters.)
        var line = page.FindComponents<MudBlazor.MudChart<double>>().Single(c => c.Find("svg").ClassList.Contains("mud-chart-line"));
#pragma warning disable MUD0012
        var labels = line.Instance.ChartLabels;
#pragma warning restore MUD0012
        Assert.Equal(7, labels.Length);
        Assert.Equal("so far", labels[^1]);
        Assert.Equal(seed.Now.UtcDateTime.Date.AddDays(-6).ToString("dd/MM"), labels[0]);
        Assert.Contains("the last day is still in progress", page.Find("[data-testid=usage-calls-chart]").GetAttribute("aria-label"));
    }

    [Fact]
    public async Task Overview_PeriodIsInTheAddress_ChosenAndOpenedWith()
    {
        var seed = await SeedAsync();
        SignInAs(seed.Admin);
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/usage?period=24h");

        var page = RenderWithProviders<UsagePage>();

        // Opened with 24 hours: the calls of the last hours only, and that period selected.
        page.WaitForAssertion(() => Assert.Equal("10", Metrics(page)["calls"]), Wait);
        Assert.Contains("24 hours", page.Find("[data-testid=usage-period] .mud-toggle-item-selected").TextContent);

        page.FindAll("[data-testid=usage-period] button").Single(b => b.TextContent.Contains("7 days")).Click();

        page.WaitForAssertion(() => Assert.Equal("11", Metrics(page)["calls"]), Wait);
        Assert.EndsWith("/usage?period=7d", navigation.Uri);
        Assert.Contains("in the last 7 days", page.Find("[data-metric=calls]").TextContent);
    }
}
