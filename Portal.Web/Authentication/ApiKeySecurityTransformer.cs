using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Portal.Web.Infrastructure;

namespace Portal.Web.Authentication;

/// <summary>
/// Describes API-key authentication in the OpenAPI document: the schemes once, and the requirement on each operation
/// that asks for a key, so that open ones (<c>/healthz</c>, verification when anonymous calls are allowed) say so.
/// </summary>
internal sealed class ApiKeySecurityTransformer : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    private static readonly string[] Schemes = ["bearer", "apiKey", "basic"];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Info.Title = "Portal API";
        document.Info.Description = "API management portal. Authenticate with an API key: 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "Authorization: Bearer <key>",
        };
        document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = ApiKeyDefaults.HeaderName,
        };
        document.Components.SecuritySchemes["basic"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "basic", Description = "Application keys only: user name = key id, password = key",
        };
        return Task.CompletedTask;
    }

    /// <summary>Any one of the schemes will do: each is a requirement of its own (OpenAPI reads the list as alternatives).</summary>
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any()) return Task.CompletedTask;
        operation.Security ??= [];
        foreach (var scheme in Schemes)
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
        return Task.CompletedTask;
    }
}
