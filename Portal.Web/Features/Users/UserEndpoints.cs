using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Features.Users;
using Portal.Web.Features.Exports;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Users;

public static class UserEndpoints
{
    public static void MapMeEndpoints(this IEndpointRouteBuilder app) =>
        app.MapApiGroup("/me", "Me")
            .MapGet("/", async (UserService users, HttpContext http, CancellationToken ct) =>
                (await users.GetMeAsync(http.ToActor(), ct)).ToHttpResult(ApiJsonContext.Default.MeDto))
            .RequirePermission(Permission.Self)
            .WithName("GetMe").WithSummary("The caller: user, roles, key id and scopes")
            .Produces<MeDto>();

    public static void MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapApiGroup("/users", "Users");
        users.MapGet("/", List).RequirePermission(Permission.UsersRead)
            .WithName("ListUsers").WithSummary("Users, paged; ?search=&role=&status=&sort=; ?format=csv for every matching user")
            .WithDescription(Usage.UsageEndpoints.CsvNote);
        users.MapGet("/{id:guid}", Get).RequirePermission(Permission.UsersRead).WithName("GetUser").WithSummary("One user with roles, status and last login")
            .Produces<UserDto>();
        users.MapPost("/", Create).RequirePermission(Permission.UsersCreate).WithName("CreateUser").WithSummary("Super-admin only; 409 when the email is taken")
            .Produces<UserDto>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        users.MapPatch("/{id:guid}", Update).RequirePermission(Permission.UsersEdit).WithName("UpdateUser").WithSummary("{displayName?, roles?, status?}; only a super-admin grants or takes away super-admin, and nobody deactivates themselves; 409 for the last active super-admin")
            .Produces<UserDto>().ProducesProblem(StatusCodes.Status409Conflict);
        users.MapPost("/{id:guid}/reset-password", ResetPassword).RequirePermission(Permission.UsersResetPassword)
            .WithName("ResetUserPassword").WithSummary("Super-admin only, never your own")
            .Produces(StatusCodes.Status204NoContent);
        users.MapDelete("/{id:guid}", Delete).RequirePermission(Permission.UsersDelete)
            .WithName("DeleteUser").WithSummary("Super-admin only, never yourself; 409 for the last active super-admin")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status409Conflict);
    }

    internal static async Task<Results<Ok<PagedResult<UserDto>>, Csv.CsvFile<UserDto>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] UserListQuery query, UserService users, HttpContext http, TimeProvider clock, CancellationToken ct)
    {
        UserStatus? status = null;
        if (!string.IsNullOrWhiteSpace(query.Status))
        {
            if (!Enum.TryParse<UserStatus>(query.Status, ignoreCase: true, out var s) || !Enum.IsDefined(s))
                return ResultHttp.InvalidQuery("status", "Status is 'Active' or 'Inactive'.");
            status = s;
        }
        if (ExportEndpoints.WantsCsv(http, query.Format))
        {
            var rows = await users.ExportAsync(http.ToActor(), query.ToQuery(status), ct);
            if (rows.Error is { } failed) return failed is ValidationError v ? v.ToValidationProblem() : failed.ToProblemResult();
            return ExportEndpoints.UsersFile(rows.Value, clock.GetUtcNow());
        }
        var page = await users.ListAsync(http.ToActor(), query.ToQuery(status), ct);
        if (page.Error is { } error) return error is ValidationError invalid ? invalid.ToValidationProblem() : error.ToProblemResult();
        return TypedResults.Ok(page.Value);
    }

    private static async Task<IResult> Get(Guid id, UserService users, HttpContext http, CancellationToken ct) =>
        (await users.GetAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> Create(CreateUser request, UserService users, HttpContext http, CancellationToken ct) =>
        (await users.CreateAsync(http.ToActor(), request, ct)).ToHttpResult(u => TypedResults.Created($"/api/v1/users/{u.Id}", u));

    private static async Task<IResult> Update(Guid id, UpdateUser request, UserService users, HttpContext http, CancellationToken ct) =>
        (await users.UpdateAsync(http.ToActor(), id, request, ct)).ToHttpResult();

    private static async Task<IResult> ResetPassword(Guid id, ResetPassword request, UserService users, HttpContext http, CancellationToken ct) =>
        (await users.ResetPasswordAsync(http.ToActor(), id, request, ct)).ToNoContent();

    private static async Task<IResult> Delete(Guid id, UserService users, HttpContext http, CancellationToken ct) =>
        (await users.DeleteAsync(http.ToActor(), id, ct)).ToNoContent();
}

/// <summary>The query string of <c>GET /api/v1/users</c> (and the page's export link), bound as one (API.md, "Lists").</summary>
public sealed record UserListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "sort")] string? Sort = null,
    [property: FromQuery(Name = "role")] string? Role = null,
    [property: FromQuery(Name = "status")] string? Status = null,
    [property: FromQuery(Name = "format")] string? Format = null)
{
    public UserQuery ToQuery(UserStatus? status) => new() { Page = Page, PageSize = PageSize, Search = Search, Sort = Sort, Role = Role, Status = status };
}
