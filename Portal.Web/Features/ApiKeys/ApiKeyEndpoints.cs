using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.ApiKeys;

public static class ApiKeyEndpoints
{
    public static void MapApiKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var keys = app.MapApiGroup("/api-keys", "API keys");
        keys.MapGet("/", List).RequirePermission(Permission.ApiKeysRead)
            .WithName("ListApiKeys").WithSummary("Personal keys, paged: your own; admins and read-only see all. ?search=&status=&ownerId=&sort=");
        keys.MapGet("/metrics", Metrics).RequirePermission(Permission.ApiKeysRead)
            .WithName("GetApiKeyMetrics").WithSummary("Total, active, expired, revoked keys and calls today")
            .Produces<ApiKeyMetrics>();
        keys.MapPost("/", Create).RequirePermission(Permission.ApiKeysWrite)
            .WithName("CreateApiKey").WithSummary("Issues a key; the full key is in this answer only; 409 when the owner has a key of that name")
            .Produces<ApiKeyIssued>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        keys.MapGet("/{id:guid}", Get).RequirePermission(Permission.ApiKeysRead)
            .WithName("GetApiKey").WithSummary("One key, never its secret")
            .Produces<ApiKeyDto>();
        keys.MapGet("/{id:guid}/usage", Usage).RequirePermission(Permission.ApiKeysRead)
            .WithName("GetApiKeyUsage").WithSummary("Calls per hour or day: ?from=&to=&interval=hour|day")
            .Produces<ApiKeyUsage>();
        keys.MapPost("/{id:guid}/revoke", Revoke).RequirePermission(Permission.ApiKeysWrite)
            .WithName("RevokeApiKey").WithSummary("Idempotent; a revoked key is never reactivated")
            .Produces(StatusCodes.Status204NoContent);
        keys.MapPost("/{id:guid}/regenerate", Regenerate).RequirePermission(Permission.ApiKeysWrite)
            .WithName("RegenerateApiKey").WithSummary("New secret, same id, name, scopes and expiry; optional grace period for the old one; 409 for a revoked or expired key")
            .Produces<ApiKeyIssued>().ProducesProblem(StatusCodes.Status409Conflict);
        keys.MapDelete("/{id:guid}", Delete).RequirePermission(Permission.ApiKeysWrite)
            .WithName("DeleteApiKey").WithSummary("Deletes the key; it stops working at once")
            .Produces(StatusCodes.Status204NoContent);
    }

    private static async Task<Results<Ok<PagedResult<ApiKeyDto>>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] ApiKeyListQuery query, ApiKeyService keys, HttpContext http, CancellationToken ct)
    {
        ApiKeyStatus? status = null;
        if (!string.IsNullOrWhiteSpace(query.Status))
        {
            if (!Enum.TryParse<ApiKeyStatus>(query.Status, ignoreCase: true, out var s) || !Enum.IsDefined(s))
                return ResultHttp.InvalidQuery("status", "Status is 'Active', 'Revoked' or 'Expired'.");
            status = s;
        }
        return (await keys.ListAsync(http.ToActor(), query.ToQuery(status), ct)).ToTypedResult();
    }

    private static async Task<IResult> Metrics(ApiKeyService keys, HttpContext http, CancellationToken ct) =>
        (await keys.MetricsAsync(http.ToActor(), ct)).ToHttpResult();

    private static async Task<IResult> Create(CreateApiKey request, ApiKeyService keys, HttpContext http, CancellationToken ct) =>
        (await keys.CreateAsync(http.ToActor(), request, ct)).ToHttpResult(k => TypedResults.Created($"/api/v1/api-keys/{k.Id}", k));

    private static async Task<IResult> Get(Guid id, ApiKeyService keys, HttpContext http, CancellationToken ct) =>
        (await keys.GetAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> Usage(Guid id, ApiKeyService keys, HttpContext http, CancellationToken ct,
        DateTimeOffset? from = null, DateTimeOffset? to = null, string? interval = null) =>
        (await keys.UsageAsync(http.ToActor(), id, new UsageQuery { From = from, To = to, Interval = interval }, ct)).ToHttpResult();

    private static async Task<IResult> Revoke(Guid id, ApiKeyService keys, HttpContext http, CancellationToken ct) =>
        (await keys.RevokeAsync(http.ToActor(), id, ct)).ToNoContent();

    private static async Task<IResult> Regenerate(Guid id, RegenerateApiKey? request, ApiKeyService keys, HttpContext http, CancellationToken ct) =>
        (await keys.RegenerateAsync(http.ToActor(), id, request ?? new RegenerateApiKey(), ct)).ToHttpResult();

    private static async Task<IResult> Delete(Guid id, ApiKeyService keys, HttpContext http, CancellationToken ct) =>
        (await keys.DeleteAsync(http.ToActor(), id, ct)).ToNoContent();
}

/// <summary>The query string of <c>GET /api/v1/api-keys</c>, bound as one (API.md, "Lists").</summary>
public sealed record ApiKeyListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "sort")] string? Sort = null,
    [property: FromQuery(Name = "ownerId")] Guid? OwnerId = null,
    [property: FromQuery(Name = "status")] string? Status = null)
{
    public ApiKeyQuery ToQuery(ApiKeyStatus? status) =>
        new() { Page = Page, PageSize = PageSize, Search = Search, Sort = Sort, OwnerId = OwnerId, Status = status };
}
