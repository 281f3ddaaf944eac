using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;
using Portal.Core.Common;

namespace Portal.Web.Infrastructure;

/// <summary>The one place where a service's expected failure becomes an HTTP status and problem details.</summary>
public static class ResultHttp
{
    public static IResult ToHttpResult<T>(this Result<T> result, Func<T, IResult> success) =>
        result.IsSuccess ? success(result.Value) : result.Error!.ToProblem();

    public static IResult ToHttpResult<T>(this Result<T> result) => result.ToHttpResult(v => TypedResults.Ok(v));

    /// <summary>200 with a body written by a compile-time contract (<see cref="ApiJsonContext"/>): for the hottest calls.</summary>
    public static IResult ToHttpResult<T>(this Result<T> result, JsonTypeInfo<T> contract) =>
        result.ToHttpResult(v => TypedResults.Json(v, contract));

    /// <summary>
    /// The same answer as <see cref="ToHttpResult{T}(Result{T})"/>, typed, so a handler declares (and OpenAPI documents)
    /// what it answers: 200 with the value, 400 for invalid input, or another problem.
    /// </summary>
    public static Results<Ok<T>, ValidationProblem, ProblemHttpResult> ToTypedResult<T>(this Result<T> result) =>
        result.IsSuccess ? TypedResults.Ok(result.Value)
        : result.Error is ValidationError v ? v.ToValidationProblem()
        : result.Error!.ToProblemResult();

    /// <summary>A query value the handler itself refuses (an unknown status), answered like the services' own 400s.</summary>
    public static ValidationProblem InvalidQuery(string field, string message) => ValidationError.For(field, message).ToValidationProblem();

    /// <summary>A failure other than invalid input (404, 403, 409, …) as problem details.</summary>
    public static ProblemHttpResult ToProblemResult(this Error error) => (ProblemHttpResult)error.ToProblem();

    public static IResult ToNoContent(this Result<Unit> result) => result.ToHttpResult(_ => TypedResults.NoContent());

    public static IResult ToProblem(this Error error) => error switch
    {
        ValidationError v => v.ToValidationProblem(),
        NotFoundError => TypedResults.Problem(error.Detail, statusCode: StatusCodes.Status404NotFound, title: error.Title),
        ForbiddenError => TypedResults.Problem(error.Detail, statusCode: StatusCodes.Status403Forbidden, title: error.Title),
        ConflictError => TypedResults.Problem(error.Detail, statusCode: StatusCodes.Status409Conflict, title: error.Title),
        _ => TypedResults.Problem(error.Detail, statusCode: StatusCodes.Status400BadRequest, title: error.Title),
    };

    public static ValidationProblem ToValidationProblem(this ValidationError v) => TypedResults.ValidationProblem(v.Errors, v.Detail, title: v.Title);

    public static IResult Invalid(string field, string message) => ValidationError.For(field, message).ToProblem();
}
