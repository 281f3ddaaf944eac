using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>The <c>/api/v1/subscriptions</c> endpoints and <c>PATCH /api/v1/accounts/{id}</c>, with real keys.</summary>
public sealed class SubscriptionApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private sealed record Setup(HttpClient Admin, HttpClient Developer, Guid AppId, Guid AccountId, string AppKey, Guid ProductId, Guid PlanId);

    private async Task<Setup> SetupAsync(bool requiresApproval = true)
    {
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (developer, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var product = await ProductApiTests.CreateAsync(admin, $"Product {Guid.NewGuid():N}", requiresApproval: requiresApproval);
        var app = await (await developer.PostAsJsonAsync("/api/v1/applications", new { name = "Web Shop" })).Content.ReadFromJsonAsync<JsonElement>();
        return new Setup(admin, developer,
            app.GetProperty("id").GetGuid(),
            app.GetProperty("accountId").GetGuid(),
            app.GetProperty("key").GetString()!,
            product.GetProperty("id").GetGuid(),
            product.GetProperty("plans")[0].GetProperty("id").GetGuid());
    }

    private static Task<HttpResponseMessage> SubscribeAsync(HttpClient client, Setup s) =>
        client.PostAsJsonAsync("/api/v1/subscriptions", new { applicationId = s.AppId, productId = s.ProductId, planId = s.PlanId });

    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static async Task<Guid> SubscribedAsync(Setup s)
    {
        var response = await SubscribeAsync(s.Developer, s);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task Subscribe_Is201_WithLocation_StatusInCapitals_ThenGet()
    {
        var s = await SetupAsync();

        var response = await SubscribeAsync(s.Developer, s);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Json(response);
        var id = body.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/subscriptions/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("WAITING", body.GetProperty("status").GetString());
        Assert.Equal("Web Shop", body.GetProperty("applicationName").GetString());
        Assert.Equal("Free", body.GetProperty("planName").GetString());
        var one = await s.Developer.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions/{id}");
        Assert.Equal("WAITING", one.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await s.Developer.GetAsync($"/api/v1/subscriptions/{Guid.NewGuid()}")).StatusCode);

        var again = await SubscribeAsync(s.Developer, s);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Subscribe_ToAProductWithoutApproval_IsApprovedAtOnce()
    {
        var s = await SetupAsync(requiresApproval: false);
        var body = await Json(await SubscribeAsync(s.Developer, s));
        Assert.Equal("APPROVED", body.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, body.GetProperty("decidedAt").ValueKind);
    }

    [Fact]
    public async Task Subscribe_Invalid_Is400_AnotherAccountsApplication_Is404()
    {
        var s = await SetupAsync();
        var missing = await s.Developer.PostAsJsonAsync("/api/v1/subscriptions", new { applicationId = s.AppId });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.True((await Json(missing)).GetProperty("errors").TryGetProperty("planId", out _));
        var wrongPlan = await s.Developer.PostAsJsonAsync("/api/v1/subscriptions", new { applicationId = s.AppId, productId = s.ProductId, planId = Guid.NewGuid() });
        Assert.True((await Json(wrongPlan)).GetProperty("errors").TryGetProperty("planId", out _));

        var (stranger, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        Assert.Equal(HttpStatusCode.NotFound, (await SubscribeAsync(stranger, s)).StatusCode);
        var id = await SubscribedAsync(s);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/subscriptions/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/v1/subscriptions/{id}/unsubscribe", null)).StatusCode);
    }

    [Fact]
    public async Task Approve_WithoutABody_Is200_Again_Is409_DeveloperIs403()
    {
        var s = await SetupAsync();
        var id = await SubscribedAsync(s);

        Assert.Equal(HttpStatusCode.Forbidden, (await s.Developer.PostAsync($"/api/v1/subscriptions/{id}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Developer.PostAsJsonAsync($"/api/v1/subscriptions/{id}/reject", new { reason = "mine" })).StatusCode);
        var approved = await s.Admin.PostAsync($"/api/v1/subscriptions/{id}/approve", null);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal("APPROVED", (await Json(approved)).GetProperty("status").GetString());

        var again = await s.Admin.PostAsync($"/api/v1/subscriptions/{id}/approve", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await s.Admin.PostAsync($"/api/v1/subscriptions/{id}/reject", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Admin.PostAsync($"/api/v1/subscriptions/{Guid.NewGuid()}/approve", null)).StatusCode);
    }

    [Fact]
    public async Task Reject_WithAReason_TheDeveloperReadsIt_AndMayReapply()
    {
        var s = await SetupAsync();
        var id = await SubscribedAsync(s);

        var rejected = await s.Admin.PostAsJsonAsync($"/api/v1/subscriptions/{id}/reject", new { reason = "Please describe your use case." });

        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var seen = await s.Developer.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions/{id}");
        Assert.Equal("REJECTED", seen.GetProperty("status").GetString());
        Assert.Equal("Please describe your use case.", seen.GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await s.Developer.PostAsync($"/api/v1/subscriptions/{id}/unsubscribe", null)).StatusCode);
        var tooLong = await s.Admin.PostAsJsonAsync($"/api/v1/subscriptions/{id}/reject", new { reason = new string('x', 1001) });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);

        var reapplied = await SubscribeAsync(s.Developer, s);
        Assert.Equal(HttpStatusCode.Created, reapplied.StatusCode);
        Assert.NotEqual(id, (await Json(reapplied)).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Unsubscribe_ByTheOwner_Is200_Again_Is409_AdminMayUnregisterAnyone()
    {
        var s = await SetupAsync();
        var id = await SubscribedAsync(s);
        await s.Admin.PostAsync($"/api/v1/subscriptions/{id}/approve", null);

        var ended = await s.Developer.PostAsync($"/api/v1/subscriptions/{id}/unsubscribe", null);

        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Equal("UNSUBSCRIBED", (await Json(ended)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await s.Developer.PostAsync($"/api/v1/subscriptions/{id}/unsubscribe", null)).StatusCode);

        var second = await SubscribedAsync(s);
        Assert.Equal(HttpStatusCode.OK, (await s.Admin.PostAsync($"/api/v1/subscriptions/{second}/unsubscribe", null)).StatusCode);
        var (readOnly, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsync($"/api/v1/subscriptions/{second}/unsubscribe", null)).StatusCode);

        // API.md: "write (owner) or admin": an admin's key with the admin scope and no write scope unregisters too.
        var third = await SubscribedAsync(s);
        var (adminKeyOnly, _, _) = await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read, Scopes.Admin);
        Assert.Equal(HttpStatusCode.OK, (await adminKeyOnly.PostAsync($"/api/v1/subscriptions/{third}/unsubscribe", null)).StatusCode);
    }

    [Fact]
    public async Task List_FiltersByStatusInEitherCase_ApplicationProductAndAccount_BadStatusIs400()
    {
        var s = await SetupAsync();
        var waiting = await SubscribedAsync(s);

        foreach (var status in new[] { "WAITING", "waiting", "Waiting" })
        {
            var list = await s.Developer.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions?status={status}&applicationId={s.AppId}");
            Assert.Equal(waiting, Assert.Single(list.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        }
        Assert.Equal(0, (await s.Developer.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions?status=APPROVED")).GetProperty("total").GetInt32());
        var byProduct = await s.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions?productId={s.ProductId}&accountId={s.AccountId}&page=1&pageSize=10");
        Assert.Equal((1, 1, 10), (byProduct.GetProperty("total").GetInt32(), byProduct.GetProperty("page").GetInt32(), byProduct.GetProperty("pageSize").GetInt32()));
        var bad = await s.Admin.GetAsync("/api/v1/subscriptions?status=1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await Json(bad)).GetProperty("errors").TryGetProperty("status", out _));
        var (stranger, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        Assert.Equal(0, (await stranger.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions?productId={s.ProductId}")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task WrongRoleOrScope_Is403_NoKey_Is401()
    {
        var s = await SetupAsync();
        var id = await SubscribedAsync(s);
        var (readOnly, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        var (readOnlyDev, _, _) = await factory.ClientWithKeyAsync(Roles.Developer, Scopes.Read);
        var (writeOnlyAdmin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read, Scopes.Write);

        Assert.Equal(HttpStatusCode.Forbidden, (await SubscribeAsync(readOnly, s)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SubscribeAsync(readOnlyDev, s)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await writeOnlyAdmin.PostAsync($"/api/v1/subscriptions/{id}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await factory.ClientWithKey(s.AppKey).GetAsync("/api/v1/subscriptions")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().GetAsync("/api/v1/subscriptions")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().PostAsync($"/api/v1/subscriptions/{id}/approve", null)).StatusCode);
        Assert.Equal("WAITING", (await readOnly.GetFromJsonAsync<JsonElement>($"/api/v1/subscriptions/{id}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task PatchAccountStatus_SuspendedAccountsApplicationKeys_Are401OnTheNextCall_UntilReactivated()
    {
        var s = await SetupAsync();
        var appClient = factory.ClientWithKey(s.AppKey);
        Assert.Equal(HttpStatusCode.OK, (await appClient.GetAsync($"/api/v1/applications/{s.AppId}")).StatusCode);

        var suspended = await s.Admin.PatchAsJsonAsync($"/api/v1/accounts/{s.AccountId}", new { status = "Suspended" });

        Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        var account = await Json(suspended);
        Assert.Equal("Suspended", account.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await appClient.GetAsync($"/api/v1/applications/{s.AppId}")).StatusCode);
        var listed = await s.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/accounts?search={Uri.EscapeDataString(account.GetProperty("name").GetString()!)}");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), a => a.GetProperty("status").GetString() == "Suspended");

        Assert.Equal(HttpStatusCode.OK, (await s.Admin.PatchAsJsonAsync($"/api/v1/accounts/{s.AccountId}", new { status = "active" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await appClient.GetAsync($"/api/v1/applications/{s.AppId}")).StatusCode);
    }

    [Fact]
    public async Task PatchAccount_BadOrMissingStatus_Is400_Unknown_Is404_DeveloperIs403()
    {
        var s = await SetupAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Admin.PatchAsJsonAsync($"/api/v1/accounts/{s.AccountId}", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Admin.PatchAsJsonAsync($"/api/v1/accounts/{s.AccountId}", new { status = "Frozen" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Admin.PatchAsJsonAsync($"/api/v1/accounts/{Guid.NewGuid()}", new { status = "Suspended" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Developer.PatchAsJsonAsync($"/api/v1/accounts/{s.AccountId}", new { status = "Suspended" })).StatusCode);
    }
}
