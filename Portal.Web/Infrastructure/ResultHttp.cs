using System.Text.Json.Serialization.Metadata;
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

    public static IResult ToNoContent(this Result<Unit> result) => result.ToHttpResult(_ => TypedResults.NoContent());

    public static IResult ToProblem(this Error error) => error switch
    {
        ValidationError v => TypedResults.ValidationProblem(v.Errors, v.Detail, title: v.Title),
        NotFoundError => TypedResults.Problem(error.Detail, statusCode: StatusCodes.Status404NotFound, title: error.Title),
        ForbiddenError => TypedResults.Problem(error.Detail, statusCode: StatusCodes.Status403Forbidden, title: error.Title),
        ConflictError => TypedResults.Problem(error.Detail, statusCode: StatusCodes.Status409Conflict, title: error.Title),
        _ => TypedResults.Problem(error.Detail, statusCode: StatusCodes.Status400BadRequest, title: error.Title),
    };

    public static IResult Invalid(string field, string message) => ValidationError.For(field, message).ToProblem();
}
