using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.SignUp;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using Portal.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// The gateway end to end: a developer subscribes, an admin approves, the product page's curl example (run with HttpClient and the
/// developer's key) reaches the upstream through the gateway, the next call over the plan's limit is 429, and the
/// request log shows both under the Gateway source.
/// </summary>
public sealed class GatewayJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>
{
    private const string DeveloperPassword = "Developer#Pass1";
    private const string Plan = "Starter";

    [Fact]
    public async Task CurlExample_ReachesTheUpstream_ThenTheLimitAnswers429_AndTheRequestLogShowsBoth()
    {
        await using var upstream = await UpstreamServer.StartAsync();
        var unique = Guid.NewGuid().ToString("N")[..8];
        var productName = $"Forecast API {unique}";
        var displayName = $"Gateway Dev {unique}";
        var email = $"gateway-{unique}@portal.e2e";
        var app = SignUpService.FirstApplicationName;

        var created = await server.Get<ProductService>().CreateAsync(Actor.System, new CreateProduct
        {
            Name = productName, Title = "Forecasts through the gateway", Published = true, RequiresApproval = true,
            UpstreamUrl = upstream.BaseUrl + "/v1",
            Plans = [new PlanRequest { Name = Plan, Type = PlanType.Free, RateLimit = 1, RateLimitWindow = RateLimitWindow.Minute, Quota = 100, QuotaPeriod = QuotaPeriod.Day }],
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        var slug = created.Value.Slug;
        var signedUp = await server.Get<SignUpService>().SignUpAsync(email, displayName, DeveloperPassword);
        Assert.True(signedUp.IsSuccess, signedUp.Error?.Detail);

        await using var developer = await browser.NewSessionAsync(server.BaseUrl);
        await using var admin = await browser.NewSessionAsync(server.BaseUrl);

        var devLayout = await new LoginPage(developer.Page).SignInAsync(email, DeveloperPassword, displayName);
        await devLayout.GoToAsync("API Products");
        var product = await new ProductCatalogPage(developer.Page).OpenAsync(productName);
        await product.SubscribeAsync(Plan);
        await product.ExpectRegistrationAsync(app, "WAITING");

        var adminLayout = await new LoginPage(admin.Page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await adminLayout.GoToAsync("Subscriptions");
        var subscriptions = new SubscriptionsPage(admin.Page);
        await subscriptions.ExpectVisibleAsync();
        await subscriptions.ApproveAsync(app, productName);
        await Expect(admin.Page.Locator(".mud-snackbar")).ToContainTextAsync($"Approved {app} for {productName}");

        // The developer's key: a new one for the first application (the sign-up's was shown once, in another flow).
        var developerActor = await ActorOfAsync(email);
        var application = (await server.Get<ApplicationService>().ListAsync(developerActor, new ApplicationQuery { Mine = true })).Value.Items.Single();
        var key = await server.Get<ApplicationService>().GenerateKeyAsync(developerActor, application.Id, new GenerateApplicationKey());
        Assert.True(key.IsSuccess, key.Error?.Detail);

        await developer.Page.ReloadAsync();
        await product.ExpectVisibleAsync(productName);
        await product.ExpectRegistrationAsync(app, "APPROVED");
        var panel = new GatewayPanel(developer.Page);
        await panel.ExpectVisibleAsync();
        await Expect(panel.Address).ToHaveTextAsync($"{server.BaseUrl}/gateway/{slug}/");
        await developer.Page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "gateway-product-1280.png"), FullPage = true });
        await developer.Page.SetViewportSizeAsync(390, 844);
        await developer.Page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "gateway-product-390.png"), FullPage = true });
        await developer.Page.SetViewportSizeAsync(1280, 800);

        // The curl example, run as written with the developer's key in $PORTAL_KEY.
        var curl = await panel.CurlTextAsync();
        Assert.DoesNotContain(key.Value.Key, curl);
        var command = Regex.Match(curl, "curl -H \"(?<name>[^:]+): (?<value>[^\"]+)\" (?<url>\\S+)");
        Assert.True(command.Success, curl);
        using var http = new HttpClient();
        HttpResponseMessage Call() => http.Send(new HttpRequestMessage(HttpMethod.Get, command.Groups["url"].Value + "forecast")
        {
            Headers = { { command.Groups["name"].Value, command.Groups["value"].Value.Replace("$PORTAL_KEY", key.Value.Key) } },
        });
        var first = Call();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("GET /v1/forecast", await first.Content.ReadAsStringAsync());
        Assert.Equal(1, upstream.Count);
        var second = Call();
        if (second.StatusCode == HttpStatusCode.OK) second = Call(); // the minute turned between the two
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.True(second.Headers.Contains("Retry-After"));

        // The request log, Gateway source: the call that passed and the one refused (once the usage writer has written them).
        await server.Get<Portal.Core.Features.Usage.UsageWriter>().DrainAsync();
        await developer.Page.GotoAsync($"{server.BaseUrl}/usage/requests?source=gateway");
        var log = new UsageRequestsPage(developer.Page);
        await log.ExpectVisibleAsync();
        await Expect(log.Rows.Filter(new() { HasText = "429" })).Not.ToHaveCountAsync(0, new() { Timeout = 15_000 });
        await Expect(log.Rows.Filter(new() { HasText = $"/gateway/{slug}/forecast" })).ToHaveCountAsync(upstream.Count + (second.StatusCode == HttpStatusCode.TooManyRequests ? 1 : 0));
        await developer.Page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts.ScreenshotDirectory, "gateway-request-log-1280.png"), FullPage = true });

        // The page's own request goes through the gateway too (loopback, a ticket for the chosen key): still over the limit.
        await developer.Page.GoBackAsync();
        await product.ExpectVisibleAsync(productName);
        Assert.Equal("429", await panel.SendAsync());
        await Expect(panel.RateLimit).ToContainTextAsync("\"rate\";r=0");

        developer.AssertNoConsoleErrors("the developer's side of the gateway journey");
        admin.AssertNoConsoleErrors("the admin's side of the gateway journey");
    }

    private async Task<Actor> ActorOfAsync(string email)
    {
        var users = await server.Get<Portal.Core.Features.Users.UserService>().ListAsync(Actor.System, new Portal.Core.Features.Users.UserQuery { Search = email });
        var user = users.Value.Items.Single();
        return new Actor(user.Id, user.Email, user.Roles);
    }
}
