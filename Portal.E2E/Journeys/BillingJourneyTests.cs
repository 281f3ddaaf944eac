using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>An admin opens Billing, sees the month's totals and an account's statement, and exports the month's statements as CSV.</summary>
public sealed class BillingJourneyTests(PortalServer server, BrowserFixture browser, ITestOutputHelper output)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await browser.NewSessionAsync(server.BaseUrl);

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    /// <summary>A developer account with an application on a metered plan (0.01 USD a call), and its calls this month.</summary>
    private async Task<(Guid SubscriptionId, string AccountName)> BilledAccountAsync(string appName, long calls)
    {
        var developer = await server.CreateUserAsync(Roles.Developer, "Billing#Pass1", displayName: $"{appName} owner");
        var app = (await server.Get<ApplicationService>().CreateAsync(new Actor(developer.Id, developer.Email, developer.Roles),
            new CreateApplication { Name = appName })).Value.Application;
        var plan = new Plan { Name = "Metered", Type = PlanType.Metered, UnitPrice = 0.01m, Currency = "USD" };
        var slug = $"{appName.ToLowerInvariant()}-{Guid.NewGuid():N}"[..20];
        var product = new ApiProduct { Name = $"{appName} API", Slug = slug, Published = true, Plans = [plan] };
        var month = BillableUsage.MonthStart(DateTimeOffset.UtcNow);
        var subscription = new Subscription
        {
            ApplicationId = app.Id, ApplicationName = app.Name, AccountId = app.AccountId, ProductId = product.Id, PlanId = plan.Id,
            Status = SubscriptionStatus.Approved, CreatedAt = month, DecidedAt = month,
        };
        await using var db = await server.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        db.Products.Add(product);
        db.Subscriptions.Add(subscription);
        db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscription.Id, PeriodStart = month, Used = calls });
        await db.SaveChangesAsync();
        return (subscription.Id, app.AccountName);
    }

    [Fact]
    public async Task Admin_OpensBilling_AndExportsTheMonthsStatementsAsCsv()
    {
        var storefront = await BilledAccountAsync("Storefront", 1200);
        var backoffice = await BilledAccountAsync("Backoffice", 300);
        var page = _session.Page;
        var layout = await new LoginPage(page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await layout.GoToAsync("Billing");
        var billing = new BillingPage(page);
        await billing.ExpectVisibleAsync();
        await Expect(billing.MonthTotal).ToContainTextAsync("USD");
        await Expect(billing.AccountRows).ToHaveCountAsync(2);

        await billing.StatementButton(storefront.AccountName).ClickAsync();
        await Expect(billing.Statement).ToContainTextAsync("12.00 USD");
        await Screenshot(page, "billing-admin-1280x800");

        var download = await page.RunAndWaitForDownloadAsync(() => billing.Export.ClickAsync());

        var month = BillingMonth.Name(DateTimeOffset.UtcNow);
        Assert.Equal($"statements-{month}.csv", download.SuggestedFilename);
        var path = Path.Combine(Artifacts.ScreenshotDirectory, download.SuggestedFilename);
        await download.SaveAsAsync(path);
        var lines = (await File.ReadAllTextAsync(path)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine($"Export: {path}, {lines.Length} lines");
        Assert.StartsWith("month,status,revision,accountId,accountName,subscriptionId,", lines[0]);
        Assert.Equal(2, lines.Length - 1);
        Assert.Contains(lines, l => l.StartsWith($"{month},estimate,,") && l.Contains($",{storefront.SubscriptionId},") && l.Contains(",1200,USD,12.00,"));
        Assert.Contains(lines, l => l.Contains($",{backoffice.SubscriptionId},") && l.Contains(",300,USD,3.00,"));
        _session.AssertNoConsoleErrors("the billing page");

        await using var phone = await browser.NewSessionAsync(server.BaseUrl, 390, 844);
        var phoneLogin = new LoginPage(phone.Page);
        await phoneLogin.GotoAsync();
        await phoneLogin.SubmitAsync(PortalServer.AdminEmail, PortalServer.AdminPassword);
        await Expect(phone.Page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));
        await phone.Page.GotoAsync(server.BaseUrl + "/billing");
        await new LayoutPage(phone.Page).WaitForInteractiveAsync();
        var phoneBilling = new BillingPage(phone.Page);
        await Expect(phoneBilling.MonthTotal).ToContainTextAsync("USD");
        await Interactive.ClickUntilVisibleAsync(phoneBilling.StatementButton(backoffice.AccountName), phoneBilling.Statement);
        await Expect(phoneBilling.Statement).ToContainTextAsync("3.00 USD");
        await Screenshot(phone.Page, "billing-admin-390x844");
    }

    private async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
