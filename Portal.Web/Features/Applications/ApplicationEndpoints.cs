using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Applications;

public static class ApplicationEndpoints
{
    public static void MapApplicationEndpoints(this IEndpointRouteBuilder app)
    {
        var apps = app.MapApiGroup("/applications", "Applications");
        apps.MapGet("/", List).RequirePermission(Permission.ApplicationsRead)
            .WithName("ListApplications").WithSummary("Developers: their accounts' applications; admins and read-only: all. ?accountId=&search=&sort=");
        apps.MapPost("/", Create).RequirePermission(Permission.ApplicationsWrite)
            .WithName("CreateApplication").WithSummary("Creates the application and its first key; the full key is in this answer only; 409 for a taken name or a full account")
            .Produces<ApplicationCreatedResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        apps.MapGet("/{id:guid}", Get).RequirePermission(Permission.ApplicationsRead)
            .WithName("GetApplication").WithSummary("One application; an application key may read its own")
            .Produces<ApplicationDto>();
        apps.MapPatch("/{id:guid}", Update).RequirePermission(Permission.ApplicationsWrite)
            .WithName("UpdateApplication").WithSummary("Name and description; 409 for a taken name")
            .Produces<ApplicationDto>().ProducesProblem(StatusCodes.Status409Conflict);
        apps.MapDelete("/{id:guid}", Delete).RequirePermission(Permission.ApplicationsWrite)
            .WithName("DeleteApplication").WithSummary("Revokes all its keys and deletes it")
            .Produces(StatusCodes.Status204NoContent);
        apps.MapGet("/{id:guid}/keys", ListKeys).RequirePermission(Permission.ApplicationsRead)
            .WithName("ListApplicationKeys").WithSummary("The application's keys, never their secrets")
            .Produces<PagedResult<ApplicationKeyDto>>();
        apps.MapPost("/{id:guid}/keys", GenerateKey).RequirePermission(Permission.ApplicationsWrite)
            .WithName("GenerateApplicationKey").WithSummary("A new key; the full key is in this answer only; 409 at the most active keys allowed")
            .Produces<ApplicationKeyIssued>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        apps.MapPost("/{id:guid}/keys/{keyId:guid}/revoke", RevokeKey).RequirePermission(Permission.ApplicationsWrite)
            .WithName("RevokeApplicationKey").WithSummary("Idempotent; a revoked key is never reactivated")
            .Produces(StatusCodes.Status204NoContent);
    }

    private static async Task<Results<Ok<PagedResult<ApplicationDto>>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] ApplicationListQuery query, ApplicationService apps, HttpContext http, CancellationToken ct) =>
        (await apps.ListAsync(http.ToActor(), query.ToQuery(), ct)).ToTypedResult();

    private static async Task<IResult> Create(CreateApplication request, ApplicationService apps, HttpContext http, CancellationToken ct) =>
        (await apps.CreateAsync(http.ToActor(), request, ct)).ToHttpResult(c => TypedResults.Created($"/api/v1/applications/{c.Application.Id}", new ApplicationCreatedResponse(c)));

    private static async Task<IResult> Get(Guid id, ApplicationService apps, HttpContext http, CancellationToken ct) =>
        (await apps.GetAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> Update(Guid id, UpdateApplication request, ApplicationService apps, HttpContext http, CancellationToken ct) =>
        (await apps.UpdateAsync(http.ToActor(), id, request, ct)).ToHttpResult();

    private static async Task<IResult> Delete(Guid id, ApplicationService apps, HttpContext http, CancellationToken ct) =>
        (await apps.DeleteAsync(http.ToActor(), id, ct)).ToNoContent();

    private static async Task<IResult> ListKeys(Guid id, ApplicationService apps, HttpContext http, CancellationToken ct, int page = 1, int pageSize = 50) =>
        (await apps.ListKeysAsync(http.ToActor(), id, new PageQuery { Page = page, PageSize = pageSize }, ct)).ToHttpResult();

    private static async Task<IResult> GenerateKey(Guid id, GenerateApplicationKey? request, ApplicationService apps, HttpContext http, CancellationToken ct) =>
        (await apps.GenerateKeyAsync(http.ToActor(), id, request ?? new GenerateApplicationKey(), ct))
            .ToHttpResult(k => TypedResults.Created($"/api/v1/applications/{id}/keys", k));

    private static async Task<IResult> RevokeKey(Guid id, Guid keyId, ApplicationService apps, HttpContext http, CancellationToken ct) =>
        (await apps.RevokeKeyAsync(http.ToActor(), id, keyId, ct)).ToNoContent();
}

/// <summary>
/// The answer to <c>POST /api/v1/applications</c>: the application's own fields (as <c>GET</c> gives them), its first
/// key's full secret as <c>key</c> (this one time) and that key's details as <c>apiKey</c>.
/// </summary>
public sealed record ApplicationCreatedResponse : ApplicationDto
{
    public ApplicationCreatedResponse(ApplicationCreated created) : base(created.Application)
    {
        Key = created.Key.Key;
        ApiKey = created.Key; // serialized as its declared type: the details, not the secret a second time
    }

    public string Key { get; }

    public ApplicationKeyDto ApiKey { get; }

    // Keeps the secret out of any log line that formats this record.
    public override string ToString() => $"ApplicationCreatedResponse {{ Id = {Id}, Key = {ApiKey.MaskedKey} }}";
}

/// <summary>The query string of <c>GET /api/v1/applications</c>, bound as one (API.md, "Lists").</summary>
public sealed record ApplicationListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "sort")] string? Sort = null,
    [property: FromQuery(Name = "accountId")] Guid? AccountId = null)
{
    public ApplicationQuery ToQuery() => new() { Page = Page, PageSize = PageSize, Search = Search, Sort = Sort, AccountId = AccountId };
}
