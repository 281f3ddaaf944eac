using Microsoft.AspNetCore.Authorization;

namespace Portal.Web.Infrastructure;

public static class ApiGroups
{
    /// <summary>A <c>/api/v1</c> group: authenticated by API key only, answering problem details.</summary>
    public static RouteGroupBuilder MapApiGroup(this IEndpointRouteBuilder app, string prefix, string tag) =>
        app.MapGroup("/api/v1" + prefix)
            .WithTags(tag)
            .RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = ApiKeyDefaults.Scheme })
            .DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
}
