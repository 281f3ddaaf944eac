using System.Net;
using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MudBlazor;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Products;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;
using Portal.Tests.Web.Products;
using Portal.Web.Features.Gateway;
using Portal.Web.Features.Products;

namespace Portal.Tests.Web.Gateway;

/// <summary>
/// The product page's gateway panel: the address, the curl example, and "Try it" sent through a real gateway (the
/// portal's own <see cref="GatewayMiddleware"/> on a Kestrel port, over the page's services and database) to a real
/// upstream.
/// </summary>
public sealed class GatewayPanelTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly TryItTickets _tickets = new(new EphemeralDataProtectionProvider());
    private UpstreamServer _upstream = null!;
    private WebApplication _gateway = null!;

    protected override void AddPageServices()
    {
        _upstream = UpstreamServer.StartAsync().GetAwaiter().GetResult();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton(Db.Get<GatewayRoutes>());
        builder.Services.AddSingleton(Db.Get<VerificationService>());
        builder.Services.AddSingleton(Db.Get<UsageRecorder>());
        builder.Services.AddSingleton(Db.Get<IOptions<PortalOptions>>());
        builder.Services.AddSingleton(Db.Get<TimeProvider>());
        builder.Services.AddSingleton(_tickets);
        builder.Services.AddSingleton<GatewayClient>();
        builder.Services.AddHttpForwarder();
        _gateway = builder.Build();
        _gateway.UseMiddleware<GatewayMiddleware>();
        _gateway.StartAsync().GetAwaiter().GetResult();
        // The page's "Try it" calls the server it runs on: here, that gateway.
        Services.AddSingleton(_tickets);
        Services.AddSingleton(_gateway.Services.GetRequiredService<IServer>());
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private PortalOptions Settings => Db.Get<IOptions<PortalOptions>>().Value;

    private async Task<(Actor Developer, Portal.Core.Features.Applications.ApplicationCreated App)> SubscribedDeveloperAsync(List<PlanRequest>? plans = null, string? upstream = "")
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API", requiresApproval: false, plans: plans,
            upstream: upstream == "" ? _upstream.BaseUrl : upstream);
        var developer = SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var app = await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        await ProductCatalog.SubscribeAsync(Db, developer, app.Application.Id, product, product.Plans[0].Name);
        return (developer, app);
    }

    [Fact]
    public async Task Panel_ShowsTheAddress_AndACurlExampleNamingTheChosenKey_NeverItsSecret()
    {
        var (_, app) = await SubscribedDeveloperAsync();

        var cut = RenderProduct("payments-api");

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=gateway-panel]")), Wait);
        Assert.Equal("http://localhost/gateway/payments-api/", cut.Find("[data-testid=gateway-address]").TextContent);
        var curl = cut.Find("[data-testid=gateway-curl]").TextContent;
        Assert.Contains("curl -H \"Authorization: Bearer $PORTAL_KEY\" http://localhost/gateway/payments-api/", curl);
        Assert.Contains(app.Key.MaskedKey, curl);
        Assert.DoesNotContain(app.Key.Key, cut.Markup);

        cut.Find("[data-testid=gateway-copy]").Click();
        Assert.Contains(JSInterop.Invocations, i => i.Identifier == "navigator.clipboard.writeText" && (string)i.Arguments[0]! == curl);

        // No key chosen: the example names none, and nothing can be sent.
        var select = cut.FindComponent<GatewayPanel>().FindComponent<MudSelect<Guid?>>();
        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(null));
        cut.WaitForAssertion(() => Assert.Contains("one of your application keys", cut.Find("[data-testid=gateway-curl]").TextContent), Wait);
        Assert.DoesNotContain(app.Key.MaskedKey, cut.Find("[data-testid=gateway-curl]").TextContent);
        Assert.True(cut.Find("[data-testid=gateway-send]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task TryIt_ShowsTheStatus_TheRateLimitHeaders_AndTheFirst4KiB_ThenA429()
    {
        var (_, app) = await SubscribedDeveloperAsync(
            [new() { Name = "Trial", Type = PlanType.Free, RateLimit = 1, RateLimitWindow = RateLimitWindow.Minute, Quota = 100, QuotaPeriod = QuotaPeriod.Day }]);
        var cut = RenderProduct("payments-api");
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=gateway-send]").HasAttribute("disabled")), Wait);
        var long5000 = new string('a', 5000);

        cut.Find("[data-testid=gateway-path] input, input[data-testid=gateway-path]").Change($"/echo?q={long5000}");
        cut.Find("[data-testid=gateway-send]").Click();

        cut.WaitForAssertion(() => Assert.Equal("200", cut.Find("[data-testid=gateway-status]").TextContent.Trim()), Wait);
        Assert.Equal("\"rate\";q=1;w=60, \"quota\";q=100;w=86400", cut.Find("[data-testid=gateway-ratelimit-policy]").TextContent.Trim());
        Assert.Matches("^\"rate\";r=0;t=\\d+, \"quota\";r=99;t=\\d+$", cut.Find("[data-testid=gateway-ratelimit]").TextContent.Trim());
        // The upstream echoes the path and query: 5,000 and more characters, of which the first 4 KiB are shown.
        var shown = cut.Find("[data-testid=gateway-answer-body]").TextContent;
        Assert.StartsWith("GET /echo?q=aaaa", shown);
        Assert.Equal(GatewayCaller.MaxBodyShown + "\n… (first 4 KiB shown)".Length, shown.Length);
        Assert.EndsWith("\n… (first 4 KiB shown)", shown);
        // It went through the gateway as the chosen key's call, the ticket kept from the upstream.
        var seen = Assert.Single(_upstream.Requests);
        Assert.Equal(app.Application.Id.ToString(), seen.Headers["X-Portal-Application-Id"]);
        Assert.DoesNotContain(seen.Headers.Keys, h => h.Equals(GatewayMiddleware.TryItHeader, StringComparison.OrdinalIgnoreCase));

        cut.Find("[data-testid=gateway-send]").Click();

        cut.WaitForAssertion(() => Assert.Equal("429", cut.Find("[data-testid=gateway-status]").TextContent.Trim()), Wait);
        Assert.Contains("mud-chip-color-warning", cut.Find("[data-testid=gateway-status]").ClassName);
        Assert.Matches("^\"rate\";r=0;t=\\d+, \"quota\";r=99;t=\\d+$", cut.Find("[data-testid=gateway-ratelimit]").TextContent.Trim());
        Assert.Contains("Retry-After", cut.Find("[data-testid=gateway-answer]").TextContent);
        Assert.Contains("RATE_LIMITED", cut.Find("[data-testid=gateway-answer-body]").TextContent);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task TryIt_SendsAJsonBody_WithTheChosenMethod()
    {
        await SubscribedDeveloperAsync();
        var cut = RenderProduct("payments-api");
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=gateway-send]").HasAttribute("disabled")), Wait);

        var method = cut.FindComponent<GatewayPanel>().FindComponent<MudSelect<string>>();
        await cut.InvokeAsync(() => method.Instance.ValueChanged.InvokeAsync("POST"));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=gateway-body] textarea, textarea[data-testid=gateway-body]")), Wait);
        cut.Find("[data-testid=gateway-body] textarea, textarea[data-testid=gateway-body]").Change("{\"amount\":42}");
        cut.Find("[data-testid=gateway-path] input, input[data-testid=gateway-path]").Change("/upload");
        cut.Find("[data-testid=gateway-send]").Click();

        // The upstream's /upload answers the length of the body it read.
        cut.WaitForAssertion(() => Assert.Equal("200", cut.Find("[data-testid=gateway-status]").TextContent.Trim()), Wait);
        Assert.Equal("13", cut.Find("[data-testid=gateway-answer-body]").TextContent);
        var seen = Assert.Single(_upstream.Requests);
        Assert.Equal("POST", seen.Method);
        Assert.StartsWith("application/json", seen.Headers["Content-Type"]);
    }

    [Fact]
    public async Task TryIt_APathClimbingOut_IsRefusedWithoutACall()
    {
        await SubscribedDeveloperAsync();
        var cut = RenderProduct("payments-api");
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=gateway-send]").HasAttribute("disabled")), Wait);

        cut.Find("[data-testid=gateway-path] input, input[data-testid=gateway-path]").Change("/../../api/v1/users");
        cut.Find("[data-testid=gateway-send]").Click();

        cut.WaitForAssertion(() => Assert.Contains("check the path", cut.Find("[data-testid=gateway-error]").TextContent), Wait);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task WithoutKeys_ThePanelShowsTheAddressAndAGeneralExample_AndNoSend()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API", upstream: _upstream.BaseUrl);
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var cut = RenderProduct("payments-api");

        cut.WaitForAssertion(() => Assert.Contains("one of your application keys", cut.Find("[data-testid=gateway-curl]").TextContent), Wait);
        Assert.Empty(cut.FindAll("[data-testid=gateway-send]"));
    }

    [Fact]
    public async Task ACustomPathPrefix_IsTheAddressShown()
    {
        Settings.Gateway.PathPrefix = "/api-gw";
        await SubscribedDeveloperAsync();

        var cut = RenderProduct("payments-api");

        cut.WaitForAssertion(() => Assert.Equal("http://localhost/api-gw/payments-api/", cut.Find("[data-testid=gateway-address]").TextContent), Wait);
        Assert.Contains("http://localhost/api-gw/payments-api/", cut.Find("[data-testid=gateway-curl]").TextContent);
    }

    [Fact]
    public async Task GatewayDisabled_ThePageShowsNoGatewayAddress()
    {
        Settings.Gateway.Enabled = false;
        await SubscribedDeveloperAsync();

        var cut = RenderProduct("payments-api");

        // The rest of the page is there (the verification "Try it" too), the gateway panel is not.
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=try-verify]")), Wait);
        Assert.Empty(cut.FindAll("[data-testid=gateway-panel]"));
        Assert.DoesNotContain("/gateway/", cut.Markup);
    }

    [Fact]
    public async Task AProductWithoutAnUpstream_HasNoGatewayPanel()
    {
        await SubscribedDeveloperAsync(upstream: null);

        var cut = RenderProduct("payments-api");

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=try-verify]")), Wait);
        Assert.Empty(cut.FindAll("[data-testid=gateway-panel]"));
    }

    private IRenderedComponent<ContainerFragment> RenderProduct(string slug)
    {
        var cut = RenderWithProviders<ProductPage>(("Slug", slug));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=product-header]")), Wait);
        return cut;
    }
}
