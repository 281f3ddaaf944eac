using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// The self-service and admin pages as a person sees them, on a laptop (1280x800) and a phone (390x844): the Portal Apps Create dialog
/// with its account picker open, a refused request's explanation, two-factor enrolment, the profile and /help. Each
/// screen is kept as an artefact (the viewport, and the whole page where it scrolls) and checked for what a
/// screenshot cannot show by itself: nothing wider than the screen, no console errors.
/// </summary>
public sealed class SelfServiceLooksTests(PortalServer server, BrowserFixture browser, ITestOutputHelper output)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>
{
    private const string Password = "Looks#Pass1";

    public static TheoryData<int, int> Sizes => new() { { 1280, 800 }, { 390, 844 } };

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task PortalApps_CreateDialog_WithTheAccountPickerOpen(int width, int height)
    {
        var unique = Guid.NewGuid().ToString("N")[..8];
        foreach (var name in new[] { $"Looks Partner {unique}", $"Looks Partner Overseas Holdings With A Long Name {unique}" })
            Assert.True((await server.Get<AccountService>().CreateAsync(Actor.System, new CreateAccount { Name = name })).IsSuccess);
        await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
        var page = session.Page;
        await SignInAsync(page, PortalServer.AdminEmail, PortalServer.AdminPassword);
        await page.GotoAsync("/portal-apps");
        await new PortalAppsPage(page).ExpectVisibleAsync();
        await new LayoutPage(page).WaitForInteractiveAsync();

        var dialog = page.GetByRole(AriaRole.Dialog);
        await Interactive.ClickUntilVisibleAsync(page.GetByTestId("create-portal-app"), dialog, attempts: 3);
        await Screenshot(page, $"look-portal-apps-create-{width}x{height}");
        await dialog.Locator("[data-testid='account-picker']").Locator("xpath=descendant-or-self::input").FillAsync($"Looks Partner");
        var options = page.Locator(".mud-popover-open .mud-list-item");
        await Expect(options.Filter(new() { HasText = unique })).ToHaveCountAsync(2);
        await page.WaitForTimeoutAsync(400); // the popover's opening transition
        await Screenshot(page, $"look-portal-apps-create-picker-{width}x{height}");
        await AssertFitsAsync(page, dialog);
        await options.Filter(new() { HasText = "Overseas" }).Filter(new() { HasText = unique }).ClickAsync();
        await dialog.Locator("[data-testid='create-name']").Locator("xpath=descendant-or-self::input").FillAsync($"Looks app {unique}");
        await Screenshot(page, $"look-portal-apps-create-filled-{width}x{height}");
        await AssertFitsAsync(page, dialog);
        session.AssertNoConsoleErrors("the Create dialog");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task RequestLog_ARefusedRequest_ExplainsItself(int width, int height)
    {
        var unique = Guid.NewGuid().ToString("N")[..8];
        var productName = $"Looks Ledger {unique}";
        var product = await server.Get<ProductService>().CreateAsync(Actor.System, new CreateProduct
        {
            Name = productName, Published = true, RequiresApproval = false,
            Plans = [new PlanRequest { Name = "Trial", Type = PlanType.Free, Quota = 2, QuotaPeriod = QuotaPeriod.Month }],
        });
        Assert.True(product.IsSuccess, product.Error?.Detail);
        var developer = await server.CreateUserAsync(Roles.Developer, Password, displayName: $"Looks Dev {unique}");
        var developerActor = new Actor(developer.Id, developer.Email, developer.Roles);
        var app = await server.Get<ApplicationService>().CreateAsync(developerActor, new CreateApplication { Name = $"Looks shop {unique}" });
        Assert.True(app.IsSuccess, app.Error?.Detail);
        var subscribed = await server.Get<SubscriptionService>().CreateAsync(developerActor, new CreateSubscription
        {
            ApplicationId = app.Value.Application.Id, ProductId = product.Value.Id, PlanId = product.Value.Plans[0].Id,
        });
        Assert.True(subscribed.IsSuccess, subscribed.Error?.Detail);
        var origin = new RequestOrigin(IPAddress.Parse("203.0.113.7"), "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1");
        for (var i = 0; i < 3; i++)
            Assert.True((await server.Get<VerificationService>().VerifyAsync(Actor.System,
                new VerifyKey { Key = app.Value.Key.Key, Product = product.Value.Slug }, default, origin)).IsSuccess);
        await server.Get<UsageWriter>().DrainAsync();

        await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
        var page = session.Page;
        await SignInAsync(page, PortalServer.AdminEmail, PortalServer.AdminPassword);
        await page.GotoAsync("/usage/requests");
        var log = new UsageRequestsPage(page);
        await log.ExpectVisibleAsync();
        await new LayoutPage(page).WaitForInteractiveAsync();
        var refused = log.Rows.Filter(new() { HasText = productName }).Filter(new() { HasText = "QUOTA" });
        await Expect(refused).ToHaveCountAsync(1);
        await log.OpenAsync(refused);
        await Expect(log.Details).ToContainTextAsync("QUOTA_EXCEEDED");
        await Screenshot(page, $"look-request-detail-refused-{width}x{height}");
        await Expect(page.GetByTestId("usage-request-explanation")).ToContainTextAsync("QUOTA_EXCEEDED: 2 of 2 calls this month");
        await AssertFitsAsync(page, page.GetByRole(AriaRole.Dialog));
        session.AssertNoConsoleErrors("the request detail");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task TwoFactorEnrolment_Profile_AndHelp(int width, int height)
    {
        var name = $"Looks Lee {Guid.NewGuid().ToString("N")[..6]}";
        var user = await server.CreateUserAsync(Roles.Developer, Password, displayName: name);
        await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
        var page = session.Page;
        await SignInAsync(page, user.Email, Password);

        await page.GotoAsync("/account/two-factor");
        await new TwoFactorSetupPage(page).ReadKeyAsync();
        await Screenshot(page, $"look-two-factor-{width}x{height}");
        await AssertFitsAsync(page);

        await page.GotoAsync("/account/profile");
        await Expect(new ProfilePage(page).Heading).ToBeVisibleAsync();
        await new LayoutPage(page).WaitForInteractiveAsync();
        await Screenshot(page, $"look-profile-{width}x{height}");
        await page.Locator("#sessions").ScrollIntoViewIfNeededAsync();
        await page.Locator("#sessions").ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, $"look-profile-sessions-{width}x{height}.png") });
        await AssertFitsAsync(page, page.Locator("#sessions"));

        await page.GotoAsync("/help");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Help", Level = 1 })).ToBeVisibleAsync();
        await Screenshot(page, $"look-help-{width}x{height}");
        await page.Locator("#faq").ScrollIntoViewIfNeededAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, $"look-help-faq-{width}x{height}.png") });
        await AssertFitsAsync(page);
        session.AssertNoConsoleErrors("two-factor, profile and help");
    }

    /// <summary>The sign-in form alone: on a phone the user menu shows no name to wait for.</summary>
    private static async Task SignInAsync(IPage page, string email, string password)
    {
        var login = new LoginPage(page);
        await login.GotoAsync();
        await login.SubmitAsync(email, password);
        await Expect(page).Not.ToHaveURLAsync(new Regex("/account/login"));
    }

    /// <summary>The viewport, and the whole page beside it when it scrolls.</summary>
    private async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}-full.png"), FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }

    /// <summary>Nothing scrolls sideways: neither the page nor, when named, the part of it (every table or field inside it).</summary>
    private static async Task AssertFitsAsync(IPage page, ILocator? part = null)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        Assert.True(widths[0] <= widths[1], $"The page is {widths[0]} px wide in a {widths[1]} px window");
        if (part is null) return;
        var overflowing = await part.EvaluateAsync<string[]>(
            "el => [el, ...el.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible' && getComputedStyle(e).textOverflow !== 'ellipsis' && !e.matches('input, textarea'))" +
            ".map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ${e.scrollWidth}>${e.clientWidth}`)");
        Assert.True(overflowing.Length == 0, "Scrolls sideways: " + string.Join("; ", overflowing));
    }
}
