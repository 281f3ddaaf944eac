using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;

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
        // Another status (413 from the body limit, 408 from Kestrel): its usual title, and the API's wording where it has one.
        if (bad.StatusCode != StatusCodes.Status400BadRequest)
            return new ProblemDetails { Status = bad.StatusCode, Detail = ApiProblems.DetailFor(bad.StatusCode) ?? bad.Message };
        if (bad.InnerException is JsonException json)
        {
            var where = json.Path is { Length: > 0 } path ? $" at '{path}'" : "";
            return new ValidationProblemDetails
            {
                Status = 400, Title = "Validation failed", Detail = $"The request body is not valid JSON for this endpoint{where}.",
                Errors = { [FieldOf(json) ?? "body"] = [Explain(json)] },
            };
        }
        // The framework's own wording names C# types ("Failed to bind parameter \"DateTimeOffset? from\" from \"x\"."):
        // reworded to the parameter's name, as the other validation errors are keyed. A list's query record
        // ([AsParameters]) reports its property (OwnerId), the query string spells it in camelCase (ownerId).
        if (BindFailure().Match(bad.Message) is { Success: true } bind)
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(bind.Groups["name"].Value);
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

    /// <summary>
    /// The field a value of the wrong type was sent for, as the other validation errors name it: the JSON path without
    /// <c>$.</c>, camelCase (<c>displayName</c>, <c>plans[0].name</c>). None for the body as a whole or for text that is
    /// not JSON at all (the reader's own error, inside), whose position says nothing about a field.
    /// </summary>
    internal static string? FieldOf(JsonException json)
    {
        if (json.InnerException is JsonException || json.Path is not { Length: > 1 } path) return null;
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path[1..];
        return PathName().Replace(field, name => JsonNamingPolicy.CamelCase.ConvertName(name.Value));
    }

    private static string Explain(JsonException json)
    {
        if (json.InnerException is JsonException) return "Not valid JSON.";
        var expected = Expected(json);
        return (FieldOf(json), expected) switch
        {
            ({ } field, { } type) => $"'{field}' must be {type}.",
            ({ } field, null) => $"'{field}' has a value of the wrong type.",
            (null, { } type) => $"The body must be {type}.",
            (null, null) => "The body is not what this endpoint takes.",
        };
    }

    /// <summary>What the field takes, in JSON's words; the serializer's message names the .NET type, which callers need not know.</summary>
    private static string? Expected(JsonException json)
    {
        if (ConvertedTo().Match(json.Message) is not { Success: true } match) return null;
        var name = match.Groups["type"].Value;
        if (NullableOf().Match(name) is { Success: true } nullable) name = nullable.Groups["type"].Value;
        return name switch
        {
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            "System.Guid" => "a GUID",
            "System.DateTimeOffset" or "System.DateTime" => "an ISO 8601 date and time",
            "System.Byte" or "System.Int16" or "System.Int32" or "System.Int64" or "System.UInt16" or "System.UInt32" or "System.UInt64"
                or "System.Single" or "System.Double" or "System.Decimal" => "a number",
            _ when name.EndsWith("[]", StringComparison.Ordinal) || name.StartsWith("System.Collections.", StringComparison.Ordinal) => "an array",
            _ when typeof(Actor).Assembly.GetType(name) is { IsEnum: true } choice => "one of: " + string.Join(", ", Enum.GetNames(choice)),
            _ when typeof(Actor).Assembly.GetType(name) is not null => "an object",
            _ => null,
        };
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [GeneratedRegex(@"[^.\[\]]+(?=\.|\[|$)")]
    private static partial Regex PathName();

    [GeneratedRegex(@"could not be converted to (?<type>\S+?)\. Path:")]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"^System\.Nullable`1\[(?<type>.+)\]$")]
    private static partial Regex NullableOf();

    [GeneratedRegex("""^Failed to bind parameter "[^"]*?(?<name>\w+)" from "(?<value>[^"]*)"\.?$""")]
    private static partial Regex BindFailure();
}
