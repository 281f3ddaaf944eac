using System.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Portal.Web.Features.ApiReference;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Every problem answer of the API has a status, a title and a detail that says what to do, the framework's own
/// included: no endpoint for the address or the method, a body that is not JSON, a body too large. Those come as a
/// bare status (through status-code pages or the authentication handler); <see cref="Complete"/> gives them a detail.
/// </summary>
public static class ApiProblems
{
    public static bool IsApi(HttpContext http) => http.Request.Path.StartsWithSegments("/api");

    /// <summary>The <c>CustomizeProblemDetails</c> of every problem written: an API problem without a detail gets one.</summary>
    public static void Complete(ProblemDetailsContext context)
    {
        if (!IsApi(context.HttpContext)) return;
        context.ProblemDetails.Detail ??= DetailFor(context.HttpContext, context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode);
    }

    /// <summary>What an answer of <paramref name="status"/> to this request means, when nothing more specific was said.</summary>
    public static string DetailFor(HttpContext http, int status) => status switch
    {
        StatusCodes.Status404NotFound when http.GetEndpoint() is null =>
            $"No endpoint answers {http.Request.Method} {http.Request.Path}. Check the address (ids are GUIDs); {ApiCatalog.OpenApiDocument} lists every endpoint.",
        StatusCodes.Status405MethodNotAllowed =>
            $"{http.Request.Method} is not allowed on {http.Request.Path}; it takes {http.Response.Headers.Allow}.",
        _ => DetailFor(status) ?? $"The request was answered {status} {ReasonPhrases.GetReasonPhrase(status)}.",
    };

    /// <summary>The detail of a status that means the same whatever the request; null for one without a fixed meaning here.</summary>
    public static string? DetailFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "The request could not be read.",
        StatusCodes.Status401Unauthorized => "Send an API key: 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.",
        StatusCodes.Status403Forbidden => "The key's owner or its scopes do not allow this.",
        StatusCodes.Status404NotFound => "There is nothing at this address.",
        StatusCodes.Status413PayloadTooLarge => RequestSizeLimit.Detail(RequestSizeLimit.MaxBodyBytes),
        StatusCodes.Status415UnsupportedMediaType => "Send the body as JSON, with 'Content-Type: application/json'.",
        StatusCodes.Status429TooManyRequests => "Too many requests: wait as long as Retry-After says, then try again.",
        StatusCodes.Status500InternalServerError => "Something went wrong on the server; the traceId finds it in the server's log.",
        StatusCodes.Status503ServiceUnavailable => "The service cannot answer at the moment; try again shortly.",
        _ => null,
    };
}

/// <summary>
/// Writes API problems that the framework's writer refuses because the client's Accept header names no JSON (a browser
/// opening an API address): the API answers problem details whatever was asked for, rather than plain text or, from
/// the authentication handler, an error. Registered after the framework's writer, so it only takes what that one leaves.
/// </summary>
internal sealed class ApiProblemWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => ApiProblems.IsApi(context.HttpContext);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        _ = TypedResults.Problem(problem); // fills the type and title of the status, as the framework's writer does
        ApiProblems.Complete(context);
        problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? http.TraceIdentifier);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json"));
    }
}
