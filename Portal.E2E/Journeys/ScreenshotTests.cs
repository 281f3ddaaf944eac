using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>Every page at desktop and phone size, kept under artifacts/screenshots; none may log a console error.</summary>
public sealed class ScreenshotTests(PortalServer server, BrowserFixture browser, ITestOutputHelper output)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>
{
    [Theory]
    [InlineData("dashboard", "/", "Welcome, Administrator")]
    [InlineData("users", "/users", "Users")]
    [InlineData("organisation", "/organisation", "Organisation")]
    [InlineData("audit", "/audit", "Audit log")]
    [InlineData("api-keys", "/api-keys", "API Keys")]
    public async Task EveryPage_RendersWithoutConsoleErrors_AtDesktopAndPhoneSize(string name, string path, string heading)
    {
        // An empty table hides how the rows lay out; one key with a long name and every scope shows it.
        if (path == "/api-keys")
            await server.IssueKeyAsync(PortalServer.AdminEmail, "Screenshot deploy pipeline key", "Used by the nightly deploy of the billing service",
                "read", "write", "admin");
        foreach (var (width, height) in Sizes)
        {
            await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
            // Not LoginPage.SignInAsync: at phone width the app bar hides the name on the user menu.
            var login = new LoginPage(session.Page);
            await login.GotoAsync();
            await login.SubmitAsync(PortalServer.AdminEmail, PortalServer.AdminPassword);
            await Expect(session.Page).Not.ToHaveURLAsync(new Regex("/account/login"));
            session.ClearConsoleErrors();

            var response = await session.Page.GotoAsync(path);

            Assert.True(response?.Ok, $"{path} answered {response?.Status}");
            await Expect(session.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync(heading);
            await new LayoutPage(session.Page).WaitForInteractiveAsync();
            await SaveAsync(session.Page, $"{name}-{width}x{height}");
            session.AssertNoConsoleErrors($"{path} at {width}×{height}");
        }
    }

    [Fact]
    public async Task LoginPage_RendersWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        foreach (var (width, height) in Sizes)
        {
            await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
            await new LoginPage(session.Page).GotoAsync();
            await SaveAsync(session.Page, $"login-{width}x{height}");
            session.AssertNoConsoleErrors($"/account/login at {width}×{height}");
        }
    }

    private static readonly (int Width, int Height)[] Sizes = [(1280, 800), (390, 844)];

    private async Task SaveAsync(IPage page, string name)
    {
        var path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
