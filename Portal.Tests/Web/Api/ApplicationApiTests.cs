using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>The application and account endpoints, and application keys authenticating (Bearer, X-Api-Key, Basic).</summary>
public sealed class ApplicationApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private async Task<(HttpClient Client, UserDto User)> DeveloperAsync(params string[] scopes)
    {
        var (client, user, _) = await factory.ClientWithKeyAsync(Roles.Developer, scopes);
        return (client, user);
    }

    private static async Task<JsonElement> CreateAsync(HttpClient client, string name = "Mobile iOS App")
    {
        var response = await client.PostAsJsonAsync("/api/v1/applications", new { name, description = "API access for iOS" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Guid AppId(JsonElement created) => created.GetProperty("id").GetGuid();

    private static string Secret(JsonElement created) => created.GetProperty("key").GetString()!;

    private static Guid KeyId(JsonElement created) => created.GetProperty("apiKey").GetProperty("id").GetGuid();

    private HttpClient Basic(string userName, string password)
    {
        var client = factory.AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{userName}:{password}")));
        return client;
    }

    [Fact]
    public async Task Create_Is201_WithLocation_TheApplicationsFields_AndItsFirstKeyOnce()
    {
        var (client, _) = await DeveloperAsync();
        var response = await client.PostAsJsonAsync("/api/v1/applications", new { name = "Mobile iOS App", description = "API access for iOS" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/v1/applications/{AppId(body)}", response.Headers.Location?.OriginalString);
        // API.md: "201 with the app and its first key (full `key` once)": the app's own fields at the top, as GET gives them.
        Assert.Equal("Mobile iOS App", body.GetProperty("name").GetString());
        Assert.Equal("API access for iOS", body.GetProperty("description").GetString());
        Assert.True(body.GetProperty("referenceId").GetGuid() != Guid.Empty);
        Assert.True(body.GetProperty("accountId").GetGuid() != Guid.Empty);
        Assert.StartsWith("ptl_", Secret(body));
        var apiKey = body.GetProperty("apiKey");
        Assert.True(apiKey.GetProperty("enabled").GetBoolean());
        Assert.Equal(AppId(body), apiKey.GetProperty("applicationId").GetGuid());
        Assert.False(apiKey.TryGetProperty("key", out _), "the secret is in the answer once, not again in apiKey");

        var details = await client.GetStringAsync($"/api/v1/applications/{AppId(body)}");
        var keys = await client.GetStringAsync($"/api/v1/applications/{AppId(body)}/keys");
        Assert.DoesNotContain(Secret(body), details + keys);
    }

    [Fact]
    public async Task Create_Invalid_Is400_Duplicate_Is409_OverTheLimit_Is409()
    {
        var (client, user) = await DeveloperAsync();
        var invalid = await client.PostAsJsonAsync("/api/v1/applications", new { name = "" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.True((await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("name", out _));

        await CreateAsync(client, "dup");
        var duplicate = await client.PostAsJsonAsync("/api/v1/applications", new { name = "dup" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("application/problem+json", duplicate.Content.Headers.ContentType?.MediaType);

        var actor = new Actor(user.Id, user.Email, user.Roles);
        for (var i = 1; i < 10; i++)
            Assert.True((await factory.Get<ApplicationService>().CreateAsync(actor, new CreateApplication { Name = $"app {i}" })).IsSuccess);
        var tooMany = await client.PostAsJsonAsync("/api/v1/applications", new { name = "eleventh" });
        Assert.Equal(HttpStatusCode.Conflict, tooMany.StatusCode);
        Assert.Contains("10 applications", (await tooMany.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Get_OwnIs200_AnotherDevelopersIs404_AdminAndReadOnlySeeIt()
    {
        var (owner, _) = await DeveloperAsync();
        var (stranger, _) = await DeveloperAsync();
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (readOnly, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        var id = AppId(await CreateAsync(owner));

        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/applications/{id}/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await readOnly.GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/api/v1/applications/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task List_DeveloperSeesOwnOnly_AdminFiltersByAccountAndSearch()
    {
        var (owner, _) = await DeveloperAsync();
        var (stranger, _) = await DeveloperAsync();
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var created = await CreateAsync(owner, "Listed app");
        var accountId = created.GetProperty("accountId").GetGuid();

        var own = await owner.GetFromJsonAsync<JsonElement>("/api/v1/applications");
        Assert.Equal(1, own.GetProperty("total").GetInt32());
        Assert.Equal(0, (await stranger.GetFromJsonAsync<JsonElement>("/api/v1/applications")).GetProperty("total").GetInt32());
        var filtered = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/applications?accountId={accountId}&search=listed");
        Assert.Equal(AppId(created), filtered.GetProperty("items")[0].GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/applications?pageSize=500")).StatusCode);
    }

    [Fact]
    public async Task Patch_Is200_DuplicateIs409_InvalidIs400()
    {
        var (client, _) = await DeveloperAsync();
        var id = AppId(await CreateAsync(client, "first"));
        await CreateAsync(client, "second");

        var renamed = await client.PatchAsJsonAsync($"/api/v1/applications/{id}", new { name = "renamed", description = "new words" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("renamed", (await renamed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PatchAsJsonAsync($"/api/v1/applications/{id}", new { name = "second" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PatchAsJsonAsync($"/api/v1/applications/{id}", new { name = new string('x', 256) })).StatusCode);
    }

    [Fact]
    public async Task Delete_Is204_ThenItsKeysFail_AndTheApplicationIsGone()
    {
        var (client, _) = await DeveloperAsync();
        var created = await CreateAsync(client);
        var id = AppId(created);
        var appClient = factory.ClientWithKey(Secret(created));
        Assert.Equal(HttpStatusCode.OK, (await appClient.GetAsync($"/api/v1/applications/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/applications/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await appClient.GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/v1/applications/{id}")).StatusCode);
    }

    [Fact]
    public async Task Keys_ListGenerateRevoke_WithLimitAndIdempotentRevoke()
    {
        var (client, _) = await DeveloperAsync();
        var created = await CreateAsync(client);
        var id = AppId(created);

        var generated = await client.PostAsync($"/api/v1/applications/{id}/keys", null);
        Assert.Equal(HttpStatusCode.Created, generated.StatusCode);
        var newKey = await generated.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("ptl_", newKey.GetProperty("key").GetString());
        var list = await client.GetFromJsonAsync<JsonElement>($"/api/v1/applications/{id}/keys");
        Assert.Equal(2, list.GetProperty("total").GetInt32());

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/v1/applications/{id}/keys", new { })).StatusCode);
        var sixth = await client.PostAsync($"/api/v1/applications/{id}/keys", null);
        Assert.Equal(HttpStatusCode.Conflict, sixth.StatusCode);

        var revoke = $"/api/v1/applications/{id}/keys/{KeyId(created)}/revoke";
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync(revoke, null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync(revoke, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.ClientWithKey(Secret(created)).GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/v1/applications/{id}/keys/{Guid.NewGuid()}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await client.PostAsJsonAsync($"/api/v1/applications/{id}/keys", new { expiresAt = DateTimeOffset.UtcNow.AddDays(-1) })).StatusCode);
    }

    [Fact]
    public async Task Create_ForAnAccount_AdminMayForAny_DeveloperOnlyForTheirOwn_ReadOnlyAndNoKeyMayNot()
    {
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (adminWithoutAdminScope, _, _) = await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read, Scopes.Write);
        var (readOnly, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        var (developer, _) = await DeveloperAsync();
        var account = await (await admin.PostAsJsonAsync("/api/v1/accounts", new { name = $"Picked team {Guid.NewGuid():N}", kind = "Team" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var accountId = account.GetProperty("id").GetGuid();
        var body = new { name = "Created by admin", description = "seed 001: Creating New Portal App", accountId };

        var created = await admin.PostAsJsonAsync("/api/v1/applications", body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var app = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(accountId, app.GetProperty("accountId").GetGuid());
        Assert.StartsWith("ptl_", app.GetProperty("key").GetString());

        // A developer, and an admin's key without the admin scope, may create only in accounts they belong to: another
        // account answers as one that does not exist, on its field.
        foreach (var client in new[] { developer, adminWithoutAdminScope })
        {
            var refused = await client.PostAsJsonAsync("/api/v1/applications", body with { name = "Not theirs" });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("accountId", out _));
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/v1/applications", body with { accountId = Guid.NewGuid() })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsJsonAsync("/api/v1/applications", body)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().PostAsJsonAsync("/api/v1/applications", body)).StatusCode);
    }

    [Fact]
    public async Task GenerateKey_WithAFutureExpiry_KeepsIt_APastOneIs400NamingExpiresAt()
    {
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (developer, _) = await DeveloperAsync();
        var id = AppId(await CreateAsync(developer, "Expiring keys"));
        var expiresAt = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(30).AddSeconds(-1), TimeSpan.Zero);

        var generated = await admin.PostAsJsonAsync($"/api/v1/applications/{id}/keys", new { expiresAt });
        Assert.Equal(HttpStatusCode.Created, generated.StatusCode);
        Assert.Equal(expiresAt, (await generated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("expiresAt").GetDateTimeOffset());

        var past = await admin.PostAsJsonAsync($"/api/v1/applications/{id}/keys", new { expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) });
        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        Assert.Equal("application/problem+json", past.Content.Headers.ContentType?.MediaType);
        var problem = await past.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The expiry must be in the future.", problem.GetProperty("errors").GetProperty("expiresAt")[0].GetString());
    }

    [Fact]
    public async Task WrongRoleOrScope_Is403_NoKey_Is401()
    {
        var (readOnly, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        var (readKeyDeveloper, _) = await DeveloperAsync(Scopes.Read);

        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsJsonAsync("/api/v1/applications", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readKeyDeveloper.PostAsJsonAsync("/api/v1/applications", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await readKeyDeveloper.GetAsync("/api/v1/applications")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().GetAsync("/api/v1/applications")).StatusCode);
    }

    [Fact]
    public async Task Accounts_AdminListsAndCreates_201_400_ReadOnlyLists_DeveloperAndWriteOnlyAdminKeyAre403()
    {
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (adminWithoutAdminScope, _, _) = await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read, Scopes.Write);
        var (readOnly, _, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        var (developer, _) = await DeveloperAsync();

        var created = await admin.PostAsJsonAsync("/api/v1/accounts", new { name = "Mobile team", kind = "Team" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.NotNull(created.Headers.Location);
        var account = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Team", account.GetProperty("kind").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/v1/accounts", new { name = "" })).StatusCode);
        // "memberIds": null is no members, as leaving it out is (it was a 500).
        var noMembers = await admin.PostAsJsonAsync("/api/v1/accounts", new { name = "Nobody yet", memberIds = (Guid[]?)null });
        Assert.Equal(HttpStatusCode.Created, noMembers.StatusCode);
        Assert.Equal(0, (await noMembers.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("memberCount").GetInt32());

        var list = await readOnly.GetFromJsonAsync<JsonElement>("/api/v1/accounts?search=mobile%20team&kind=team");
        Assert.Contains(list.GetProperty("items").EnumerateArray(), a => a.GetProperty("id").GetGuid() == account.GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.BadRequest, (await readOnly.GetAsync("/api/v1/accounts?kind=planet")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync("/api/v1/accounts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await adminWithoutAdminScope.PostAsJsonAsync("/api/v1/accounts", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsJsonAsync("/api/v1/accounts", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().GetAsync("/api/v1/accounts")).StatusCode);
    }

    [Fact]
    public async Task ApplicationKey_AsBasic_ReadsItsOwnApplication_AndNothingElse()
    {
        var (client, _) = await DeveloperAsync();
        var created = await CreateAsync(client, "basic");
        var other = AppId(await CreateAsync(client, "other"));
        var id = AppId(created);
        var basic = Basic(KeyId(created).ToString(), Secret(created));

        Assert.Equal(HttpStatusCode.OK, (await basic.GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await basic.GetAsync($"/api/v1/applications/{id}/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await basic.GetAsync($"/api/v1/applications/{other}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await basic.GetAsync("/api/v1/applications")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await basic.PostAsync($"/api/v1/applications/{id}/keys", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await basic.DeleteAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await basic.GetAsync("/api/v1/accounts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await basic.GetAsync("/api/v1/api-keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await basic.GetAsync("/api/v1/users")).StatusCode);
    }

    [Fact]
    public async Task ApplicationKey_AsksWhoItIs_TheApplication_NoUserNoRolesNoScopes()
    {
        var (client, _) = await DeveloperAsync();
        var created = await CreateAsync(client, "Who am I");
        foreach (var caller in new[] { Basic(KeyId(created).ToString(), Secret(created)), factory.ClientWithKey(Secret(created)) })
        {
            var response = await caller.GetAsync("/api/v1/me");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var me = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(AppId(created), me.GetProperty("applicationId").GetGuid());
            Assert.Equal(KeyId(created), me.GetProperty("keyId").GetGuid());
            Assert.Equal("Who am I", me.GetProperty("displayName").GetString());
            Assert.Equal(JsonValueKind.Null, me.GetProperty("userId").ValueKind);
            Assert.Equal(JsonValueKind.Null, me.GetProperty("user").ValueKind);
            Assert.Equal(0, me.GetProperty("roles").GetArrayLength());
            Assert.Equal(0, me.GetProperty("scopes").GetArrayLength());
        }
    }

    [Fact]
    public async Task ApplicationKey_AsBearerOrHeader_Works_AsBasicWithAnotherUserName_Is401()
    {
        var (client, _) = await DeveloperAsync();
        var created = await CreateAsync(client);
        var id = AppId(created);

        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(Secret(created)).GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(Secret(created), asHeader: true).GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Basic(Guid.NewGuid().ToString(), Secret(created)).GetAsync($"/api/v1/applications/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Basic(KeyId(created).ToString(), "ptl_wrong").GetAsync($"/api/v1/applications/{id}")).StatusCode);
    }

    [Fact]
    public async Task PersonalKey_AsBasic_Is401()
    {
        var (_, _, key) = await factory.ClientWithKeyAsync(Roles.Developer);
        var response = await Basic(key.Id.ToString(), key.Key).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesAccountsApplicationsAndKeys_AndBasicAuth()
    {
        var json = await factory.AnonymousClient().GetStringAsync("/openapi/v1.json");
        var root = JsonDocument.Parse(json).RootElement;
        var paths = root.GetProperty("paths");
        foreach (var path in new[] { "/api/v1/accounts", "/api/v1/applications", "/api/v1/applications/{id}", "/api/v1/applications/{id}/keys", "/api/v1/applications/{id}/keys/{keyId}/revoke" })
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI lacks {path}");
        Assert.True(root.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("basic", out _));
    }
}
