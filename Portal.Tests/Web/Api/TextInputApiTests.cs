using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Products;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>
/// A NUL (PostgreSQL cannot store or compare one: it was a 500 there), another control character or a bidirectional
/// override in a name, description or search answers 400 naming the field, on both engines.
/// </summary>
public static class TextInputCases
{
    public static readonly TheoryData<string, string, string?, string> Bodies = new()
    {
        { "POST", "/api/v1/users", """{"email":"nul@portal.test","displayName":"a\u0000b","password":"Passw0rd!","roles":["developer"]}""", "displayName" },
        { "POST", "/api/v1/users", """{"email":"rtl@portal.test","displayName":"admin\u202Enimda","password":"Passw0rd!","roles":["developer"]}""", "displayName" },
        { "POST", "/api/v1/api-keys", """{"name":"key\u0000","scopes":["read"]}""", "name" },
        { "POST", "/api/v1/accounts", """{"name":"team\u0000"}""", "name" },
        { "POST", "/api/v1/applications", """{"name":"app","description":"bell\u0007"}""", "description" },
        { "POST", "/api/v1/products", """{"name":"p\u0000","plans":[]}""", "name" },
        { "POST", "/api/v1/products", """{"name":"Maps","plans":[{"name":"free\u0000","type":"Free"}]}""", "plans[0].name" },
        { "POST", "/api/v1/webhooks", """{"url":"https://example.com/\thook","eventTypes":["user.created"]}""", "url" },
        { "POST", "/api/v1/webhooks", """{"url":"https://example.com/hook","description":"d\u0000","eventTypes":["user.created"]}""", "description" },
        { "PUT", "/api/v1/organisation", """{"name":"Org\u0000"}""", "name" },
        { "GET", "/api/v1/products?search=%00", null, "search" },
        { "GET", "/api/v1/users?search=%00", null, "search" },
        { "GET", "/api/v1/applications?search=%E2%80%AE", null, "search" },
        { "GET", "/api/v1/accounts?search=%00", null, "search" },
        { "GET", "/api/v1/api-keys?search=%00", null, "search" },
        { "GET", "/api/v1/subscriptions?search=%00", null, "search" },
        { "GET", "/api/v1/audit?actor=%00", null, "actor" },
        { "GET", "/api/v1/audit?search=%00", null, "search" },
    };

    public static async Task AssertRefusedAsync(HttpClient client, string method, string path, string? body, string field)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        var response = await client.SendAsync(request);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path}: {(int)response.StatusCode} {text}");
        using var problem = JsonDocument.Parse(text);
        var errors = problem.RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"{method} {path}: no error for '{field}' in {text}");
        Assert.Contains(messages.EnumerateArray(), m => m.GetString()!.Contains("U+"));
    }
}

public sealed class TextInputApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    [Theory]
    [MemberData(nameof(TextInputCases.Bodies), MemberType = typeof(TextInputCases))]
    public async Task AControlOrFormattingCharacter_Answers400NamingTheField(string method, string path, string? body, string field)
    {
        var (client, _, _) = await factory.ClientWithKeyAsync(Roles.SuperAdmin);

        await TextInputCases.AssertRefusedAsync(client, method, path, body, field);
    }

    [Fact]
    public async Task AProductSlugWithNul_IsNotFound()
    {
        // Kestrel refuses a NUL in the path itself; the service answers not-found for callers other than HTTP.
        var found = await factory.Get<ProductService>().GetAsync(await factory.RootAsync(), "a\0b");

        Assert.IsType<NotFoundError>(found.Error);
    }
}

/// <summary>The same on PostgreSQL, where a NUL reaching the database is an error of the server.</summary>
public sealed class PostgresTextInputApiTests : IAsyncLifetime
{
    private TestPostgres _database = null!;
    private PortalApiFactory _app = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestPostgres.CreateAsync();
        _app = new PortalApiFactory(DatabaseProvider.PostgreSql, _database.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task EveryCase_Answers400NamingTheField_AndAProductSlugWithNulIsNotFound()
    {
        var (client, _, _) = await _app.ClientWithKeyAsync(Roles.SuperAdmin);
        foreach (var row in TextInputCases.Bodies)
        {
            var values = ((ITheoryDataRow)row).GetData();
            await TextInputCases.AssertRefusedAsync(client, (string)values[0]!, (string)values[1]!, (string?)values[2], (string)values[3]!);
        }
        Assert.IsType<NotFoundError>((await _app.Get<ProductService>().GetAsync(await _app.RootAsync(), "a\0b")).Error);
    }
}
