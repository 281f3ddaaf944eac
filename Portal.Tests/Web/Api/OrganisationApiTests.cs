using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Organisation;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

public sealed class OrganisationApiTests : IClassFixture<PortalApiFactory>
{
    private const string Path = "/api/v1/organisation";
    private readonly PortalApiFactory _factory;

    public OrganisationApiTests(PortalApiFactory factory) => _factory = factory;

    private static object ValidBody(string name = "Acme APIs") => new
    {
        name,
        contactEmail = "api@acme.test",
        website = "https://acme.test",
        logoUrl = "https://acme.test/logo.png",
    };

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Theory]
    [InlineData(Roles.SuperAdmin)]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.ReadOnly)]
    [InlineData(Roles.Developer)]
    public async Task Get_AnyRoleWithReadScope_Is200WithProfile(string role)
    {
        var (client, _) = await _factory.ClientAsAsync(role, Scopes.Read);
        var response = await client.GetAsync(Path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("name").GetString()));
        Assert.True(body.TryGetProperty("contactEmail", out _));
        Assert.True(body.TryGetProperty("website", out _));
        Assert.True(body.TryGetProperty("logoUrl", out _));
        Assert.True(body.TryGetProperty("updatedAt", out _));
    }

    [Fact]
    public async Task Get_OnAFreshInstall_AnswersUpdatedAtNull_NotTheYearOne()
    {
        using var fresh = new PortalApiFactory();
        var (client, _) = await fresh.ClientAsAsync(Roles.Admin);

        var before = await JsonAsync(await client.GetAsync(Path));
        Assert.Equal(JsonValueKind.Null, before.GetProperty("updatedAt").ValueKind);

        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync(Path, ValidBody())).StatusCode);
        var after = await JsonAsync(await client.GetAsync(Path));
        Assert.True(after.GetProperty("updatedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task Get_KeyWithoutReadScope_Is403()
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.Admin, Scopes.Write);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(Path)).StatusCode);
    }

    [Fact]
    public async Task Put_AsAdmin_Is200PersistsAndAudits()
    {
        var (client, user) = await _factory.ClientAsAsync(Roles.Admin);
        var name = $"Acme {Guid.NewGuid():N}";

        var response = await client.PutAsJsonAsync(Path, ValidBody(name));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal(name, body.GetProperty("name").GetString());
        Assert.Equal("api@acme.test", body.GetProperty("contactEmail").GetString());

        var reread = await JsonAsync(await client.GetAsync(Path));
        Assert.Equal(name, reread.GetProperty("name").GetString());
        Assert.Equal("https://acme.test/logo.png", reread.GetProperty("logoUrl").GetString());

        await using var db = await _factory.Get<Microsoft.EntityFrameworkCore.IDbContextFactory<Portal.Core.Data.PortalDbContext>>().CreateDbContextAsync();
        var entry = await db.Audit.SingleAsync(a => a.Action == AuditActions.OrganisationUpdated && a.ActorId == user.Id);
        Assert.Equal(name, entry.Target);
        Assert.Equal(user.Email, entry.ActorEmail);
    }

    [Fact]
    public async Task Put_AsSuperAdmin_Is200()
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.SuperAdmin);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync(Path, ValidBody())).StatusCode);
    }

    [Theory]
    [InlineData(Roles.ReadOnly)]
    [InlineData(Roles.Developer)]
    public async Task Put_WithoutWriteRole_Is403ProblemAndChangesNothing(string role)
    {
        var before = await _factory.Get<OrganisationService>().GetAsync(Actor.System);
        var (client, _) = await _factory.ClientAsAsync(role);

        var response = await client.PutAsJsonAsync(Path, ValidBody($"Hijack {Guid.NewGuid():N}"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before.Value, (await _factory.Get<OrganisationService>().GetAsync(Actor.System)).Value);
    }

    [Fact]
    public async Task Put_AdminWhoseKeyLacksAdminScope_Is403()
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.Admin, Scopes.Read, Scopes.Write);
        var response = await client.PutAsJsonAsync(Path, ValidBody());
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("contactEmail", "Acme", "not-an-email", null, null)]
    [InlineData("website", "Acme", null, "javascript:alert(1)", null)]
    [InlineData("logoUrl", "Acme", null, null, "javascript:alert(1)")]
    [InlineData("name", "", null, null, null)]
    public async Task Put_InvalidBody_Is400ProblemWithFieldError(string field, string name, string? email, string? website, string? logo)
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.Admin);

        var response = await client.PutAsJsonAsync(Path, new { name, contactEmail = email, website, logoUrl = logo });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(response);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), $"errors lacks '{field}': {problem}");
        Assert.True(messages.GetArrayLength() > 0);
    }

    [Fact]
    public async Task Put_MalformedJson_Is400()
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.Admin);
        var response = await client.PutAsync(Path, new StringContent("{\"name\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Get_NoCredentials_Is401ProblemWithChallenge()
    {
        var response = await _factory.AnonymousClient().GetAsync(Path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task Put_NoCredentials_Is401ProblemWithChallenge()
    {
        var response = await _factory.AnonymousClient().PutAsJsonAsync(Path, ValidBody());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }
}
