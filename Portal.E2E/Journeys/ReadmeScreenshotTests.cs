using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Features.Demo;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// The pictures the README shows, taken on every run so they always show the pages as they are: a server of its own
/// filled by the same seeding as <c>seed-demo</c>, the bootstrapped super-admin signed in, 1280×800, what fits the
/// window. They are written to <c>docs/screenshot-*.png</c> (committed with the change that alters a page) and, like
/// every other screenshot, to <c>artifacts/screenshots</c>.
/// </summary>
public sealed class ReadmeScreenshotTests(PortalServer server, BrowserFixture browser, ITestOutputHelper output)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task DashboardAndUsers_WithDemoData_AreWrittenToDocs()
    {
        var seeded = await server.Get<DemoData>().SeedAsync();
        Assert.True(seeded.IsSuccess, seeded.Error?.Detail);
        await using var session = await browser.NewSessionAsync(server.BaseUrl, 1280, 800);
        var login = new LoginPage(session.Page);
        await login.GotoAsync();
        await login.SubmitAsync(PortalServer.AdminEmail, PortalServer.AdminPassword);
        await Expect(session.Page).Not.ToHaveURLAsync(new Regex("/account/login"));
        session.ClearConsoleErrors();

        await session.Page.GotoAsync("/");
        await Expect(session.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Welcome, Administrator");
        await new LayoutPage(session.Page).WaitForInteractiveAsync();
        await Expect(session.Page.GetByTestId("dashboard-metric").First).ToBeVisibleAsync();
        await Expect(session.Page.GetByTestId("usage-calls-chart").Locator("svg").First).ToBeVisibleAsync();
        // The chart fits its drawing to its box once the circuit has measured it (MatchBoundsToSize).
        await session.Page.WaitForFunctionAsync(
            "() => { const s = document.querySelector('[data-testid=usage-calls-chart] svg'); " +
            "return s && s.viewBox.baseVal && Math.abs(s.viewBox.baseVal.width - s.getBoundingClientRect().width) < 2; }");
        await SaveAsync(session.Page, "dashboard");
        await AssertChartAgreesWithTheCardAsync(session.Page);

        await session.Page.GotoAsync("/users");
        await Expect(session.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Users");
        await new LayoutPage(session.Page).WaitForInteractiveAsync();
        await Expect(session.Page.Locator("tr.users-row").Nth(5)).ToBeVisibleAsync();
        await SaveAsync(session.Page, "users");
        // Every column readable: the table fits its card, nothing scrolled under the sticky actions.
        var table = await session.Page.EvaluateAsync<int[]>("() => { const c = document.querySelector('.users-grid .mud-table-container'); return [c.scrollWidth, c.clientWidth]; }");
        Assert.True(table[0] <= table[1] + 1, $"the users table is {table[0]} px wide in a {table[1]} px card: a column scrolls under the actions");

        session.AssertNoConsoleErrors("the README's pages");
    }

    /// <summary>
    /// The chart's axis reads whole (no label cut off at the card's edge) and reaches today's calls, as the card beside
    /// it counts them: a cut "20,480" once read as "480" beside a card of 13,176.
    /// </summary>
    private static async Task AssertChartAgreesWithTheCardAsync(IPage page)
    {
        var today = long.Parse(await page.Locator("[data-testid=dashboard-metric][data-metric=calls-today] [data-testid=dashboard-metric-value]").InnerTextAsync(),
            System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);
        var labels = await page.EvaluateAsync<AxisLabel[]>(
            "() => { const box = document.querySelector('[data-testid=dashboard-usage-chart]').getBoundingClientRect(); " +
            "return [...document.querySelectorAll('[data-testid=usage-calls-chart] .mud-charts-yaxis text')].map(t => { " +
            "const r = t.getBoundingClientRect(), s = t.closest('svg').getBoundingClientRect(); " +
            "return { text: t.textContent, left: r.left, visibleFrom: Math.max(s.left, box.left) }; }); }");
        Assert.NotEmpty(labels);
        Assert.All(labels, l => Assert.True(l.Left >= l.VisibleFrom - 0.5, $"the axis label '{l.Text}' starts at {l.Left:0.#} px, left of the chart's edge at {l.VisibleFrom:0.#} px"));
        var top = labels.Select(l => AxisValue(l.Text)).Max();
        Assert.True(top >= today, $"the axis tops out at {top:N0}, below today's {today:N0} calls on the card");
    }

    private sealed class AxisLabel
    {
        public string Text { get; set; } = "";
        public double Left { get; set; }
        public double VisibleFrom { get; set; }
    }

    private static double AxisValue(string label) => label.Trim() switch
    {
        var t when t.EndsWith('M') => double.Parse(t[..^1], System.Globalization.CultureInfo.InvariantCulture) * 1_000_000,
        var t when t.EndsWith('k') => double.Parse(t[..^1], System.Globalization.CultureInfo.InvariantCulture) * 1_000,
        var t => double.Parse(t, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture),
    };

    private async Task SaveAsync(IPage page, string name)
    {
        var docs = Path.Combine(Artifacts.DocsDirectory, $"screenshot-{name}.png");
        Directory.CreateDirectory(Artifacts.DocsDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = docs });
        File.Copy(docs, Path.Combine(Artifacts.ScreenshotDirectory, $"readme-{name}-1280x800.png"), overwrite: true);
        output.WriteLine($"Screenshot: {docs}");
    }
}
