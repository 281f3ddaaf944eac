using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary><c>GET /api/v1/subscriptions/{id}/usage</c> and <c>/api/v1/accounts/{id}/billing-settings</c>, with real keys.</summary>
public sealed class SubscriptionUsageApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private sealed record Setup(HttpClient Admin, HttpClient Developer, Guid AccountId, string AppKey, string Slug, Guid SubscriptionId);

    /// <summary>A developer's application APPROVED on a metered plan (0.10 USD a call, 50 calls a month).</summary>
    private async Task<Setup> SetupAsync()
    {
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (developer, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var product = await ProductApiTests.CreateAsync(admin, $"Metered {Guid.NewGuid():N}", requiresApproval: false);
        var planId = product.GetProperty("plans")[0].GetProperty("id").GetGuid();
        await using (var db = await factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
            await db.Plans.Where(p => p.Id == planId).ExecuteUpdateAsync(u => u
                .SetProperty(p => p.Type, PlanType.Metered).SetProperty(p => p.UnitPrice, 0.10m).SetProperty(p => p.Currency, "USD")
                .SetProperty(p => p.Quota, 50L).SetProperty(p => p.QuotaPeriod, QuotaPeriod.Month)
                .SetProperty(p => p.RateLimit, 100).SetProperty(p => p.RateLimitWindow, RateLimitWindow.Minute));
        factory.Get<VerificationCache>().Invalidate();
        var app = await (await developer.PostAsJsonAsync("/api/v1/applications", new { name = "Web Shop" })).Content.ReadFromJsonAsync<JsonElement>();
        var subscribed = await developer.PostAsJsonAsync("/api/v1/subscriptions",
            new { applicationId = app.GetProperty("id").GetGuid(), productId = product.GetProperty("id").GetGuid(), planId });
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        return new Setup(admin, developer, app.GetProperty("accountId").GetGuid(), app.GetProperty("key").GetString()!,
            product.GetProperty("slug").GetString()!, (await subscribed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Usage_Owner_SeesTheLiveQuotaAndTheMonthsCost_AdminToo_OthersNot()
    {
        var s = await SetupAsync();
        var (gateway, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        for (var i = 0; i < 3; i++)
        {
            var verified = await gateway.PostAsJsonAsync("/api/v1/keys/verify", new { key = s.AppKey, product = s.Slug });
            Assert.True((await verified.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("valid").GetBoolean());
        }

        var response = await s.Developer.GetAsync($"/api/v1/subscriptions/{s.SubscriptionId}/usage");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var quota = body.GetProperty("quota");
        Assert.Equal(50, quota.GetProperty("limit").GetInt64());
        Assert.Equal(3, quota.GetProperty("used").GetInt64());
        Assert.Equal(47, quota.GetProperty("remaining").GetInt64());
        Assert.True(quota.TryGetProperty("resetAt", out _));
        Assert.Equal(100, body.GetProperty("rateLimit").GetProperty("limit").GetInt32());
        Assert.Equal("Minute", body.GetProperty("rateLimit").GetProperty("window").GetString());
        Assert.True(body.GetProperty("period").TryGetProperty("start", out _));
        Assert.True(body.GetProperty("period").TryGetProperty("end", out _));
        Assert.Equal(3, body.GetProperty("calls").GetInt64());
        Assert.Equal("USD", body.GetProperty("cost").GetProperty("currency").GetString());
        Assert.Equal(0.30m, body.GetProperty("cost").GetProperty("amount").GetDecimal());

        var asAdmin = await s.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions/{s.SubscriptionId}/usage");
        Assert.Equal(3, asAdmin.GetProperty("quota").GetProperty("used").GetInt64());
        var (auditor, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync($"/api/v1/subscriptions/{s.SubscriptionId}/usage")).StatusCode);

        var (stranger, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var hidden = await stranger.GetAsync($"/api/v1/subscriptions/{s.SubscriptionId}/usage");
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal("application/problem+json", hidden.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Developer.GetAsync($"/api/v1/subscriptions/{Guid.NewGuid()}/usage")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().GetAsync($"/api/v1/subscriptions/{s.SubscriptionId}/usage")).StatusCode);
    }

    [Fact]
    public async Task BillingSettings_MemberAndAdminSet_StrangerIs404_BadAmountIs400_ReadOnlyIs403()
    {
        var s = await SetupAsync();
        var url = $"/api/v1/accounts/{s.AccountId}/billing-settings";

        var set = await s.Developer.PutAsJsonAsync(url, new { spendingThreshold = 25.5m });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(25.5m, (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("spendingThreshold").GetDecimal());
        Assert.Equal(25.5m, (await s.Admin.GetFromJsonAsync<JsonElement>(url)).GetProperty("spendingThreshold").GetDecimal());

        var bad = await s.Developer.PutAsJsonAsync(url, new { spendingThreshold = -3 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("spendingThreshold", out _));

        var (stranger, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PutAsJsonAsync(url, new { spendingThreshold = 1 })).StatusCode);
        var (auditor, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.PutAsJsonAsync(url, new { spendingThreshold = 1 })).StatusCode);

        var cleared = await s.Admin.PutAsJsonAsync(url, new { spendingThreshold = (decimal?)null });
        Assert.Equal(JsonValueKind.Null, (await cleared.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("spendingThreshold").ValueKind);
        // The existing contract of PATCH /accounts/{id} is unchanged: status only.
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Admin.PatchAsJsonAsync($"/api/v1/accounts/{s.AccountId}", new { spendingThreshold = 5 })).StatusCode);
    }
}
