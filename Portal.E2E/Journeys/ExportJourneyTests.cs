using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// An admin exports the request log, filtered to server errors, from the page and opens the file; a developer turns a
/// notification off on the profile (screenshots of the Notifications section on a desktop and a phone).
/// </summary>
public sealed class ExportJourneyTests(PortalServer server, BrowserFixture browser, ITestOutputHelper output)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await browser.NewSessionAsync(server.BaseUrl);

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task Admin_ExportsTheFilteredRequestLog_AndOpensTheFile()
    {
        var traffic = await UsageTraffic.SeedAsync(server);
        var page = _session.Page;
        var layout = await new LoginPage(page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await layout.GoToAsync("Request log");
        var log = new UsageRequestsPage(page);
        await log.ExpectVisibleAsync();
        await log.FilterByStatusAsync("5xx server errors");
        await Expect(log.Rows).ToHaveCountAsync(traffic.ServerErrors);
        var export = page.GetByTestId("export-csv");
        await Expect(export).ToHaveAttributeAsync("href", new Regex("status=5xx"));

        var download = await page.RunAndWaitForDownloadAsync(() => export.ClickAsync());

        Assert.Equal($"request-log-{DateTime.UtcNow:yyyy-MM-dd}.csv", download.SuggestedFilename);
        var path = Path.Combine(Artifacts.ScreenshotDirectory, download.SuggestedFilename);
        await download.SaveAsAsync(path);
        var lines = (await File.ReadAllTextAsync(path)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine($"Export: {path}, {lines.Length} lines");
        Assert.StartsWith("id,at,source,method,route,path,status,", lines[0]);
        Assert.Equal(traffic.ServerErrors, lines.Length - 1);
        Assert.All(lines.Skip(1), l => Assert.Contains(",500,", l));
        Assert.Contains(lines.Skip(1), l => l.Contains(UsageTraffic.ErrorRoute));
        _session.AssertNoConsoleErrors("the export");
    }

    [Fact]
    public async Task Developer_TurnsANotificationOff_OnTheProfile()
    {
        const string password = "Notify#Pass1";
        var user = await server.CreateUserAsync(Roles.Developer, password, displayName: "Notified Nora");
        var page = _session.Page;
        await new LoginPage(page).SignInAsync(user.Email, password, "Notified Nora");
        await new ProfilePage(page).GotoAsync();
        await new LayoutPage(page).WaitForInteractiveAsync();
        var section = page.Locator("#notifications");
        await Expect(section.GetByRole(AriaRole.Heading, new() { Name = "Notifications" })).ToBeVisibleAsync();
        var expiring = section.GetByRole(AriaRole.Checkbox, new() { Name = "Key expires in 7 days" }).Or(section.GetByRole(AriaRole.Switch, new() { Name = "Key expires in 7 days" })).First;
        await Expect(expiring).ToBeCheckedAsync();

        await expiring.ClickAsync(new() { Force = true });

        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Key expires in 7 days: off");
        await Expect(expiring).Not.ToBeCheckedAsync();
        await section.ScrollIntoViewIfNeededAsync();
        await Screenshot(page, "profile-notifications-1280x800");

        // Kept: a new page load shows the switch off.
        await page.ReloadAsync();
        await Expect(page.Locator("#notifications").GetByRole(AriaRole.Checkbox, new() { Name = "Key expires in 7 days" })
            .Or(page.Locator("#notifications").GetByRole(AriaRole.Switch, new() { Name = "Key expires in 7 days" })).First).Not.ToBeCheckedAsync();

        await using var phone = await browser.NewSessionAsync(server.BaseUrl, 390, 844);
        var phoneLogin = new LoginPage(phone.Page);
        await phoneLogin.GotoAsync();
        await phoneLogin.SubmitAsync(user.Email, password);
        await Expect(phone.Page).Not.ToHaveURLAsync(new Regex("/account/login"));
        await new ProfilePage(phone.Page).GotoAsync();
        await new LayoutPage(phone.Page).WaitForInteractiveAsync();
        await phone.Page.Locator("#notifications").ScrollIntoViewIfNeededAsync();
        await Screenshot(phone.Page, "profile-notifications-390x844");
        _session.AssertNoConsoleErrors("the profile's notifications");
    }

    /// <summary>The viewport as a person sees it, scrolled to the section, and the section on its own.</summary>
    private async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        await page.Locator("#notifications").ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}-section.png") });
        output.WriteLine($"Screenshot: {path}");
    }
}
