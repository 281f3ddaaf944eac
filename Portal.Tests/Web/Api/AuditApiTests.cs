using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

public sealed class AuditApiTests : IClassFixture<PortalApiFactory>
{
    private const string Path = "/api/v1/audit";
    private readonly PortalApiFactory _factory;

    public AuditApiTests(PortalApiFactory factory) => _factory = factory;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.UtcDateTime.ToString("O"));

    /// <summary>An admin who has left exactly one audit entry (an organisation update) behind.</summary>
    private async Task<(HttpClient Client, string Email)> AdminWithOneEntryAsync()
    {
        var (client, user) = await _factory.ClientAsAsync(Roles.Admin);
        var put = await client.PutAsJsonAsync("/api/v1/organisation", new { name = "Audited Org" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        return (client, user.Email);
    }

    [Theory]
    [InlineData(Roles.SuperAdmin)]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.ReadOnly)]
    public async Task List_AsAuditReader_Is200WithPagedShape(string role)
    {
        var (client, _) = await _factory.ClientAsAsync(role, Scopes.Read);

        var response = await client.GetAsync($"{Path}?page=1&pageSize=5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal(JsonValueKind.Array, body.GetProperty("items").ValueKind);
        Assert.Equal(1, body.GetProperty("page").GetInt32());
        Assert.Equal(5, body.GetProperty("pageSize").GetInt32());
        Assert.True(body.GetProperty("total").GetInt32() >= body.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task List_AsDeveloper_Is403()
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.Developer);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(Path)).StatusCode);
    }

    [Fact]
    public async Task List_NoCredentials_Is401WithChallenge()
    {
        var response = await _factory.AnonymousClient().GetAsync(Path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task List_ActorFilter_ReturnsOnlyThatActorsEntries()
    {
        var (client, email) = await AdminWithOneEntryAsync();
        await AdminWithOneEntryAsync();

        var body = await JsonAsync(await client.GetAsync($"{Path}?actor={Uri.EscapeDataString(email.ToUpperInvariant())}"));

        var item = Assert.Single(body.GetProperty("items").EnumerateArray());
        Assert.Equal(email, item.GetProperty("actor").GetString());
        Assert.Equal(AuditActions.OrganisationUpdated, item.GetProperty("action").GetString());
        Assert.Equal(1, body.GetProperty("total").GetInt32());
        foreach (var field in new[] { "id", "at", "target", "details", "ipAddress" })
            Assert.True(item.TryGetProperty(field, out _), $"entry lacks '{field}'");
    }

    [Fact]
    public async Task List_ActionFilter_ExactAndPrefix()
    {
        var (client, email) = await AdminWithOneEntryAsync();
        var actor = Uri.EscapeDataString(email);

        var exact = await JsonAsync(await client.GetAsync($"{Path}?actor={actor}&action={AuditActions.OrganisationUpdated}"));
        Assert.Single(exact.GetProperty("items").EnumerateArray());

        var prefix = await JsonAsync(await client.GetAsync($"{Path}?actor={actor}&action=organisation."));
        Assert.Single(prefix.GetProperty("items").EnumerateArray());

        var other = await JsonAsync(await client.GetAsync($"{Path}?actor={actor}&action=user."));
        Assert.Empty(other.GetProperty("items").EnumerateArray());

        var users = await JsonAsync(await client.GetAsync($"{Path}?action=user.&pageSize=200"));
        Assert.All(users.GetProperty("items").EnumerateArray(), e => Assert.StartsWith("user.", e.GetProperty("action").GetString()));
        Assert.NotEmpty(users.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task List_FromAndTo_BoundTheEntries()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var (client, email) = await AdminWithOneEntryAsync();
        var after = DateTimeOffset.UtcNow.AddMinutes(1);
        var actor = Uri.EscapeDataString(email);

        var inside = await JsonAsync(await client.GetAsync($"{Path}?actor={actor}&from={Iso(before)}&to={Iso(after)}"));
        Assert.Single(inside.GetProperty("items").EnumerateArray());

        var later = await JsonAsync(await client.GetAsync($"{Path}?actor={actor}&from={Iso(after)}"));
        Assert.Empty(later.GetProperty("items").EnumerateArray());

        var earlier = await JsonAsync(await client.GetAsync($"{Path}?actor={actor}&to={Iso(before)}"));
        Assert.Empty(earlier.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task List_FromAfterTo_Is400WithFromError()
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.Admin);
        var now = DateTimeOffset.UtcNow;

        var response = await client.GetAsync($"{Path}?from={Iso(now)}&to={Iso(now.AddDays(-1))}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty("from", out _));
    }

    [Fact]
    public async Task List_PageSizeOverMaximum_Is400()
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.Admin);
        var response = await client.GetAsync($"{Path}?pageSize=500");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty("pageSize", out _));
    }

    [Fact]
    public async Task List_UnparsableDate_Is400()
    {
        var (client, _) = await _factory.ClientAsAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"{Path}?from=yesterday")).StatusCode);
    }
}
