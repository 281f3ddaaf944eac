using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Tests.Support;
using Portal.Web.Features.ApiReference;

namespace Portal.Tests.Web.ApiReference;

/// <summary>/api-reference over the endpoints of the real app: how to authenticate, the OpenAPI link, every call by tag.</summary>
public sealed class ApiReferencePageTests(PortalApiFactory app) : PortalBunitContext, IClassFixture<PortalApiFactory>
{
    protected override void AddPageServices() => Services.AddSingleton(app.Get<ApiCatalog>());

    [Theory]
    [InlineData(Roles.Developer)]
    [InlineData(Roles.ReadOnly)]
    public async Task AnySignedInUser_SeesHowToAuthenticate_AndTheOpenApiLink(string role)
    {
        SignInAs((await Db.CreateUserAsync(role)).Actor);

        var page = RenderWithProviders<ApiReferencePage>();

        Assert.Equal("API reference", page.Find("h1").TextContent.Trim());
        var authentication = page.Find("[data-testid=api-authentication]").TextContent;
        Assert.Contains("Authorization: Bearer <key>", authentication);
        Assert.Contains("X-Api-Key: <key>", authentication);
        Assert.Contains("HTTP Basic", authentication);
        Assert.Contains("key id as user name", authentication);
        Assert.Equal("/openapi/v1.json", page.Find("[data-testid=openapi-link]").GetAttribute("href"));
    }

    [Fact]
    public async Task Endpoints_AreListedByTag_WithMethodPathSummaryAndScope()
    {
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var page = RenderWithProviders<ApiReferencePage>();

        var me = Row(page, "Me", "GET", "/api/v1/me");
        Assert.Contains("The caller: user, roles, key id and scopes", me);
        Assert.EndsWith("any", me);
        Assert.EndsWith("admin", Row(page, "Users", "POST", "/api/v1/users"));
        Assert.EndsWith("read", Row(page, "Key verification", "POST", "/api/v1/keys/verify"));
        Assert.EndsWith("write", Row(page, "Applications", "DELETE", "/api/v1/applications/{id}"));
        // The owner with a write key or an admin with an admin key (a policy of its own, not a named one).
        Assert.EndsWith("write or admin", Row(page, "Subscriptions", "POST", "/api/v1/subscriptions/{id}/unsubscribe"));
        Assert.Equal(app.Get<ApiCatalog>().Tags().Sum(t => t.Operations.Count), page.FindAll("[data-testid=api-operation]").Count);
    }

    private static string Row(IRenderedComponent<Bunit.Rendering.ContainerFragment> page, string tag, string method, string path)
    {
        var rows = page.FindAll($"[data-testid=api-tag][data-tag='{tag}'] [data-testid=api-operation]")
            .Where(r => r.QuerySelector(".api-method")!.TextContent.Trim() == method && r.QuerySelector(".api-ref-path")!.TextContent.Trim() == path)
            .ToList();
        Assert.True(rows.Count == 1, $"{method} {path} under {tag}: {rows.Count} rows");
        return string.Join(" ", rows[0].QuerySelectorAll("td").Select(td => td.TextContent.Trim()));
    }
}
