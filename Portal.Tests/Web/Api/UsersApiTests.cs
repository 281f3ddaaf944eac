using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

public sealed class UsersApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private static object NewUser(string? email = null, string password = "Str0ng!pass", params string[] roles) => new
    {
        email = email ?? $"api-{Guid.NewGuid():N}@portal.test",
        displayName = "Api User",
        password,
        roles = roles.Length == 0 ? [Roles.Developer] : roles,
    };

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Me_WithKey_ReturnsTheCallerRolesKeyAndScopes()
    {
        var (client, user) = await factory.ClientAsAsync(Roles.Admin, Scopes.Read);
        var me = await JsonAsync(await client.GetAsync("/api/v1/me"));
        Assert.Equal(user.Id.ToString(), me.GetProperty("userId").GetString());
        Assert.Equal(user.Email, me.GetProperty("email").GetString());
        Assert.Equal([Roles.Admin], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal([Scopes.Read], me.GetProperty("scopes").EnumerateArray().Select(r => r.GetString()));
        Assert.NotEqual(JsonValueKind.Null, me.GetProperty("keyId").ValueKind);
    }

    [Fact]
    public async Task Me_WithoutKey_Is401ProblemWithChallenge_NotARedirect()
    {
        var response = await factory.AnonymousClient().GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
        Assert.Equal(401, (await JsonAsync(response)).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Users_WithInvalidKey_Is401()
    {
        var client = factory.AnonymousClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", "ptl_not-a-real-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/users")).StatusCode);
    }

    [Fact]
    public async Task Create_AsSuperAdmin_Is201WithLocation_ThenGetReturnsIt()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var response = await client.PostAsJsonAsync("/api/v1/users", NewUser(roles: [Roles.Admin, Roles.ReadOnly]));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await JsonAsync(response);
        Assert.Equal($"/api/v1/users/{created.GetProperty("id").GetString()}", response.Headers.Location?.ToString());
        Assert.Equal("Active", created.GetProperty("status").GetString());

        var fetched = await JsonAsync(await client.GetAsync(response.Headers.Location));
        Assert.Equal(created.GetProperty("email").GetString(), fetched.GetProperty("email").GetString());
        Assert.False(fetched.TryGetProperty("passwordHash", out _));
    }

    [Fact]
    public async Task Create_DuplicateEmail_Is409Problem()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var email = $"dup-{Guid.NewGuid():N}@portal.test";
        await client.PostAsJsonAsync("/api/v1/users", NewUser(email));
        var response = await client.PostAsJsonAsync("/api/v1/users", NewUser(email.ToUpperInvariant()));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Create_WeakPassword_Is400WithPasswordFieldErrors()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var response = await client.PostAsJsonAsync("/api/v1/users", NewUser(password: "weak"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await JsonAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _));
    }

    [Fact]
    public async Task Create_MalformedJson_Is400NotA500()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var response = await client.PostAsync("/api/v1/users", new StringContent("{\"email\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Create_OversizedBody_IsRefused413()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var huge = new string('a', 2 * 1024 * 1024);
        var response = await client.PostAsJsonAsync("/api/v1/users", new { email = "x@portal.test", displayName = huge, password = "Str0ng!pass", roles = new[] { "developer" } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.ReadOnly)]
    [InlineData(Roles.Developer)]
    public async Task Create_WithoutSuperAdmin_Is403(string role)
    {
        var (client, _) = await factory.ClientAsAsync(role);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/v1/users", NewUser())).StatusCode);
    }

    [Fact]
    public async Task Create_SuperAdminKeyWithoutAdminScope_Is403()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.SuperAdmin, Scopes.Read, Scopes.Write);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/v1/users", NewUser())).StatusCode);
    }

    [Fact]
    public async Task List_PagesAndFiltersByRoleAndStatus()
    {
        var (root, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        for (var i = 0; i < 3; i++)
            await root.PostAsJsonAsync("/api/v1/users", NewUser(roles: [Roles.ReadOnly]));

        var page = await JsonAsync(await root.GetAsync("/api/v1/users?role=read-only&status=active&page=1&pageSize=2"));
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
        Assert.Equal(1, page.GetProperty("page").GetInt32());
        Assert.Equal(2, page.GetProperty("pageSize").GetInt32());
        Assert.True(page.GetProperty("total").GetInt32() >= 3);
        Assert.All(page.GetProperty("items").EnumerateArray(), u =>
            Assert.Contains(Roles.ReadOnly, u.GetProperty("roles").EnumerateArray().Select(r => r.GetString())));
    }

    [Theory]
    [InlineData("/api/v1/users?status=sleeping")]
    [InlineData("/api/v1/users?role=wizard")]
    [InlineData("/api/v1/users?pageSize=500")]
    [InlineData("/api/v1/users?page=0")]
    public async Task List_BadQuery_Is400(string url)
    {
        var (client, _) = await factory.ClientAsAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task List_AsDeveloper_Is403()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.Developer);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/users")).StatusCode);
    }

    [Fact]
    public async Task Get_UnknownId_Is404()
    {
        var (client, _) = await factory.ClientAsAsync(Roles.ReadOnly);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/users/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task Patch_AsAdmin_ChangesDisplayNameRolesStatus()
    {
        var (root, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var target = await JsonAsync(await root.PostAsJsonAsync("/api/v1/users", NewUser()));
        var (admin, _) = await factory.ClientAsAsync(Roles.Admin);

        var response = await admin.PatchAsJsonAsync($"/api/v1/users/{target.GetProperty("id").GetString()}",
            new { displayName = "Changed", roles = new[] { Roles.ReadOnly }, status = "Inactive" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var updated = await JsonAsync(response);
        Assert.Equal("Changed", updated.GetProperty("displayName").GetString());
        Assert.Equal("Inactive", updated.GetProperty("status").GetString());
    }

    [Fact]
    public async Task CreateOrPatch_WithANullRole_Is400_AndStoresNothing()
    {
        var (root, _) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var (_, target) = await factory.ClientAsAsync(Roles.Developer);
        var email = $"null-role-{Guid.NewGuid():N}@portal.test";

        var created = await root.PostAsync("/api/v1/users", new StringContent(
            $$"""{"email": "{{email}}", "displayName": "N", "password": "Str0ng!pass", "roles": [null]}""", System.Text.Encoding.UTF8, "application/json"));
        var patched = await root.PatchAsync($"/api/v1/users/{target.Id}", new StringContent(
            """{"roles": ["developer", null]}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, created.StatusCode);
        Assert.True((await JsonAsync(created)).GetProperty("errors").TryGetProperty("roles", out _));
        Assert.Equal(HttpStatusCode.BadRequest, patched.StatusCode);
        Assert.True((await JsonAsync(patched)).GetProperty("errors").TryGetProperty("roles", out _));
        var list = await JsonAsync(await root.GetAsync($"/api/v1/users?search={email}"));
        Assert.Equal(0, list.GetProperty("total").GetInt32());
        var stored = await JsonAsync(await root.GetAsync($"/api/v1/users/{target.Id}"));
        Assert.Equal([Roles.Developer], stored.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Patch_AnAdminDeactivatingASuperAdmin_Is403Problem_AndTheyStayActive()
    {
        var (superClient, superAdmin, _) = await factory.ClientWithKeyAsync(Roles.SuperAdmin);
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);

        var response = await admin.PatchAsJsonAsync($"/api/v1/users/{superAdmin.Id}", new { status = "Inactive" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("grant more than yours", (await JsonAsync(response)).GetProperty("detail").GetString());
        Assert.Equal("Active", (await JsonAsync(await admin.GetAsync($"/api/v1/users/{superAdmin.Id}"))).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await superClient.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Patch_AsReadOnly_Is403()
    {
        var (client, user) = await factory.ClientAsAsync(Roles.ReadOnly);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { displayName = "x" })).StatusCode);
    }

    [Fact]
    public async Task Patch_DemotingTheLastActiveSuperAdmin_Is409()
    {
        var root = await factory.RootAsync();
        // Every other super-admin made by this fixture is deactivated first, so the bootstrap one is the last.
        var users = factory.Get<Portal.Core.Features.Users.UserService>();
        var others = (await users.ListAsync(Actor.System, new Portal.Core.Features.Users.UserQuery { Role = Roles.SuperAdmin, PageSize = 200 })).Value.Items
            .Where(u => u.Id != root.UserId);
        foreach (var other in others)
            await users.UpdateAsync(Actor.System, other.Id, new Portal.Core.Features.Users.UpdateUser { Status = Portal.Core.Features.Users.UserStatus.Inactive });
        var (admin, adminUser) = await factory.ClientAsAsync(Roles.SuperAdmin);
        await users.UpdateAsync(Actor.System, adminUser.Id, new Portal.Core.Features.Users.UpdateUser { Status = Portal.Core.Features.Users.UserStatus.Inactive });

        var response = await admin.PatchAsJsonAsync($"/api/v1/users/{root.UserId}", new { roles = new[] { Roles.Admin } });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task ResetPassword_AsSuperAdmin_Is204_OwnIs403_AdminIs403()
    {
        var (root, rootUser) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var target = await JsonAsync(await root.PostAsJsonAsync("/api/v1/users", NewUser()));
        var targetId = target.GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.NoContent, (await root.PostAsJsonAsync($"/api/v1/users/{targetId}/reset-password", new { password = "An0ther!pass" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await root.PostAsJsonAsync($"/api/v1/users/{rootUser.Id}/reset-password", new { password = "An0ther!pass" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await root.PostAsJsonAsync($"/api/v1/users/{targetId}/reset-password", new { password = "x" })).StatusCode);
        var (admin, _) = await factory.ClientAsAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsJsonAsync($"/api/v1/users/{targetId}/reset-password", new { password = "An0ther!pass" })).StatusCode);
    }

    [Fact]
    public async Task Delete_AsSuperAdmin_Is204ThenGone_SelfIs403()
    {
        var (root, rootUser) = await factory.ClientAsAsync(Roles.SuperAdmin);
        var target = await JsonAsync(await root.PostAsJsonAsync("/api/v1/users", NewUser()));
        var url = $"/api/v1/users/{target.GetProperty("id").GetString()}";

        Assert.Equal(HttpStatusCode.NoContent, (await root.DeleteAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await root.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await root.DeleteAsync($"/api/v1/users/{rootUser.Id}")).StatusCode);
    }

    [Fact]
    public async Task BrowserCookieRoute_UnknownUser_RedirectsToLoginButApiNeverDoes()
    {
        var client = factory.AnonymousClient();
        var page = await client.GetAsync("/users");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/users")).StatusCode);
        Assert.NotEqual(HttpStatusCode.InternalServerError, page.StatusCode);
    }
}
