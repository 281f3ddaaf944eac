using System.Net;
using System.Text.Json;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

public sealed class HealthAndOpenApiTests : IClassFixture<PortalApiFactory>
{
    private readonly PortalApiFactory _factory;

    public HealthAndOpenApiTests(PortalApiFactory factory) => _factory = factory;

    [Fact]
    public async Task Healthz_DatabaseAnswers_Is200WithoutCredentials()
    {
        var response = await _factory.AnonymousClient().GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Healthz_Head_Is200WithoutABody_LikeGet()
    {
        var response = await _factory.AnonymousClient().SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheFoundationEndpoints()
    {
        var json = await _factory.AnonymousClient().GetStringAsync("/openapi/v1.json");
        var paths = JsonDocument.Parse(json).RootElement.GetProperty("paths");
        foreach (var path in new[] { "/healthz", "/api/v1/me", "/api/v1/users", "/api/v1/users/{id}", "/api/v1/users/{id}/reset-password", "/api/v1/organisation", "/api/v1/audit" })
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI lacks {path}");
    }
}
