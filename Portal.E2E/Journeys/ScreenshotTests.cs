using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Products;
using Portal.Core.Features.SignUp;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Core.Features.Webhooks;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using Portal.Tests.Support;
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
    [InlineData("portal-apps", "/portal-apps", "Portal Apps")]
    [InlineData("subscriptions", "/subscriptions?status=all", "Subscriptions")]
    [InlineData("api-reference", "/api-reference", "API reference")]
    [InlineData("usage", "/usage", "Usage")]
    [InlineData("usage-requests", "/usage/requests", "Request log")]
    public async Task EveryPage_RendersWithoutConsoleErrors_AtDesktopAndPhoneSize(string name, string path, string heading)
    {
        // An empty table hides how the rows lay out; one key with a long name and every scope shows it.
        if (path == "/api-keys")
            await server.IssueKeyAsync(PortalServer.AdminEmail, "Screenshot deploy pipeline key", "Used by the nightly deploy of the billing service",
                "read", "write", "admin");
        // Likewise one developer's applications, so the grid shows rows.
        if (path == "/portal-apps")
        {
            var developer = await SignUpDeveloperAsync();
            await CreateApplicationAsync(developer, "Screenshot billing service integration", "Calls the invoicing and payments products every night");
        }
        // Registrations in every status, so the chips, reasons and row actions show; on the dashboard, counts above zero.
        if (path == "/" || path.StartsWith("/subscriptions", StringComparison.Ordinal))
            await SeedRegistrationsAsync(await SignUpDeveloperAsync());
        // Five days of calls and verifications: the chart, the cards, the top lists and the log's rows.
        if (path.StartsWith("/usage", StringComparison.Ordinal) || path == "/")
            await UsageTraffic.SeedAsync(server);
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
            // The table loads its rows once the circuit is up, after the prerendered "Loading" placeholder.
            if (path.StartsWith("/subscriptions", StringComparison.Ordinal))
                await Expect(session.Page.Locator("tr.subscription-row").First).ToBeVisibleAsync();
            if (path == "/")
                await Expect(session.Page.GetByTestId("dashboard-metric").First).ToBeVisibleAsync();
            if (path == "/api-reference")
                await Expect(session.Page.GetByTestId("api-operation").First).ToBeVisibleAsync();
            if (path == "/portal-apps")
                await Expect(session.Page.GetByTestId("app-Screenshot billing service integration")).ToBeVisibleAsync();
            if (path == "/usage" || path == "/")
            {
                await Expect(session.Page.GetByTestId("usage-calls-chart").Locator("svg").First).ToBeVisibleAsync();
                // The chart fits its drawing to its box once the circuit has measured it (MatchBoundsToSize).
                await session.Page.WaitForFunctionAsync(
                    "() => { const s = document.querySelector('[data-testid=usage-calls-chart] svg'); " +
                    "return s && s.viewBox.baseVal && Math.abs(s.viewBox.baseVal.width - s.getBoundingClientRect().width) < 2; }");
            }
            if (path == "/usage/requests")
                await Expect(session.Page.Locator("tr.usage-request-row").First).ToBeVisibleAsync();
            await SaveAsync(session.Page, $"{name}-{width}x{height}");
            session.AssertNoConsoleErrors($"{path} at {width}×{height}");
            if (FitsTheScreen.Contains(path))
                await AssertNoSidewaysScrollAsync(session.Page, $"{path} at {width}×{height}", tablesToo: path is "/api-keys" or "/users" || (width < 600 && path != "/audit"));
        }
    }

    /// <summary>
    /// Pages laid out to fit 1280 px with the navigation open and a 390 px phone: the page never scrolls sideways. Nor
    /// do the API keys' and users' tables (a column scrolled under the sticky actions is unreadable), nor on a phone
    /// (rows stacked as cards) the applications' table; on a wide screen that one may scroll inside its card with the
    /// actions kept in reach (sticky), as may the audit log's.
    /// </summary>
    private static readonly HashSet<string> FitsTheScreen = ["/api-keys", "/users", "/portal-apps", "/audit"];

    private static async Task AssertNoSidewaysScrollAsync(IPage page, string what, bool tablesToo = true)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        var (scrollWidth, innerWidth) = (widths[0], widths[1]);
        Assert.True(scrollWidth <= innerWidth, $"{what}: the page is {scrollWidth} px wide, the window {innerWidth} px");
        if (!tablesToo) return;
        var tables = await page.EvaluateAsync<int[][]>("() => [...document.querySelectorAll('.mud-table-container')].map(c => [c.scrollWidth, c.clientWidth])");
        Assert.All(tables, t => Assert.True(t[0] <= t[1] + 1, $"{what}: a table is {t[0]} px wide in a {t[1]} px card (its last column is cut off)"));
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

    [Fact]
    public async Task SignUpPage_RendersWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        foreach (var (width, height) in Sizes)
        {
            await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
            await new SignUpPage(session.Page).GotoAsync();
            await SaveAsync(session.Page, $"signup-{width}x{height}");
            session.AssertNoConsoleErrors($"/account/signup at {width}×{height}");
        }
    }

    /// <summary>An unknown address (here a malformed application id): the portal's page, in its layout, status 404.</summary>
    [Fact]
    public async Task NotFoundPage_RendersInTheLayout_AtDesktopAndPhoneSize()
    {
        foreach (var (width, height) in Sizes)
        {
            await using var session = await SignedInSessionAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, width, height);

            var response = await session.Page.GotoAsync("/applications/not-a-guid");

            Assert.Equal(404, response?.Status);
            await new LayoutPage(session.Page).WaitForInteractiveAsync();
            await Expect(session.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Page not found");
            await Expect(session.Page.GetByRole(AriaRole.Link, new() { Name = "Go to the dashboard" })).ToBeVisibleAsync();
            await SaveAsync(session.Page, $"not-found-{width}x{height}");
            // The browser reports the document's own 404; nothing else may go wrong.
            Assert.All(session.ConsoleErrors, e => Assert.Contains("404", e));
        }
    }

    /// <summary>Access denied for someone signed out: a way to sign in.</summary>
    [Fact]
    public async Task AccessDenied_SignedOut_OffersSignIn_AtDesktopAndPhoneSize()
    {
        foreach (var (width, height) in Sizes)
        {
            await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
            await session.Page.GotoAsync("/account/access-denied?ReturnUrl=%2Fusers");
            var signIn = session.Page.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true });
            await Expect(signIn).ToBeVisibleAsync();
            await SaveAsync(session.Page, $"access-denied-signed-out-{width}x{height}");
            session.AssertNoConsoleErrors($"/account/access-denied at {width}×{height}");
            await signIn.ClickAsync();
            await new LoginPage(session.Page).ExpectVisibleAsync();
            await Expect(session.Page).ToHaveURLAsync(new Regex("returnUrl=%2Fusers"));
        }
    }

    /// <summary>Right after sign-up: the first key, shown once.</summary>
    [Fact]
    public async Task SignUp_FirstKeyDialog_RendersWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        foreach (var (width, height) in Sizes)
        {
            await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
            var signUp = new SignUpPage(session.Page);
            await signUp.GotoAsync();
            var unique = Guid.NewGuid().ToString("N")[..8];
            await signUp.SubmitAsync($"first-key-{unique}@portal.e2e", "Screenshot Signup", DeveloperPassword);
            var apps = new MyApplicationsPage(session.Page);
            await apps.ExpectVisibleAsync();
            await Expect(apps.FirstKeyDialog).ToContainTextAsync("cannot be retrieved later");
            await SaveAsync(session.Page, $"signup-first-key-{width}x{height}");
            session.AssertNoConsoleErrors($"/applications after sign-up at {width}×{height}");
        }
    }

    /// <summary>A developer's /applications empty, then with applications, and one application's detail page.</summary>
    [Fact]
    public async Task MyApplications_EmptyFullAndDetail_RenderWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        var developer = await server.CreateUserAsync(Roles.Developer, DeveloperPassword, displayName: "Screenshot Developer");
        await ShootAsDeveloperAsync(developer.Email, "applications-empty", "/applications", "My Applications",
            page => Expect(page.GetByTestId("applications-empty")).ToBeVisibleAsync());

        var app = await CreateApplicationAsync(developer, "Screenshot customer onboarding portal with a rather long name", "Used by the onboarding team to call the KYC and accounts products");
        await CreateApplicationAsync(developer, "Screenshot mobile app", null);
        await ShootAsDeveloperAsync(developer.Email, "applications", "/applications", "My Applications",
            page => Expect(page.GetByTestId("application-card")).ToHaveCountAsync(2));
        await ShootAsDeveloperAsync(developer.Email, "application-detail", $"/applications/{app.Application.Id}", null,
            page => Expect(page.GetByTestId("application-keys")).ToBeVisibleAsync());
    }

    /// <summary>A developer's home (/) is My Applications: empty for a first-time user, then with an application.</summary>
    [Fact]
    public async Task DeveloperHome_IsMyApplications_RendersWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        var developer = await server.CreateUserAsync(Roles.Developer, DeveloperPassword, displayName: "Screenshot Newcomer");
        await ShootAsDeveloperAsync(developer.Email, "home-developer-empty", "/", "My Applications",
            page => Expect(page.GetByTestId("applications-empty")).ToBeVisibleAsync());

        await CreateApplicationAsync(developer, "Screenshot newsletter sign-up form", "Adds subscribers from the marketing site");
        await ShootAsDeveloperAsync(developer.Email, "home-developer", "/", "My Applications",
            page => Expect(page.GetByTestId("application-card")).ToHaveCountAsync(1));
    }

    /// <summary>A developer's /usage: only their application's verifications, with the chart and the outcomes.</summary>
    [Fact]
    public async Task Usage_AsDeveloper_RendersWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        Assert.Equal(DeveloperPassword, UsageTraffic.DeveloperPassword);
        var traffic = await UsageTraffic.SeedAsync(server);
        await ShootAsDeveloperAsync(traffic.DeveloperEmail, "usage-developer", "/usage", "Usage", async page =>
        {
            await Expect(page.GetByTestId("usage-top-applications")).ToContainTextAsync(traffic.ApplicationName);
            await Expect(page.GetByTestId("usage-calls-chart").Locator("svg").First).ToBeVisibleAsync();
        });
    }

    /// <summary>A developer's application detail with registrations in every status: the "API Products" section.</summary>
    [Fact]
    public async Task ApplicationDetail_WithRegistrations_RendersWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        var developer = await server.CreateUserAsync(Roles.Developer, DeveloperPassword, displayName: "Screenshot Subscriber");
        var app = await SeedRegistrationsAsync(developer);
        await ShootAsDeveloperAsync(developer.Email, "application-detail-products", $"/applications/{app.Id}", null,
            page => Expect(page.Locator("tr.application-subscription")).ToHaveCountAsync(4));
    }

    /// <summary>
    /// The API Products catalog and one product page (plans of every type, a registration, a Try it answer) as a
    /// developer; the catalog with a draft and the product editor as an admin.
    /// </summary>
    [Fact]
    public async Task ApiProducts_CatalogProductPageAndEditor_RenderWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        var products = server.Get<ProductService>();
        var payments = await CreateProductAsync(products, new CreateProduct
        {
            Name = "Screenshot Payments API",
            Title = "Take card payments, refunds and payouts in 40 currencies",
            Description = "Create payment intents, capture or refund them, and follow payouts to your bank account. Webhooks tell you when a payment settles.",
            UpstreamUrl = "https://payments.internal.example.com/v2",
            Published = true,
            Plans =
            [
                new() { Name = "Free", Type = PlanType.Free, RateLimit = 5, RateLimitWindow = RateLimitWindow.Second, Quota = 1_000, QuotaPeriod = QuotaPeriod.Day },
                new() { Name = "Business", Type = PlanType.Subscription, RateLimit = 100, RateLimitWindow = RateLimitWindow.Second, Quota = 1_000_000, PriceText = "$49 / month" },
                new() { Name = "Pay as you go", Type = PlanType.Metered, RateLimit = 600, RateLimitWindow = RateLimitWindow.Minute, PriceText = "$0.002 / request" },
                new()
                {
                    Name = "Volume", Type = PlanType.Tiered, PriceText = "By monthly volume",
                    Tiers = [new() { UpTo = 100_000, Price = "$0.002 / request" }, new() { UpTo = 1_000_000, Price = "$0.001 / request" }, new() { Price = "$0.0005 / request" }],
                },
            ],
        });
        var maps = await CreateProductAsync(products, new CreateProduct
        {
            Name = "Screenshot Maps API", Title = "Geocoding and routing", Description = "Addresses to coordinates and back, and the fastest route between them.",
            Published = true, RequiresApproval = false,
            Plans = [new() { Name = "Starter", Type = PlanType.Subscription, RateLimit = 10, Quota = 50_000, PriceText = "$19 / month" }],
        });
        var beta = await CreateProductAsync(products, new CreateProduct
        {
            Name = "Screenshot Beta API", Title = "Not yet announced", Published = false,
            Plans = [new() { Name = "Preview", Type = PlanType.Free }],
        });
        var developer = await server.CreateUserAsync(Roles.Developer, DeveloperPassword, displayName: "Screenshot Product Developer");
        var app = await CreateApplicationAsync(developer, "Screenshot checkout service", "Takes the payments of the web shop");
        var subscribed = await server.Get<SubscriptionService>().CreateAsync(new Actor(developer.Id, developer.Email, developer.Roles),
            new CreateSubscription { ApplicationId = app.Application.Id, ProductId = payments.Id, PlanId = payments.Plans[0].Id });
        Assert.True(subscribed.IsSuccess, subscribed.Error?.Detail);
        Assert.True((await server.Get<SubscriptionService>().ApproveAsync(Actor.System, subscribed.Value.Id, new DecideSubscription())).IsSuccess);

        await ShootAsDeveloperAsync(developer.Email, "products", "/products?search=Screenshot", "API Products",
            // Other journeys on the same server add products of their own, enough to push these off the first page
            // (12 cards, by name): the catalog opens searched for this test's products; these two show, not the draft.
            async page =>
            {
                await Expect(page.Locator($"[data-testid=product-card][data-slug={payments.Slug}]")).ToBeVisibleAsync();
                await Expect(page.Locator($"[data-testid=product-card][data-slug={maps.Slug}]")).ToBeVisibleAsync();
                await Expect(page.Locator($"[data-testid=product-card][data-slug={beta.Slug}]")).ToHaveCountAsync(0);
            });
        await ShootAsDeveloperAsync(developer.Email, "product", $"/products/{payments.Slug}", "Screenshot Payments API", async page =>
        {
            await Expect(page.GetByTestId("plan-card")).ToHaveCountAsync(4);
            await Interactive.ClickUntilVisibleAsync(page.GetByTestId("try-verify"), page.GetByTestId("try-code"));
            await Expect(page.GetByTestId("try-code")).ToHaveTextAsync("VALID");
            // Clicking scrolled the page; a full-page shot of a scrolled page draws the fixed app bar mid-page.
            await page.EvaluateAsync("window.scrollTo(0, 0)");
        });

        foreach (var (width, height) in Sizes)
        {
            await using var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
            var login = new LoginPage(session.Page);
            await login.GotoAsync();
            await login.SubmitAsync(PortalServer.AdminEmail, PortalServer.AdminPassword);
            await Expect(session.Page).Not.ToHaveURLAsync(new Regex("/account/login"));
            session.ClearConsoleErrors();

            await session.Page.GotoAsync("/products?search=Screenshot");
            await new LayoutPage(session.Page).WaitForInteractiveAsync();
            await Expect(session.Page.Locator($"[data-testid=product-card][data-slug={beta.Slug}]").GetByTestId("product-draft")).ToHaveCountAsync(1);
            await SaveAsync(session.Page, $"products-admin-{width}x{height}");

            var card = session.Page.Locator($"[data-testid=product-card][data-slug={payments.Slug}]");
            await Interactive.ClickUntilVisibleAsync(card.GetByTestId("edit-product"), session.Page.Locator(".mud-dialog"));
            await Expect(session.Page.GetByTestId("plan-editor")).ToHaveCountAsync(4);
            await session.Page.EvaluateAsync("window.scrollTo(0, 0)");
            await SaveAsync(session.Page, $"product-editor-{width}x{height}");
            // The tiered plan, at the bottom of the dialog's scrolling content.
            await session.Page.GetByTestId("tier-row").Last.ScrollIntoViewIfNeededAsync();
            await SaveAsync(session.Page, $"product-editor-plans-{width}x{height}");
            session.AssertNoConsoleErrors($"/products (admin, editor) at {width}×{height}");
        }
    }

    /// <summary>/webhooks with an enabled and a paused endpoint, and one endpoint's page with a delivered and a retrying test event.</summary>
    [Fact]
    public async Task Webhooks_ListAndDetail_RenderWithoutConsoleErrors_AtDesktopAndPhoneSize()
    {
        await using var receiver = new WebhookReceiver();
        var webhooks = server.Get<WebhookService>();
        var crm = await webhooks.CreateAsync(Actor.System, new CreateWebhook
        {
            Url = receiver.Url + "/crm-integration/portal-events",
            Description = "CRM: onboards partners when their registrations are approved",
            EventTypes = ["application.created", "subscription.created", "subscription.approved", "subscription.rejected", "subscription.unsubscribed"],
        });
        Assert.True(crm.IsSuccess, crm.Error?.Detail);
        Assert.True((await webhooks.CreateAsync(Actor.System, new CreateWebhook
        {
            Url = "https://hooks.example.test/security-alerts",
            Description = "Security team's alert channel (paused while they move to a new tool)",
            EventTypes = [.. WebhookEventTypes.All.Select(t => t.Name)],
            Enabled = false,
        })).IsSuccess);
        receiver.AnswerWith(200, 500);
        await webhooks.SendTestAsync(Actor.System, crm.Value.Id);
        await webhooks.SendTestAsync(Actor.System, crm.Value.Id);
        // The server's own dispatcher sends them; wait for both answers.
        for (var i = 0; i < 100 && receiver.Requests.Count < 2; i++) await Task.Delay(100);
        await Task.Delay(500);

        await ShootAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, "webhooks", "/webhooks", "Webhooks",
            page => Expect(page.GetByTestId("webhook-link")).ToHaveCountAsync(2));
        await ShootAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, "webhook-detail", $"/webhooks/{crm.Value.Id}", null, async page =>
        {
            await Expect(page.GetByTestId("delivery-status")).ToHaveCountAsync(2);
            // The delivery log's toolbar wraps on a phone rather than widening the page.
            await AssertNoSidewaysScrollAsync(page, $"/webhooks/{{id}} at {page.ViewportSize?.Width} px");
        });
        await ShootAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, "webhook-add-dialog", "/webhooks", "Webhooks",
            page => Interactive.ClickUntilVisibleAsync(page.GetByTestId("add-webhook"), new WebhooksPage(page).AddDialog));
    }

    private static async Task<ProductDto> CreateProductAsync(ProductService products, CreateProduct request)
    {
        var created = await products.CreateAsync(Actor.System, request);
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value;
    }

    private const string DeveloperPassword = "Developer#Pass1";

    /// <summary>
    /// Two products and the developer's applications registered in every status; returns the application that holds
    /// a WAITING, an APPROVED, a REJECTED (with a reason) and an UNSUBSCRIBED registration.
    /// </summary>
    private async Task<ApplicationDto> SeedRegistrationsAsync(UserDto developer)
    {
        var unique = Guid.NewGuid().ToString("N")[..6];
        var products = server.Get<ProductService>();
        async Task<ProductDto> ProductAsync(string name, string description)
        {
            var created = await products.CreateAsync(Actor.System, new CreateProduct
            {
                Name = $"{name} {unique}", Title = description, Description = description, Published = true,
                Plans =
                [
                    new PlanRequest { Name = "Free", Type = PlanType.Free, RateLimit = 5, Quota = 1000, QuotaPeriod = QuotaPeriod.Day },
                    new PlanRequest { Name = "Business", Type = PlanType.Subscription, RateLimit = 100, Quota = 1_000_000, PriceText = "$49 / month" },
                ],
            });
            Assert.True(created.IsSuccess, created.Error?.Detail);
            return created.Value;
        }
        var payments = await ProductAsync("Payments", "Card payments, refunds and payouts");
        var maps = await ProductAsync("Maps", "Geocoding, routing and places search");
        var kyc = await ProductAsync("Identity verification", "KYC checks for onboarding customers");
        var app = (await CreateApplicationAsync(developer, $"Screenshot storefront {unique}", "The web shop")).Application;
        var other = (await CreateApplicationAsync(developer, $"Screenshot warehouse scanner {unique}", null)).Application;

        var owner = new Actor(developer.Id, developer.Email, developer.Roles);
        var subscriptions = server.Get<SubscriptionService>();
        async Task<SubscriptionDto> SubscribeAsync(ApplicationDto application, ProductDto product, string plan)
        {
            var created = await subscriptions.CreateAsync(owner, new CreateSubscription
            {
                ApplicationId = application.Id, ProductId = product.Id, PlanId = product.Plans.Single(p => p.Name == plan).Id,
            });
            Assert.True(created.IsSuccess, created.Error?.Detail);
            return created.Value;
        }
        var ended = await SubscribeAsync(app, maps, "Free");
        Assert.True((await subscriptions.UnsubscribeAsync(owner, ended.Id)).IsSuccess);
        var approved = await SubscribeAsync(app, maps, "Business");
        Assert.True((await subscriptions.ApproveAsync(Actor.System, approved.Id, new DecideSubscription())).IsSuccess);
        var rejected = await SubscribeAsync(app, kyc, "Business");
        Assert.True((await subscriptions.RejectAsync(Actor.System, rejected.Id,
            new DecideSubscription { Reason = "Identity checks are for regulated customers: send us your licence number first." })).IsSuccess);
        await SubscribeAsync(app, payments, "Free");
        await SubscribeAsync(other, payments, "Business");
        return app;
    }

    private Task ShootAsDeveloperAsync(string email, string name, string path, string? heading, Func<IPage, Task> ready) =>
        ShootAsync(email, DeveloperPassword, name, path, heading, ready);

    private async Task ShootAsync(string email, string password, string name, string path, string? heading, Func<IPage, Task> ready)
    {
        foreach (var (width, height) in Sizes)
        {
            await using var session = await SignedInSessionAsync(email, password, width, height);

            var response = await session.Page.GotoAsync(path);

            Assert.True(response?.Ok, $"{path} answered {response?.Status}");
            if (heading is not null)
                await Expect(session.Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync(heading);
            await new LayoutPage(session.Page).WaitForInteractiveAsync();
            await ready(session.Page);
            await SaveAsync(session.Page, $"{name}-{width}x{height}");
            session.AssertNoConsoleErrors($"{path} at {width}×{height}");
        }
    }

    /// <summary>A new browser at <paramref name="width"/>×<paramref name="height"/>, signed in, its console errors so far cleared.</summary>
    private async Task<BrowserSession> SignedInSessionAsync(string email, string password, int width, int height)
    {
        var session = await browser.NewSessionAsync(server.BaseUrl, width, height);
        var login = new LoginPage(session.Page);
        await login.GotoAsync();
        await login.SubmitAsync(email, password);
        await Expect(session.Page).Not.ToHaveURLAsync(new Regex("/account/login"));
        session.ClearConsoleErrors();
        return session;
    }

    private async Task<UserDto> SignUpDeveloperAsync()
    {
        var unique = Guid.NewGuid().ToString("N")[..8];
        var signedUp = await server.Get<SignUpService>().SignUpAsync($"shot-{unique}@portal.e2e", "Screenshot Partner Ltd", DeveloperPassword);
        Assert.True(signedUp.IsSuccess, signedUp.Error?.Detail);
        return signedUp.Value.User;
    }

    private async Task<ApplicationCreated> CreateApplicationAsync(UserDto owner, string name, string? description)
    {
        var created = await server.Get<ApplicationService>().CreateAsync(new Actor(owner.Id, owner.Email, owner.Roles),
            new CreateApplication { Name = name, Description = description });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return created.Value;
    }

    private static readonly (int Width, int Height)[] Sizes = [(1280, 800), (390, 844)];

    private async Task SaveAsync(IPage page, string name)
    {
        var path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
