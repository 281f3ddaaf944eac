using System.Net;
using System.Text;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>Requests the API cannot even bind still answer problem details that say what was wrong.</summary>
public sealed class BadRequestApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("detail").GetString()));
        return body;
    }

    [Fact]
    public async Task AQueryValueOfTheWrongType_Is400_NamingTheParameter()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.Admin, Scopes.Read);

        var body = await ProblemAsync(await client.GetAsync("/api/v1/audit?from=yesterday"));

        var message = Assert.Single(body.GetProperty("errors").GetProperty("from").EnumerateArray()).GetString();
        Assert.Contains("'yesterday'", message);
        Assert.DoesNotContain("DateTimeOffset", body.ToString());
    }

    [Fact]
    public async Task ABodyThatIsNotJson_Is400_WithADetail()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.Admin, Scopes.Read, Scopes.Write);

        var body = await ProblemAsync(await client.PostAsync("/api/v1/api-keys",
            new StringContent("""{"name": """, Encoding.UTF8, "application/json")));

        Assert.Contains("JSON", body.GetProperty("detail").GetString());
        Assert.Equal(["body"], body.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public async Task AFieldOfTheWrongJsonType_Is400_SayingWhere()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.Admin, Scopes.Read, Scopes.Write);

        var body = await ProblemAsync(await client.PostAsync("/api/v1/api-keys",
            new StringContent("""{"name": "k", "scopes": "read"}""", Encoding.UTF8, "application/json")));

        Assert.Contains("$.scopes", body.GetProperty("detail").GetString());
        Assert.Equal(["scopes"], body.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Theory]
    [InlineData("""{"displayName": 123}""", "displayName", "a string")]
    [InlineData("""{"status": "Bogus"}""", "status", "Active")]
    [InlineData("""{"DisplayName": true}""", "displayName", "a string")]
    [InlineData("""{"roles": "admin"}""", "roles", "an array")]
    public async Task AFieldOfTheWrongJsonType_IsKeyedByTheField_NotByBody(string json, string field, string hint)
    {
        var (client, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var target = (await factory.ClientAsAsync(Roles.Developer)).User;

        var body = await ProblemAsync(await client.PatchAsync($"/api/v1/users/{target.Id}",
            new StringContent(json, Encoding.UTF8, "application/json")));

        var errors = body.GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(e => e.Name));
        var message = Assert.Single(errors.GetProperty(field).EnumerateArray()).GetString()!;
        Assert.Contains($"'{field}'", message);
        Assert.Contains(hint, message);
        Assert.DoesNotContain("System.", body.ToString());
        Assert.DoesNotContain("Portal.Core", body.ToString());
    }

    [Fact]
    public async Task ANestedFieldOfTheWrongJsonType_IsKeyedByItsPath()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.Admin);

        var body = await ProblemAsync(await client.PostAsync("/api/v1/products",
            new StringContent("""{"name": "Broken", "plans": [{"name": 5, "type": "Free"}]}""", Encoding.UTF8, "application/json")));

        Assert.Equal(["plans[0].name"], body.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    // What the outside audit sent: nulls where a list of names belongs. Every one is a 400 naming the field, never a
    // 500 (a null dereferenced) nor a 2xx (a null stored as a role).
    [Theory]
    [InlineData("POST", "/api/v1/api-keys", """{"name": "n", "scopes": null}""", "scopes")]
    [InlineData("POST", "/api/v1/api-keys", """{"name": "n", "scopes": [null]}""", "scopes")]
    [InlineData("POST", "/api/v1/api-keys", """{"name": "n", "scopes": ["read", null]}""", "scopes")]
    [InlineData("POST", "/api/v1/users", """{"email": "null-role@portal.test", "displayName": "N", "password": "Str0ng!pass", "roles": [null]}""", "roles")]
    [InlineData("POST", "/api/v1/users", """{"email": "null-role@portal.test", "displayName": "N", "password": "Str0ng!pass", "roles": [""]}""", "roles")]
    [InlineData("PATCH", "/api/v1/users/{user}", """{"roles": [null]}""", "roles")]
    [InlineData("PATCH", "/api/v1/users/{user}", """{"roles": ["developer", null]}""", "roles")]
    [InlineData("POST", "/api/v1/webhooks", """{"url": "https://hooks.example.test/a", "eventTypes": [null]}""", "eventTypes")]
    [InlineData("POST", "/api/v1/webhooks", """{"url": "https://hooks.example.test/a", "eventTypes": null}""", "eventTypes")]
    [InlineData("POST", "/api/v1/products", """{"name": "Nulls", "plans": [null]}""", "plans[0]")]
    [InlineData("POST", "/api/v1/products", """{"name": "Nulls", "plans": [{"name": "T", "type": "Tiered", "tiers": [null]}]}""", "plans[0].tiers[0]")]
    public async Task ANullInAListOfNames_Is400_NamingTheField(string method, string path, string json, string field)
    {
        var (client, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var (_, user) = await factory.ClientAsAsync(Roles.Developer);

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path.Replace("{user}", user.Id.ToString()))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        });

        var body = await ProblemAsync(response);
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), body.ToString());
    }

    [Theory]
    [InlineData("/api/v1/users")]
    [InlineData("/api/v1/audit")]
    [InlineData("/api/v1/usage/requests")]
    public async Task APageNumberWhoseOffsetWouldOverflow_Is400_NotAWrappedOffset(string path)
    {
        var (client, _) = await factory.ClientAsAsync(Roles.Admin, Scopes.Read);

        var body = await ProblemAsync(await client.GetAsync($"{path}?page=2147483647&pageSize=200"));

        Assert.True(body.GetProperty("errors").TryGetProperty("page", out _) || body.GetProperty("errors").TryGetProperty("Page", out _), body.ToString());
    }
}
