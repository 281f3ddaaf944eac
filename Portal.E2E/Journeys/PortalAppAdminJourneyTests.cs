using System.Globalization;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// Seed 001, scenario 5: an admin creates a portal app for an account found by searching, approves
/// its WAITING registration from the application's page, and generates a key with an expiry date.
/// </summary>
public sealed class PortalAppAdminJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Admin_CreatesAppForAPickedAccount_ApprovesItsRegistration_GeneratesAnExpiringKey()
    {
        var unique = Guid.NewGuid().ToString("N")[..8];
        var accountName = $"Partner {unique}";
        var appName = $"Partner portal {unique}";
        var account = await server.Get<AccountService>().CreateAsync(Actor.System, new CreateAccount { Name = accountName });
        Assert.True(account.IsSuccess, account.Error?.Detail);
        var product = await server.Get<ProductService>().CreateAsync(Actor.System, new CreateProduct
        {
            Name = $"Ledger {unique}", Published = true, RequiresApproval = true,
            Plans = [new PlanRequest { Name = "Free", Type = PlanType.Free, Quota = 10_000, QuotaPeriod = QuotaPeriod.Month }],
        });
        Assert.True(product.IsSuccess, product.Error?.Detail);

        await using var session = await browser.NewSessionAsync(server.BaseUrl);
        var page = session.Page;
        var layout = await new LoginPage(page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await layout.GoToAsync("Portal Apps");
        var apps = new PortalAppsPage(page);
        await apps.ExpectVisibleAsync();

        // Create: the account is searched on the server as one types.
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Interactive.ClickUntilVisibleAsync(page.GetByTestId("create-portal-app"), dialog, attempts: 3);
        var picker = dialog.Locator("[data-testid='account-picker']").Locator("xpath=descendant-or-self::input");
        await picker.FillAsync(unique);
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = accountName }).ClickAsync();
        await dialog.Locator("[data-testid='create-name']").Locator("xpath=descendant-or-self::input").FillAsync(appName);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "portal-apps-create-1280.png") });
        await dialog.GetByTestId("dialog-save").ClickAsync();
        await Expect(dialog.GetByTestId("created-application-name")).ToContainTextAsync(appName);
        await dialog.GetByTestId("dialog-done").ClickAsync();

        var detail = new ApplicationDetailPage(page);
        await detail.ExpectVisibleAsync(appName);
        await Expect(page.GetByTestId("application-account")).ToContainTextAsync(accountName);

        // The account's developer asks for the product (through the service the catalog calls); the admin decides here.
        var subscribed = await server.Get<SubscriptionService>().CreateAsync(Actor.System, new CreateSubscription
        {
            ApplicationId = detail.Id, ProductId = product.Value.Id, PlanId = product.Value.Plans[0].Id,
        });
        Assert.True(subscribed.IsSuccess, subscribed.Error?.Detail);
        await page.ReloadAsync();
        await detail.ExpectVisibleAsync(appName);
        var row = detail.ProductRows($"Ledger {unique}");
        await Expect(row).ToContainTextAsync("WAITING");
        var confirm = detail.Dialog("Approve registration");
        await Interactive.ClickUntilVisibleAsync(row.GetByTestId("application-subscription-approve"), confirm, attempts: 3);
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();
        await Expect(row).ToContainTextAsync("APPROVED");
        await Expect(row.GetByTestId("application-subscription-approve")).ToHaveCountAsync(0);

        // A key that expires in 30 days, at the end of that UTC day.
        var day = DateTime.UtcNow.Date.AddDays(30);
        var (keyId, key) = await detail.GenerateKeyAsync(day);
        Assert.StartsWith("ptl_", key);
        await Expect(detail.KeyRow(keyId)).ToContainTextAsync(day.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture) + " 23:59:59");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "portal-app-detail-1280.png"), FullPage = true });

        var appId = detail.Id;
        await page.GotoAsync(server.BaseUrl + "/help");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Help", Level = 1 })).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "help-1280.png"), FullPage = true });
        await page.SetViewportSizeAsync(390, 844);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "help-390.png"), FullPage = true });
        await page.GotoAsync(server.BaseUrl + $"/portal-apps/{appId}");
        await detail.ExpectVisibleAsync(appName);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "portal-app-detail-390.png"), FullPage = true });
    }
}
