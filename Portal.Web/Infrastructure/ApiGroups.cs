using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Authentication;

namespace Portal.Web.Infrastructure;

public static class ApiGroups
{
    private const string ProblemJson = "application/problem+json";

    /// <summary>
    /// A <c>/api/v1</c> group: authenticated by API key only, answering problem details. Its endpoints declare their
    /// success (<c>.Produces&lt;T&gt;(201)</c>, <c>.Produces(204)</c>) and their own problems (<c>.ProducesProblem(409)</c>);
    /// the problems every API endpoint may answer are described here, once (<see cref="DescribeCommonProblems"/>).
    /// </summary>
    public static RouteGroupBuilder MapApiGroup(this IEndpointRouteBuilder app, string prefix, string tag)
    {
        var group = app.MapGroup("/api/v1" + prefix)
            .WithTags(tag)
            .RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = ApiKeyDefaults.Scheme })
            .DisableAntiforgery();
        // Finally: after the endpoint's own conventions, so its success is listed first and what it declares itself wins.
        ((IEndpointConventionBuilder)group).Finally(DescribeCommonProblems);
        return group;
    }

    /// <summary>
    /// 400 (a value that does not bind or validate), 401 (no key), 403 (the key may not), 404 where the address names
    /// an id (unknown, or not the caller's to see) and 413 where a body is taken: the conventions of API.md.
    /// </summary>
    private static void DescribeCommonProblems(EndpointBuilder endpoint)
    {
        Add(StatusCodes.Status400BadRequest, typeof(HttpValidationProblemDetails));
        Add(StatusCodes.Status401Unauthorized);
        Add(StatusCodes.Status403Forbidden);
        if (endpoint is RouteEndpointBuilder { RoutePattern.Parameters.Count: > 0 })
            Add(StatusCodes.Status404NotFound);
        if (endpoint.Metadata.OfType<IHttpMethodMetadata>().Any(m => m.HttpMethods.Any(TakesBody)))
            Add(StatusCodes.Status413PayloadTooLarge);

        void Add(int status, Type? type = null)
        {
            if (endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Any(m => m.StatusCode == status)) return;
            endpoint.Metadata.Add(new ProducesResponseTypeMetadata(status, type ?? typeof(ProblemDetails), [ProblemJson]));
        }
    }

    private static bool TakesBody(string method) => HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method);
}
