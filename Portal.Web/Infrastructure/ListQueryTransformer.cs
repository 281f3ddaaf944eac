using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Portal.Core.Common;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Describes the query parameters every list shares (API.md, "Lists"), on whichever operation takes them: one rule
/// instead of a description on each list endpoint. The bounds are <see cref="PageQuery"/>'s, which the API enforces.
/// </summary>
internal sealed class ListQueryTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            if (parameter.In != ParameterLocation.Query || parameter.Schema is not OpenApiSchema schema) continue;
            switch (parameter.Name)
            {
                case "page":
                    parameter.Description ??= "The page to answer, from 1.";
                    (schema.Minimum, schema.Maximum) = ("1", PageQuery.MaxPage.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case "pageSize":
                    parameter.Description ??= $"Items per page, 1 to {PageQuery.MaxPageSize}.";
                    (schema.Minimum, schema.Maximum) = ("1", PageQuery.MaxPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case "search":
                    parameter.Description ??= "Only the items that contain this text (case-insensitive), at most 200 characters.";
                    schema.MaxLength = 200;
                    break;
                case "sort":
                    parameter.Description ??= "The field to order by, with '-' before it for descending (e.g. 'name', '-createdAt'); unknown ones give the default order.";
                    schema.MaxLength = 50;
                    break;
            }
        }
        return Task.CompletedTask;
    }
}
