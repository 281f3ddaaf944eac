using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Portal.Web.Infrastructure;

/// <summary>
/// A request the API cannot bind (a query value of the wrong type, a body that is not JSON) answers 400 problem details
/// that say what was wrong, as every other validation failure does, instead of an empty "Bad Request". Endpoints throw
/// <see cref="BadHttpRequestException"/> for these (<c>RouteHandlerOptions.ThrowOnBadRequest</c>); being handled here,
/// they are not logged as unhandled errors.
/// </summary>
internal sealed partial class BadRequestProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is not BadHttpRequestException bad || http.Response.HasStarted) return false;
        var problem = Describe(bad);
        http.Response.StatusCode = problem.Status ?? bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    internal static ProblemDetails Describe(BadHttpRequestException bad)
    {
        if (bad.StatusCode != StatusCodes.Status400BadRequest)
            return new ProblemDetails { Status = bad.StatusCode, Title = ReasonPhrase(bad.StatusCode), Detail = bad.Message };
        if (bad.InnerException is JsonException json)
        {
            var where = json.Path is { Length: > 0 } path ? $" at '{path}'" : "";
            return new ValidationProblemDetails
            {
                Status = 400, Title = "Validation failed", Detail = $"The request body is not valid JSON for this endpoint{where}.",
                Errors = { ["body"] = [json.Path is { Length: > 1 } p ? $"Invalid value at '{p}'." : "Not valid JSON."] },
            };
        }
        // The framework's own wording names C# types ("Failed to bind parameter \"DateTimeOffset? from\" from \"x\"."):
        // reworded to the parameter's name, as the other validation errors are keyed.
        if (BindFailure().Match(bad.Message) is { Success: true } bind)
        {
            var name = bind.Groups["name"].Value;
            return new ValidationProblemDetails
            {
                Status = 400, Title = "Validation failed", Detail = "One or more fields are invalid.",
                Errors = { [name] = [$"'{Shorten(bind.Groups["value"].Value)}' is not a valid value for '{name}'."] },
            };
        }
        if (bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase))
            return new ProblemDetails { Status = 400, Title = "Bad Request", Detail = "The request body is missing or is not JSON (send Content-Type: application/json)." };
        return new ProblemDetails { Status = 400, Title = "Bad Request", Detail = "The request could not be read." };
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);

    [GeneratedRegex("""^Failed to bind parameter "[^"]*?(?<name>\w+)" from "(?<value>[^"]*)"\.?$""")]
    private static partial Regex BindFailure();
}
