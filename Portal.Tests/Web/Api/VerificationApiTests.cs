using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary><c>POST /api/v1/keys/verify</c> as a gateway calls it, with real keys.</summary>
public sealed class VerificationApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    /// <summary>A developer's application subscribed (APPROVED) to a new product: its key and the product slug.</summary>
    private async Task<(string Key, Guid KeyId, Guid AppId, string Slug, Guid PlanId)> SubscribedAsync(
        int? rateLimit = null, long? quota = null, RateLimitWindow window = RateLimitWindow.Second)
    {
        var (_, developer, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var created = (await factory.Get<ApplicationService>().CreateAsync(new Actor(developer.Id, developer.Email, developer.Roles),
            new CreateApplication { Name = "Gateway test app" })).Value;
        var slug = $"orders-{Guid.NewGuid():N}"[..20];
        var plan = new Plan { Name = "Pro", Type = PlanType.Metered, RateLimit = rateLimit, RateLimitWindow = window, Quota = quota, QuotaPeriod = QuotaPeriod.Month };
        var product = new ApiProduct { Name = slug, Slug = slug, Published = true, Plans = [plan] };
        await using var db = await factory.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        db.Products.Add(product);
        db.Subscriptions.Add(new Subscription { ApplicationId = created.Application.Id, ApplicationName = created.Application.Name, AccountId = created.Application.AccountId, ProductId = product.Id, PlanId = plan.Id, Status = SubscriptionStatus.Approved });
        await db.SaveChangesAsync();
        factory.Get<VerificationCache>().Invalidate();
        return (created.Key.Key, created.Key.Id, created.Application.Id, slug, plan.Id);
    }

    private async Task<HttpClient> GatewayAsync(params string[] scopes) => (await factory.ClientWithKeyAsync(Roles.Admin, scopes)).Client;

    [Fact]
    public async Task Verify_Valid_Is200_WithCodeLimitsAndHeaders()
    {
        var (key, keyId, appId, slug, planId) = await SubscribedAsync(rateLimit: 100, quota: 1000);
        var gateway = await GatewayAsync(Scopes.Read);

        var response = await gateway.PostAsJsonAsync("/api/v1/keys/verify", new { key, product = slug });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("valid").GetBoolean());
        Assert.Equal("VALID", body.GetProperty("code").GetString());
        Assert.Equal(keyId, body.GetProperty("keyId").GetGuid());
        Assert.Equal(appId, body.GetProperty("applicationId").GetGuid());
        Assert.NotEqual(Guid.Empty, body.GetProperty("subscriptionId").GetGuid());
        Assert.Equal(planId, body.GetProperty("plan").GetProperty("id").GetGuid());
        Assert.Equal("Pro", body.GetProperty("plan").GetProperty("name").GetString());
        Assert.Equal(100, body.GetProperty("ratelimit").GetProperty("limit").GetInt64());
        Assert.Equal(99, body.GetProperty("ratelimit").GetProperty("remaining").GetInt64());
        Assert.Equal(1, body.GetProperty("ratelimit").GetProperty("reset").GetInt64());
        Assert.Equal(999, body.GetProperty("quota").GetProperty("remaining").GetInt64());
        Assert.Equal("99", body.GetProperty("headers").GetProperty("RateLimit-Remaining").GetString());
    }

    [Fact]
    public async Task Verify_RefusedCodes_AreStill200()
    {
        var (key, _, _, slug, _) = await SubscribedAsync(rateLimit: 1, window: RateLimitWindow.Minute);
        var gateway = await GatewayAsync(Scopes.Read);

        async Task<JsonElement> Verify(object body)
        {
            var response = await gateway.PostAsJsonAsync("/api/v1/keys/verify", body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        Assert.Equal("VALID", (await Verify(new { key, product = slug })).GetProperty("code").GetString());
        var limited = await Verify(new { key, product = slug });
        // The real clock: should the minute have turned between the two calls, the next one is refused.
        if (limited.GetProperty("code").GetString() == "VALID") limited = await Verify(new { key, product = slug });
        Assert.Equal("RATE_LIMITED", limited.GetProperty("code").GetString());
        Assert.False(limited.GetProperty("valid").GetBoolean());
        var retryAfter = limited.GetProperty("retryAfter").GetInt64();
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal(retryAfter.ToString(), limited.GetProperty("headers").GetProperty("Retry-After").GetString());
        Assert.Equal("NOT_FOUND", (await Verify(new { key = "ptl_nothing", product = slug })).GetProperty("code").GetString());
        Assert.Equal("NOT_FOUND", (await Verify(new { key, product = "no-such-product" })).GetProperty("code").GetString());
        var personalKey = (await factory.ClientWithKeyAsync(Roles.Developer)).Key.Key;
        Assert.Equal("NOT_SUBSCRIBED", (await Verify(new { key = personalKey, product = slug })).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Verify_WithoutKey_Is401_WithoutReadScope_Is403()
    {
        var (key, _, _, slug, _) = await SubscribedAsync();

        var anonymous = await factory.AnonymousClient().PostAsJsonAsync("/api/v1/keys/verify", new { key, product = slug });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var writeOnly = await (await GatewayAsync(Scopes.Write)).PostAsJsonAsync("/api/v1/keys/verify", new { key, product = slug });
        Assert.Equal(HttpStatusCode.Forbidden, writeOnly.StatusCode);
        // An application key may not verify (itself or others): it is a credential for products, not for the portal.
        var asApplication = await factory.ClientWithKey(key).PostAsJsonAsync("/api/v1/keys/verify", new { key, product = slug });
        Assert.Equal(HttpStatusCode.Forbidden, asApplication.StatusCode);
    }

    [Fact]
    public async Task Verify_BadBodies_Are400ProblemDetails()
    {
        var gateway = await GatewayAsync(Scopes.Read);

        var missing = await gateway.PostAsJsonAsync("/api/v1/keys/verify", new { key = "" });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        var errors = (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("key", out _));
        Assert.True(errors.TryGetProperty("product", out _));

        foreach (var body in new[] { "{not json", "", "[]", "{\"key\": 5, \"product\": \"x\"}" })
        {
            var response = await gateway.PostAsync("/api/v1/keys/verify", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task Verify_IsRecordedOnceAsTheVerification_AndARefusedCallAsTheGatewaysCall()
    {
        var (key, keyId, appId, slug, planId) = await SubscribedAsync();
        var (gateway, _, gatewayKey) = await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read);
        await gateway.PostAsJsonAsync("/api/v1/keys/verify", new { key, product = slug });
        await gateway.PostAsJsonAsync("/api/v1/keys/verify", new { key });

        await factory.Get<UsageWriter>().DrainAsync();

        await using var db = await factory.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var verification = await db.UsageEvents.SingleAsync(e => e.KeyId == keyId);
        Assert.Equal("VALID", verification.Outcome);
        Assert.Equal(appId, verification.ApplicationId);
        Assert.Equal(planId, verification.PlanId);
        Assert.NotNull(verification.ProductId);
        Assert.Equal("/api/v1/keys/verify", verification.Route);
        // The verification stands for the gateway's successful call; its bad request is recorded against its own key.
        var gatewayCalls = await db.UsageEvents.Where(e => e.KeyId == gatewayKey.Id).ToListAsync();
        Assert.Equal(400, Assert.Single(gatewayCalls).Status);
    }

    [Fact]
    public async Task ApplicationKeyCalls_AreRecordedWithTheirApplication()
    {
        var (key, keyId, appId, _, _) = await SubscribedAsync();
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(key).GetAsync($"/api/v1/applications/{appId}")).StatusCode);

        await factory.Get<UsageWriter>().DrainAsync();

        await using var db = await factory.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var call = await db.UsageEvents.SingleAsync(e => e.KeyId == keyId && e.Outcome == null);
        Assert.Equal(appId, call.ApplicationId);
        Assert.Equal("/api/v1/applications/{id:guid}", call.Route);
    }

    [Fact]
    public async Task AnonymousMode_AnyoneMayVerify()
    {
        var (key, _, _, slug, _) = await SubscribedAsync();
        using var anonymousFactory = factory.WithWebHostBuilder(b => b.UseSetting("Portal:Verification:AllowAnonymous", "true"));

        var response = await anonymousFactory.CreateClient().PostAsJsonAsync("/api/v1/keys/verify", new { key, product = slug });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("VALID", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var invalid = await anonymousFactory.CreateClient().PostAsJsonAsync("/api/v1/keys/verify", new { key });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }

    [Fact]
    public async Task OpenApi_DescribesVerify()
    {
        var document = await factory.AnonymousClient().GetStringAsync("/openapi/v1.json");
        using var json = JsonDocument.Parse(document);
        var verify = json.RootElement.GetProperty("paths").GetProperty("/api/v1/keys/verify").GetProperty("post");
        Assert.Contains("RATE_LIMITED", verify.GetProperty("description").GetString());
        Assert.True(verify.GetProperty("responses").TryGetProperty("200", out _));
        Assert.True(verify.GetProperty("responses").TryGetProperty("400", out _));
    }
}
