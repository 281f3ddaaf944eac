using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>The webhook endpoints over HTTP with real keys: shapes, the secret shown once, problem details.</summary>
public sealed class WebhookApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private static object Body(string url = "https://hooks.example.test/portal", params string[] types) =>
        new { url, description = "CRM", eventTypes = types.Length == 0 ? ["subscription.approved", "user.created"] : types, enabled = true };

    private async Task<HttpClient> AdminAsync() => (await factory.ClientWithKeyAsync(Roles.Admin)).Client;

    private static async Task<JsonElement> CreatedAsync(HttpClient client)
    {
        var response = await client.PostAsJsonAsync("/api/v1/webhooks", Body());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Create_Is201_WithLocationAndTheSecretOnce_AndGetNeverShowsIt()
    {
        var client = await AdminAsync();

        var response = await client.PostAsJsonAsync("/api/v1/webhooks", Body());
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/webhooks/{id}", response.Headers.Location?.OriginalString);
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(["subscription.approved", "user.created"], created.GetProperty("eventTypes").EnumerateArray().Select(e => e.GetString()).Order());
        var got = await client.GetStringAsync($"/api/v1/webhooks/{id}");
        var listed = await client.GetStringAsync("/api/v1/webhooks?pageSize=200");
        var secretBody = secret["whsec_".Length..];
        Assert.DoesNotContain(secretBody, got);
        Assert.DoesNotContain(secretBody, listed);
        Assert.DoesNotContain("\"secret\"", got);
        Assert.EndsWith(secret[^4..], JsonDocument.Parse(got).RootElement.GetProperty("maskedSecret").GetString());
    }

    [Fact]
    public async Task List_IsPaged()
    {
        var client = await AdminAsync();
        await CreatedAsync(client);

        var page = await client.GetFromJsonAsync<JsonElement>("/api/v1/webhooks?page=1&pageSize=1");

        Assert.Equal(1, page.GetProperty("page").GetInt32());
        Assert.Equal(1, page.GetProperty("pageSize").GetInt32());
        Assert.True(page.GetProperty("total").GetInt32() >= 1);
        Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/v1/webhooks?pageSize=201")).StatusCode);
    }

    [Fact]
    public async Task EventTypes_ListsTheCatalogueWithDescriptions()
    {
        var types = await (await AdminAsync()).GetFromJsonAsync<JsonElement>("/api/v1/webhooks/event-types");

        var names = types.EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Contains("subscription.approved", names);
        Assert.Contains("webhook.test", names);
        Assert.All(types.EnumerateArray(), t => Assert.False(string.IsNullOrEmpty(t.GetProperty("description").GetString())));
    }

    [Fact]
    public async Task EventTypes_ADevelopersReadKey_Is200_ButTheEndpointsStayAdminOnly()
    {
        var (developer, _, _) = await factory.ClientWithKeyAsync(Roles.Developer, Scopes.Read);

        var response = await developer.GetAsync("/api/v1/webhooks/event-types");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("webhook.test", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync("/api/v1/webhooks")).StatusCode);
    }

    [Theory]
    [InlineData("{\"url\":\"ftp://x.example.test\",\"eventTypes\":[\"user.created\"]}", "url")]
    [InlineData("{\"url\":\"https://u:p@x.example.test\",\"eventTypes\":[\"user.created\"]}", "url")]
    [InlineData("{\"url\":\"https://x.example.test\",\"eventTypes\":[\"user.exploded\"]}", "eventTypes")]
    [InlineData("{\"url\":\"https://x.example.test\",\"eventTypes\":[]}", "eventTypes")]
    [InlineData("{\"url\":\"https://x.example.test\"}", "eventTypes")]
    public async Task Create_BadInput_Is400ProblemWithTheField(string json, string field)
    {
        var response = await (await AdminAsync()).PostAsync("/api/v1/webhooks", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Create_DescriptionTooLong_Is400()
    {
        var body = new { url = "https://x.example.test", description = new string('d', 501), eventTypes = new[] { "user.created" }, enabled = true };
        var response = await (await AdminAsync()).PostAsJsonAsync("/api/v1/webhooks", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("description", out _));
    }

    [Fact]
    public async Task UnknownIds_Are404Problems()
    {
        var client = await AdminAsync();
        var unknown = Guid.NewGuid();
        var created = (await CreatedAsync(client)).GetProperty("id").GetGuid();

        foreach (var response in new[]
                 {
                     await client.GetAsync($"/api/v1/webhooks/{unknown}"),
                     await client.PatchAsJsonAsync($"/api/v1/webhooks/{unknown}", new { enabled = false }),
                     await client.DeleteAsync($"/api/v1/webhooks/{unknown}"),
                     await client.PostAsync($"/api/v1/webhooks/{unknown}/rotate-secret", null),
                     await client.PostAsync($"/api/v1/webhooks/{unknown}/test", null),
                     await client.GetAsync($"/api/v1/webhooks/{unknown}/deliveries"),
                     await client.PostAsync($"/api/v1/webhooks/{created}/deliveries/{unknown}/retry", null),
                 })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task PatchRotateTestDeliveriesRetryAndDelete_Work()
    {
        var client = await AdminAsync();
        var created = await CreatedAsync(client);
        var id = created.GetProperty("id").GetGuid();

        var patched = await (await client.PatchAsJsonAsync($"/api/v1/webhooks/{id}", new { description = "Billing", eventTypes = new[] { "product.created" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var rotate = await client.PostAsync($"/api/v1/webhooks/{id}/rotate-secret", null);
        var rotated = await rotate.Content.ReadFromJsonAsync<JsonElement>();
        var revealed = await (await client.PostAsync($"/api/v1/webhooks/{id}/reveal-secret", null)).Content.ReadFromJsonAsync<JsonElement>();
        var test = await client.PostAsync($"/api/v1/webhooks/{id}/test", null);
        var delivery = await test.Content.ReadFromJsonAsync<JsonElement>();
        var deliveries = await client.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries");
        var retry = await client.PostAsync($"/api/v1/webhooks/{id}/deliveries/{delivery.GetProperty("id").GetGuid()}/retry", null);

        Assert.Equal("Billing", patched.GetProperty("description").GetString());
        Assert.Equal(["product.created"], patched.GetProperty("eventTypes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        Assert.NotEqual(created.GetProperty("secret").GetString(), rotated.GetProperty("secret").GetString());
        Assert.Equal(rotated.GetProperty("secret").GetString(), revealed.GetProperty("secret").GetString());
        Assert.Equal(HttpStatusCode.Accepted, test.StatusCode);
        Assert.Equal("webhook.test", delivery.GetProperty("eventType").GetString());
        Assert.Equal("Pending", delivery.GetProperty("status").GetString());
        var item = Assert.Single(deliveries.GetProperty("items").EnumerateArray());
        Assert.True(item.TryGetProperty("attemptLog", out _));
        Assert.True(item.TryGetProperty("nextAttemptAt", out _));
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
    }

    [Fact]
    public async Task Developers_Get403_AndReadOnly_MayReadButNotCreate()
    {
        var (developer, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var (auditor, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);

        Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync("/api/v1/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("/api/v1/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.PostAsJsonAsync("/api/v1/webhooks", Body())).StatusCode);
    }

    [Fact]
    public async Task RevealOfASecretTheKeyRingCannotDecrypt_Is409SayingRotate()
    {
        var client = await AdminAsync();
        var id = (await CreatedAsync(client)).GetProperty("id").GetGuid();
        var foreign = new Portal.Web.Features.Webhooks.DataProtectionWebhookSecrets(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider())
            .Protect(Portal.Core.Features.Webhooks.WebhookSignature.NewSecret());
        await using (var db = await factory.Get<Microsoft.EntityFrameworkCore.IDbContextFactory<Portal.Core.Data.PortalDbContext>>().CreateDbContextAsync())
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(
                db.WebhookEndpoints.Where(e => e.Id == id), u => u.SetProperty(e => e.ProtectedSecret, foreign));

        var response = await client.PostAsync($"/api/v1/webhooks/{id}/reveal-secret", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("can no longer be decrypted; rotate it", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TestOnADisabledEndpoint_Is409()
    {
        var client = await AdminAsync();
        var id = (await CreatedAsync(client)).GetProperty("id").GetGuid();
        await client.PatchAsJsonAsync($"/api/v1/webhooks/{id}", new { enabled = false });

        var response = await client.PostAsync($"/api/v1/webhooks/{id}/test", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }
}
