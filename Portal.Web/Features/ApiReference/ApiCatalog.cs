using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Portal.Web.Features.ApiReference;

/// <summary>One call of the REST API as the reference lists it.</summary>
/// <param name="Scope">The key scope the call needs: <c>read</c>, <c>write</c>, <c>admin</c>, "any" key, or "none" when it is open.</param>
public sealed record ApiOperation(string Method, string Path, string Summary, string Scope);

/// <summary>The calls that share an OpenAPI tag, in the order they are mapped.</summary>
public sealed record ApiTag(string Name, IReadOnlyList<ApiOperation> Operations);

/// <summary>
/// The REST API's endpoints, read at runtime from the same API descriptions the OpenAPI document is made of, so the
/// reference lists every endpoint the app maps and nothing it no longer does.
/// </summary>
public sealed class ApiCatalog(IApiDescriptionGroupCollectionProvider descriptions)
{
    public const string OpenApiDocument = "/openapi/v1.json";

    public IReadOnlyList<ApiTag> Tags() => Group(descriptions.ApiDescriptionGroups.Items.SelectMany(g => g.Items));

    private static IReadOnlyList<ApiTag> Group(IEnumerable<ApiDescription> apis) =>
        [.. apis
            .Where(api => api.HttpMethod is not null && api.RelativePath is not null)
            .Select(api => (Tag: TagOf(api), Operation: OperationOf(api)))
            .GroupBy(x => x.Tag, x => x.Operation, StringComparer.Ordinal)
            .Select(g => new ApiTag(g.Key, [.. g]))];

    private static ApiOperation OperationOf(ApiDescription api)
    {
        var metadata = api.ActionDescriptor.EndpointMetadata;
        var summary = metadata.OfType<IEndpointSummaryMetadata>().LastOrDefault()?.Summary
                      ?? metadata.OfType<IEndpointDescriptionMetadata>().LastOrDefault()?.Description
                      ?? "";
        return new ApiOperation(api.HttpMethod!, PathOf(api.RelativePath!), summary, ApiScopes.Needed(metadata));
    }

    /// <summary>The path as the OpenAPI document writes it: <c>/api/v1/users/{id}</c>, without route constraints.</summary>
    private static string PathOf(string relativePath) =>
        "/" + string.Join("/", RoutePatternFactory.Parse(relativePath).PathSegments.Select(segment => string.Concat(segment.Parts.Select(TextOf))));

    private static string TextOf(RoutePatternPart part) => part switch
    {
        RoutePatternLiteralPart literal => literal.Content,
        RoutePatternSeparatorPart separator => separator.Content,
        RoutePatternParameterPart parameter => $"{{{parameter.Name}}}",
        _ => "",
    };

    private static string TagOf(ApiDescription api) =>
        api.ActionDescriptor.EndpointMetadata.OfType<ITagsMetadata>().LastOrDefault()?.Tags.FirstOrDefault() ?? "Other";
}
