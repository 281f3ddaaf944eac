using System.Text.RegularExpressions;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Products;
using Portal.Core.Features.SignUp;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// Seed 001, Scenario 2: a developer subscribes an application to an API product (WAITING), an admin approves it in the
/// Subscriptions page, the developer's "Try it" then answers VALID, and the plan's low rate limit soon answers
/// RATE_LIMITED with a retry time. Developer and admin each use their own browser.
/// </summary>
public sealed class SubscriptionsJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>
{
    private const string DeveloperPassword = "Developer#Pass1";
    private const string Plan = "Starter";

    [Fact]
    public async Task Developer_Subscribes_AdminApproves_TryItIsValid_ThenRateLimitedWithARetryTime()
    {
        var unique = Guid.NewGuid().ToString("N")[..8];
        var productName = $"Weather API {unique}";
        var displayName = $"Forecast Partner {unique}";
        var email = $"weather-{unique}@portal.e2e";
        var app = SignUpService.FirstApplicationName;

        // The admin's product, made through the service the products page calls (its editor is another journey):
        // two calls a minute, a day's quota of 100, and subscriptions waiting for approval.
        var created = await server.Get<ProductService>().CreateAsync(Actor.System, new CreateProduct
        {
            Name = productName,
            Title = "Forecasts and severe weather alerts",
            Published = true,
            RequiresApproval = true,
            Plans =
            [
                new PlanRequest
                {
                    Name = Plan, Type = PlanType.Free, RateLimit = 2, RateLimitWindow = RateLimitWindow.Minute,
                    Quota = 100, QuotaPeriod = QuotaPeriod.Day,
                },
            ],
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        // A developer who signed up: a personal account and a first application with one key.
        var signedUp = await server.Get<SignUpService>().SignUpAsync(email, displayName, DeveloperPassword);
        Assert.True(signedUp.IsSuccess, signedUp.Error?.Detail);

        await using var developer = await browser.NewSessionAsync(server.BaseUrl);
        await using var admin = await browser.NewSessionAsync(server.BaseUrl);

        // The developer finds the product in the catalog; before any registration, Try it is refused.
        var devLayout = await new LoginPage(developer.Page).SignInAsync(email, DeveloperPassword, displayName);
        await devLayout.GoToAsync("API Products");
        var catalog = new ProductCatalogPage(developer.Page);
        await catalog.ExpectVisibleAsync();
        var product = await catalog.OpenAsync(productName);
        Assert.Equal("NOT_SUBSCRIBED", await product.VerifyAsync());

        // Subscribe: the registration waits for an admin.
        await product.SubscribeAsync(Plan);
        await product.ExpectRegistrationAsync(app, "WAITING");
        Assert.Equal("NOT_SUBSCRIBED", await VerifyAgainAfterReloadAsync(product, productName));

        // The admin opens Subscriptions, which shows the waiting ones first, and approves.
        var adminLayout = await new LoginPage(admin.Page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await adminLayout.GoToAsync("Subscriptions");
        var subscriptions = new SubscriptionsPage(admin.Page);
        await subscriptions.ExpectVisibleAsync();
        await Expect(subscriptions.StatusChip("waiting")).ToHaveAttributeAsync("data-selected", "true");
        await subscriptions.ExpectStatusAsync(app, productName, "WAITING");
        await Expect(subscriptions.Row(app, productName)).ToContainTextAsync(displayName);
        await Expect(subscriptions.Row(app, productName)).ToContainTextAsync(Plan);
        await subscriptions.ApproveAsync(app, productName);
        await Expect(admin.Page.Locator(".mud-snackbar")).ToContainTextAsync($"Approved {app} for {productName}");
        await subscriptions.ShowStatusAsync("approved");
        await subscriptions.ExpectStatusAsync(app, productName, "APPROVED");

        // The developer sees the approval, and Try it passes: the plan, and one call of two left this minute.
        await developer.Page.ReloadAsync();
        await product.ExpectVisibleAsync(productName);
        await product.ExpectRegistrationAsync(app, "APPROVED");
        var codes = new List<string> { await product.VerifyAsync() };
        Assert.Equal("VALID", codes[0]);
        await Expect(product.Plan).ToContainTextAsync(Plan);
        await Expect(product.Quota).ToContainTextAsync("99 of 100 left");
        await Expect(product.RateLimit).ToContainTextAsync(new Regex(@"\b[01] of 2 left"));

        // Calling on: the third call in a minute is throttled (one more if a new minute began meanwhile), with a retry time.
        while (codes[^1] == "VALID" && codes.Count < 5) codes.Add(await product.VerifyAsync());
        Assert.Equal("RATE_LIMITED", codes[^1]);
        Assert.InRange(codes.Count, 3, 4);
        Assert.All(codes[..^1], code => Assert.Equal("VALID", code));
        await Expect(product.RetryAfter).ToHaveTextAsync(new Regex(@"^Retry after \d+ s$"));
        await Expect(product.RateLimit).ToContainTextAsync("0 of 2 left");
        // A throttled call takes nothing from the quota.
        await Expect(product.Quota).ToContainTextAsync($"{100 - (codes.Count - 1)} of 100 left");

        // The registration shows on the application's detail page too.
        await devLayout.GoToAsync("My Applications");
        var apps = new MyApplicationsPage(developer.Page);
        await apps.ExpectVisibleAsync();
        var detail = await apps.OpenAsync(app);
        await Expect(detail.ProductRows(productName).GetByTestId("subscription-status")).ToHaveAttributeAsync("data-status", "APPROVED");

        developer.AssertNoConsoleErrors("the developer's side of the subscriptions journey");
        admin.AssertNoConsoleErrors("the admin's side of the subscriptions journey");
    }

    /// <summary>A WAITING registration still refuses the key: reloads the page (the answer panel starts empty) and verifies once.</summary>
    private static async Task<string> VerifyAgainAfterReloadAsync(ProductPage product, string productName)
    {
        await product.Registrations.Page.ReloadAsync();
        await product.ExpectVisibleAsync(productName);
        return await product.VerifyAsync();
    }
}
