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

        await session.Page.GotoAsync("/users");
        await Expect(session.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Users");
        await new LayoutPage(session.Page).WaitForInteractiveAsync();
        await Expect(session.Page.Locator("tr.users-row").Nth(5)).ToBeVisibleAsync();
        await SaveAsync(session.Page, "users");

        session.AssertNoConsoleErrors("the README's pages");
    }

    private async Task SaveAsync(IPage page, string name)
    {
        var docs = Path.Combine(Artifacts.DocsDirectory, $"screenshot-{name}.png");
        Directory.CreateDirectory(Artifacts.DocsDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = docs });
        File.Copy(docs, Path.Combine(Artifacts.ScreenshotDirectory, $"readme-{name}-1280x800.png"), overwrite: true);
        output.WriteLine($"Screenshot: {docs}");
    }
}
