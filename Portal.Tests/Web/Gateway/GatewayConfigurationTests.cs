using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Gateway;

public sealed class GatewayDisabledFixture() : GatewayFixture(new Dictionary<string, string?> { ["Portal:Gateway:Enabled"] = "false" });

/// <summary><c>Portal__Gateway__Enabled=false</c>: the portal carries no product traffic, whatever the products say.</summary>
public sealed class GatewayDisabledTests(GatewayDisabledFixture fixture) : IClassFixture<GatewayDisabledFixture>
{
    [Fact]
    public async Task GatewayPaths_AreNotFound_AndNothingReachesTheUpstream()
    {
        var s = await fixture.SubscribedAsync();
        using var client = fixture.Client(c => c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", s.Key));
        var before = fixture.Upstream.Count;

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete })
        {
            using var request = new HttpRequestMessage(method, $"/gateway/{s.Slug}/items") { Content = method == HttpMethod.Get ? null : JsonContent.Create(new { a = 1 }) };
            var answer = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            Assert.Contains("gateway is turned off", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }

        Assert.Equal(before, fixture.Upstream.Count);
        Assert.Empty(await fixture.UsageOfAsync(s.ProductId));
        // The portal itself still answers.
        Assert.Equal(HttpStatusCode.OK, (await fixture.Client().GetAsync("/healthz")).StatusCode);
    }
}

public sealed class GatewayPrefixFixture() : GatewayFixture(new Dictionary<string, string?> { ["Portal:Gateway:PathPrefix"] = "/api-gw/" });

/// <summary><c>Portal__Gateway__PathPrefix=/api-gw</c>: the gateway answers there, and <c>/gateway</c> is nothing special.</summary>
public sealed class GatewayPrefixTests(GatewayPrefixFixture fixture) : IClassFixture<GatewayPrefixFixture>
{
    [Fact]
    public async Task Proxies_UnderTheConfiguredPrefix_AndNotUnderTheDefaultOne()
    {
        var s = await fixture.SubscribedAsync();
        using var client = fixture.Client(c => c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", s.Key));

        var answer = await client.GetAsync($"/api-gw/{s.Slug}/items?city=Oslo");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("GET /base/items?city=Oslo", await answer.Content.ReadAsStringAsync());

        var before = fixture.Upstream.Count;
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/gateway/{s.Slug}/items")).StatusCode);
        Assert.Equal(before, fixture.Upstream.Count);

        var events = await fixture.UsageOfAsync(s.ProductId, atLeast: 1);
        var call = Assert.Single(events);
        Assert.Equal(UsageSource.Gateway, call.Source);
        Assert.Equal($"/api-gw/{s.Slug}/items?city", call.Path);
        Assert.Equal($"/api-gw/{s.Slug}/{{**path}}", call.Route);
    }

    [Fact]
    public async Task Refusals_UnderTheConfiguredPrefix_AreTheGatewaysProblems()
    {
        var s = await fixture.SubscribedAsync();
        using var anonymous = fixture.Client();
        var refused = await anonymous.GetAsync($"/api-gw/{s.Slug}/items");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("NOT_FOUND", problem.GetProperty("code").GetString());
        Assert.Equal($"/api-gw/{s.Slug}/items", problem.GetProperty("instance").GetString());
    }
}

/// <summary>
/// <c>Portal__Gateway__Urls</c>: a listener of its own for the data plane, in a real process (the listener is a real
/// port, which only the host's own startup opens). There the gateway answers and nothing of the portal does.
/// </summary>
public sealed class GatewayListenerTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private UpstreamServer _upstream = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(onFile: true);
        _upstream = await UpstreamServer.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task DedicatedListener_ServesTheGatewayOnly_AndThePortalStaysOnItsOwnAddress()
    {
        var root = await _db.RootAsync();
        var (admin, _) = await _db.CreateUserAsync(Roles.Admin);
        var adminKey = (await _db.Get<ApiKeyService>().CreateAsync(Actor.System, new CreateApiKey { Name = "ops", Scopes = [Scopes.Read], OwnerId = admin.Id })).Value.Key;
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var app = (await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = "listener" })).Value;
        var product = (await _db.Get<ProductService>().CreateAsync(root, new CreateProduct
        {
            Name = "Weather", Published = true, RequiresApproval = false, UpstreamUrl = _upstream.BaseUrl + "/v1",
            Plans = [new PlanRequest { Name = "Free", Type = PlanType.Free }],
        })).Value;
        Assert.True((await _db.Get<SubscriptionService>().CreateAsync(developer, new CreateSubscription
        {
            ApplicationId = app.Application.Id, ProductId = product.Id, PlanId = product.Plans[0].Id,
        })).IsSuccess);

        var gatewayPort = PortalProcess.FreePort();
        await using var portal = await PortalProcess.StartAsync(new Dictionary<string, string>
        {
            ["Portal__Database__ConnectionString"] = _db.ConnectionString,
            ["Portal__Bootstrap__AdminEmail"] = TestDatabase.AdminEmail,
            ["Portal__Bootstrap__AdminPassword"] = TestDatabase.AdminPassword,
            ["Portal__Gateway__Urls"] = $"http://127.0.0.1:{gatewayPort}",
        });
        using var dataPlane = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{gatewayPort}/"),
        };
        using var main = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = portal.BaseAddress };

        // The data plane: the gateway answers, with the key.
        using (var call = new HttpRequestMessage(HttpMethod.Get, $"gateway/{product.Slug}/forecast?city=Oslo"))
        {
            call.Headers.Add("X-Api-Key", app.Key.Key);
            var answer = await dataPlane.SendAsync(call);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("GET /v1/forecast?city=Oslo", await answer.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await dataPlane.GetAsync($"gateway/{product.Slug}/forecast")).StatusCode);

        // Nothing of the portal there: pages, sign-in, the API (even with a good key), health, static files, Blazor.
        foreach (var path in new[] { "", "account/login", "products", "healthz", "api/v1/products", "openapi/v1.json", "_framework/blazor.web.js", "_blazor/negotiate" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            var refused = await dataPlane.SendAsync(request);
            Assert.True(refused.StatusCode == HttpStatusCode.NotFound, $"/{path} on the gateway listener answered {(int)refused.StatusCode}");
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal("NOT_FOUND", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await dataPlane.PostAsync("api/v1/keys/verify", JsonContent.Create(new { key = app.Key.Key, product = product.Slug }))).StatusCode);

        // The portal keeps its own address, where the gateway answers as well.
        Assert.Equal(HttpStatusCode.OK, (await main.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await main.GetAsync("account/login")).StatusCode);
        using (var me = new HttpRequestMessage(HttpMethod.Get, "api/v1/me"))
        {
            me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            Assert.Equal(HttpStatusCode.OK, (await main.SendAsync(me)).StatusCode);
        }
        using (var call = new HttpRequestMessage(HttpMethod.Get, $"gateway/{product.Slug}/forecast"))
        {
            call.Headers.Add("X-Api-Key", app.Key.Key);
            Assert.Equal(HttpStatusCode.OK, (await main.SendAsync(call)).StatusCode);
        }
    }
}
