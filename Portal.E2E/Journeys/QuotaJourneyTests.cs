using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.SignUp;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Verification;
using Portal.E2E.Support;
using Portal.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// Quotas and cost: a developer's application calls a metered product through the gateway (a real upstream), and the
/// application page shows the quota used and the month's cost grow: on Refresh, and on its own timer without a reload.
/// </summary>
public sealed class QuotaJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>
{
    private const string DeveloperPassword = "Developer#Pass1";

    [Fact]
    public async Task GatewayCalls_GrowTheQuotaUsedAndTheCost_OnTheApplicationPage()
    {
        await using var upstream = await UpstreamServer.StartAsync();
        var unique = Guid.NewGuid().ToString("N")[..8];
        var productName = $"Metered Maps {unique}";
        var displayName = $"Quota Dev {unique}";
        var email = $"quota-{unique}@portal.e2e";

        var created = await server.Get<ProductService>().CreateAsync(Actor.System, new CreateProduct
        {
            Name = productName, Title = "Maps billed per call", Published = true, RequiresApproval = false,
            UpstreamUrl = upstream.BaseUrl + "/v1",
            Plans = [new PlanRequest { Name = "Pay as you go", Type = PlanType.Metered, RateLimit = 50, RateLimitWindow = RateLimitWindow.Second, Quota = 10, QuotaPeriod = QuotaPeriod.Month }],
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        var planId = created.Value.Plans[0].Id;
        // The plan's price as numbers (the product editor's price fields are another branch's): 0.25 EUR a call.
        await using (var db = await server.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
            await db.Plans.Where(p => p.Id == planId).ExecuteUpdateAsync(u => u.SetProperty(p => p.UnitPrice, 0.25m).SetProperty(p => p.Currency, "EUR"));
        server.Get<VerificationCache>().Invalidate();

        var signedUp = await server.Get<SignUpService>().SignUpAsync(email, displayName, DeveloperPassword);
        Assert.True(signedUp.IsSuccess, signedUp.Error?.Detail);
        var developerActor = await ActorOfAsync(email);
        var application = (await server.Get<ApplicationService>().ListAsync(developerActor, new ApplicationQuery { Mine = true })).Value.Items.Single();
        var subscribed = await server.Get<SubscriptionService>().CreateAsync(developerActor,
            new CreateSubscription { ApplicationId = application.Id, ProductId = created.Value.Id, PlanId = planId });
        Assert.Equal(SubscriptionStatus.Approved, subscribed.Value.Status);
        var key = (await server.Get<ApplicationService>().GenerateKeyAsync(developerActor, application.Id, new GenerateApplicationKey())).Value.Key;

        await using var developer = await browser.NewSessionAsync(server.BaseUrl);
        var page = developer.Page;
        await new Portal.E2E.Pages.LoginPage(page).SignInAsync(email, DeveloperPassword, displayName);
        await page.GotoAsync($"{server.BaseUrl}/applications/{application.Id}");
        var bar = page.GetByTestId("quota-bar");
        await Expect(bar).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        await Expect(bar.GetByTestId("quota-title")).ToContainTextAsync(productName);
        await Expect(bar.GetByTestId("quota-used")).ToContainTextAsync("0 of 10 calls used this month");
        await Expect(bar.GetByTestId("quota-cost")).ToContainTextAsync("0.00 EUR");
        await Expect(bar.GetByTestId("quota-rate-limit")).ToHaveTextAsync("Rate limit 50 / second");

        using var http = new HttpClient();
        async Task CallAsync(HttpStatusCode expected)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.BaseUrl}/gateway/{created.Value.Slug}/tiles") { Headers = { { "X-Api-Key", key } } };
            Assert.Equal(expected, (await http.SendAsync(request)).StatusCode);
        }

        for (var i = 0; i < 3; i++) await CallAsync(HttpStatusCode.OK);
        Assert.Equal(3, upstream.Count);
        await page.GetByTestId("quota-refresh").ClickAsync();
        await Expect(bar.GetByTestId("quota-used")).ToContainTextAsync("3 of 10 calls used this month");
        await Expect(bar.GetByTestId("quota-remaining")).ToHaveTextAsync("7 left");
        await Expect(bar.GetByTestId("quota-cost")).ToContainTextAsync("0.75 EUR");
        await Expect(bar.GetByTestId("quota-progress")).ToHaveAttributeAsync("data-level", "ok");

        // Past 80% without touching the page: the panel's own timer brings the numbers (no reload, no click).
        for (var i = 0; i < 6; i++) await CallAsync(HttpStatusCode.OK);
        await Expect(bar.GetByTestId("quota-used")).ToContainTextAsync("9 of 10 calls used this month", new() { Timeout = 25_000 });
        await Expect(bar.GetByTestId("quota-cost")).ToContainTextAsync("2.25 EUR");
        await Expect(bar.GetByTestId("quota-progress")).ToHaveAttributeAsync("data-level", "warning");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "quota-application-1280.png"), FullPage = true });

        await CallAsync(HttpStatusCode.OK);
        await CallAsync(HttpStatusCode.TooManyRequests);
        await page.GetByTestId("quota-refresh").ClickAsync();
        await Expect(bar.GetByTestId("quota-remaining")).ToHaveTextAsync("No calls left");
        await Expect(bar.GetByTestId("quota-progress")).ToHaveAttributeAsync("data-level", "full");
        await Expect(bar.GetByTestId("quota-cost")).ToContainTextAsync("2.50 EUR");
        await page.SetViewportSizeAsync(390, 844);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "quota-application-390.png"), FullPage = true });
        await page.SetViewportSizeAsync(1280, 800);

        // The product page shows the same registration's quota.
        await page.GotoAsync($"{server.BaseUrl}/products/{created.Value.Slug}");
        await Expect(page.GetByTestId("quota-bar").GetByTestId("quota-used")).ToContainTextAsync("10 of 10 calls used this month", new() { Timeout = 15_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "quota-product-1280.png"), FullPage = true });

        developer.AssertNoConsoleErrors("the quota journey");
    }

    private async Task<Actor> ActorOfAsync(string email)
    {
        var users = await server.Get<Portal.Core.Features.Users.UserService>().ListAsync(Actor.System, new Portal.Core.Features.Users.UserQuery { Search = email });
        var user = users.Value.Items.Single();
        return new Actor(user.Id, user.Email, user.Roles);
    }
}
