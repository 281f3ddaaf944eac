using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary><c>GET · PATCH /api/v1/me/profile</c>: any user key, never an application key.</summary>
public sealed class ProfileApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Theory]
    [InlineData(Roles.Developer, Scopes.Read)]
    [InlineData(Roles.ReadOnly, Scopes.Read)]
    [InlineData(Roles.Admin, Scopes.Admin)]
    public async Task Get_AnyUserKey_AnswersTheCallersProfile(string role, string scope)
    {
        var (client, user, _) = await factory.ClientWithKeyAsync(role, scope);
        var response = await client.GetAsync("/api/v1/me/profile");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal(user.Email, body.GetProperty("email").GetString());
        Assert.Equal(user.DisplayName, body.GetProperty("displayName").GetString());
    }

    [Fact]
    public async Task Patch_DisplayName_IsSavedAndSeenByMe()
    {
        var (client, _, _) = await factory.ClientWithKeyAsync(Roles.Developer, Scopes.Read);
        var response = await client.PatchAsJsonAsync("/api/v1/me/profile", new { displayName = "Grace Hopper" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Grace Hopper", (await JsonAsync(response)).GetProperty("displayName").GetString());
        Assert.Equal("Grace Hopper", (await JsonAsync(await client.GetAsync("/api/v1/me/profile"))).GetProperty("displayName").GetString());
        Assert.Equal("Grace Hopper", (await JsonAsync(await client.GetAsync("/api/v1/me"))).GetProperty("displayName").GetString());
    }

    [Fact]
    public async Task Patch_Notifications_ChangesOnlyTheNamedChoices()
    {
        var (client, _, _) = await factory.ClientWithKeyAsync(Roles.Developer, Scopes.Read);
        var before = (await JsonAsync(await client.GetAsync("/api/v1/me/profile"))).GetProperty("notifications");
        Assert.True(before.GetProperty("subscriptionApproved").GetBoolean());
        Assert.True(before.GetProperty("apiKeyExpiring").GetBoolean());

        var response = await client.PatchAsJsonAsync("/api/v1/me/profile", new { notifications = new { apiKeyExpiring = false } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var after = (await JsonAsync(await client.GetAsync("/api/v1/me/profile"))).GetProperty("notifications");
        Assert.False(after.GetProperty("apiKeyExpiring").GetBoolean());
        Assert.True(after.GetProperty("subscriptionApproved").GetBoolean());
        Assert.True(after.GetProperty("subscriptionRejected").GetBoolean());
        Assert.True(after.GetProperty("apiKeyExpired").GetBoolean());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Patch_BlankDisplayName_Is400WithTheField(string name)
    {
        var (client, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var response = await client.PatchAsJsonAsync("/api/v1/me/profile", new { displayName = name });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty("displayName", out _));
    }

    [Fact]
    public async Task Patch_TooLongDisplayName_Is400WithTheField()
    {
        var (client, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var response = await client.PatchAsJsonAsync("/api/v1/me/profile", new { displayName = new string('x', 201) });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty("displayName", out _));
    }

    [Fact]
    public async Task ApplicationKey_Is403_NoKey_Is401()
    {
        var (developer, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var created = await (await developer.PostAsJsonAsync("/api/v1/applications", new { name = "Profile probe" })).Content.ReadFromJsonAsync<JsonElement>();
        var app = factory.ClientWithKey(created.GetProperty("key").GetString()!);

        Assert.Equal(HttpStatusCode.Forbidden, (await app.GetAsync("/api/v1/me/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.PatchAsJsonAsync("/api/v1/me/profile", new { displayName = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().GetAsync("/api/v1/me/profile")).StatusCode);
    }
}
