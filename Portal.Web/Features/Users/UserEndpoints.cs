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
            .WithDescription(Usage.UsageEndpoints.CsvNote)
            .Produces<PagedResult<UserDto>>();
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

    internal static async Task<IResult> List(UserService users, HttpContext http, TimeProvider clock, CancellationToken ct,
        int page = 1, int pageSize = 50, string? search = null, string? sort = null, string? role = null, string? status = null, string? format = null)
    {
        UserStatus? parsedStatus = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            if (!Enum.TryParse<UserStatus>(status, ignoreCase: true, out var s) || !Enum.IsDefined(s))
                return ResultHttp.Invalid("status", "Status is 'Active' or 'Inactive'.");
            parsedStatus = s;
        }
        var query = new UserQuery { Page = page, PageSize = pageSize, Search = search, Sort = sort, Role = role, Status = parsedStatus };
        return ExportEndpoints.WantsCsv(http, format)
            ? (await users.ExportAsync(http.ToActor(), query, ct)).ToHttpResult(rows => ExportEndpoints.UsersFile(rows, clock.GetUtcNow()))
            : (await users.ListAsync(http.ToActor(), query, ct)).ToHttpResult();
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
