using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// An admin with five days of recorded usage opens Usage from the navigation, reads the cards and the chart, goes on to
/// the request log, keeps only the server errors and opens one of them.
/// </summary>
public sealed class UsageJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await browser.NewSessionAsync(server.BaseUrl);

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task Admin_SeesCardsAndChart_ThenFiltersTheLogToServerErrors_AndOpensOne()
    {
        var traffic = await UsageTraffic.SeedAsync(server);
        var page = _session.Page;

        var layout = await new LoginPage(page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await layout.GoToAsync("Overview");
        var usage = new UsagePage(page);
        await usage.ExpectVisibleAsync();
        await Expect(usage.MetricValue("calls")).ToHaveTextAsync(traffic.Calls.ToString());
        await Expect(usage.Chart.Locator("svg").First).ToBeVisibleAsync();
        await Expect(usage.Verifications).ToContainTextAsync("RATE_LIMITED");
        await Expect(page.GetByTestId("usage-top-applications")).ToContainTextAsync(traffic.ApplicationName);

        await layout.GoToAsync("Request log");
        var log = new UsageRequestsPage(page);
        await log.ExpectVisibleAsync();
        await log.FilterByStatusAsync("5xx server errors");
        await Expect(log.Rows).ToHaveCountAsync(traffic.ServerErrors);

        await log.OpenAsync(log.Rows.First);
        await Expect(log.Details).ToContainTextAsync(UsageTraffic.ErrorRoute);
        await Expect(log.Details).ToContainTextAsync("500");
        await Expect(log.Details).ToContainTextAsync(traffic.KeyName);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "usage-request-detail.png") });
    }
}
