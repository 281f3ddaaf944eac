using System.Text.Json;
using Portal.Tests.Support;
using Portal.Web.Features.ApiReference;

namespace Portal.Tests.Web.Api;

/// <summary>The catalog behind /api-reference lists exactly what the OpenAPI document describes, each call with a summary.</summary>
public sealed class ApiCatalogTests(PortalApiFactory app) : IClassFixture<PortalApiFactory>
{
    private IEnumerable<ApiOperation> Operations => app.Get<ApiCatalog>().Tags().SelectMany(t => t.Operations);

    [Fact]
    public async Task Catalog_ListsEveryOperationOfTheOpenApiDocument_AndNoOther()
    {
        var json = await app.AnonymousClient().GetStringAsync(ApiCatalog.OpenApiDocument);
        var documented = JsonDocument.Parse(json).RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(op => op.Name is "get" or "head" or "post" or "put" or "patch" or "delete")
                .Select(op => $"{op.Name.ToUpperInvariant()} {path.Name}"))
            .Order().ToList();

        var listed = Operations.Select(o => $"{o.Method} {o.Path}").Order().ToList();

        Assert.NotEmpty(listed);
        Assert.Equal(documented, listed);
    }

    [Fact]
    public void EveryOperation_HasASummary()
    {
        var without = Operations.Where(o => string.IsNullOrWhiteSpace(o.Summary)).Select(o => $"{o.Method} {o.Path}").ToList();
        Assert.True(without.Count == 0, "Without a summary: " + string.Join(", ", without));
    }

    [Fact]
    public void TagsKeepTheOrderTheApiIsMappedIn()
    {
        var tags = app.Get<ApiCatalog>().Tags().Select(t => t.Name).ToList();
        Assert.Equal(tags.Distinct().Count(), tags.Count);
        Assert.True(tags.IndexOf("Me") < tags.IndexOf("Users") && tags.IndexOf("Users") < tags.IndexOf("Subscriptions"), string.Join(", ", tags));
    }
}
