using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Quotas;
using Portal.Core.Features.Subscriptions;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Subscriptions;

public static class SubscriptionEndpoints
{
    public static void MapSubscriptionEndpoints(this IEndpointRouteBuilder app)
    {
        var subscriptions = app.MapApiGroup("/subscriptions", "Subscriptions");
        subscriptions.MapGet("/", List).RequirePermission(Permission.SubscriptionsRead)
            .WithName("ListSubscriptions")
            .WithSummary("Registrations, newest first: ?status=WAITING|APPROVED|REJECTED|UNSUBSCRIBED&applicationId=&productId=&accountId=&search=&sort=. Developers see their accounts' applications' ones");
        subscriptions.MapGet("/{id:guid}", Get).RequirePermission(Permission.SubscriptionsRead)
            .WithName("GetSubscription").WithSummary("One registration, with the reason of a rejection")
            .Produces<SubscriptionDto>();
        subscriptions.MapGet("/{id:guid}/usage", Usage).RequirePermission(Permission.SubscriptionsRead)
            .WithName("GetSubscriptionUsage")
            .WithSummary("The quota period's use as the limiter counts it now (rateLimit, quota {limit, used, remaining, resetAt}) and this UTC month's billable calls and cost so far. Developers their accounts' registrations, admins and read-only any")
            .Produces<SubscriptionUsageDto>();
        subscriptions.MapPost("/", Create).RequirePermission(Permission.SubscriptionsWrite)
            .WithName("CreateSubscription").WithSummary("WAITING, or APPROVED at once when the product needs no approval; 409 while one is open for the product")
            .Produces<SubscriptionDto>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        subscriptions.MapPost("/{id:guid}/approve", Approve).RequirePermission(Permission.SubscriptionsManage)
            .WithName("ApproveSubscription").WithSummary("Only from WAITING, else 409; the body is optional")
            .Produces<SubscriptionDto>().ProducesProblem(StatusCodes.Status409Conflict);
        subscriptions.MapPost("/{id:guid}/reject", Reject).RequirePermission(Permission.SubscriptionsManage)
            .WithName("RejectSubscription").WithSummary("Only from WAITING, else 409; {reason?} is shown to the developer")
            .Produces<SubscriptionDto>().ProducesProblem(StatusCodes.Status409Conflict);
        subscriptions.MapPost("/{id:guid}/unsubscribe", Unsubscribe).RequireAnyPermission(Permission.SubscriptionsWrite, Permission.SubscriptionsManage)
            .WithName("UnsubscribeSubscription").WithSummary("From WAITING or APPROVED, else 409: the application's owners, or admins for any")
            .Produces<SubscriptionDto>().ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Results<Ok<PagedResult<SubscriptionDto>>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] SubscriptionListQuery query, SubscriptionService subscriptions, HttpContext http, CancellationToken ct)
    {
        SubscriptionStatus? status = null;
        if (!string.IsNullOrWhiteSpace(query.Status))
        {
            if (!SubscriptionStatusText.TryParse(query.Status, out var s))
                return ResultHttp.InvalidQuery("status", "Status is WAITING, APPROVED, REJECTED or UNSUBSCRIBED.");
            status = s;
        }
        return (await subscriptions.ListAsync(http.ToActor(), query.ToQuery(status), ct)).ToTypedResult();
    }

    private static async Task<IResult> Get(Guid id, SubscriptionService subscriptions, HttpContext http, CancellationToken ct) =>
        (await subscriptions.GetAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> Usage(Guid id, SubscriptionUsageService usage, HttpContext http, CancellationToken ct) =>
        (await usage.GetAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> Create(CreateSubscription request, SubscriptionService subscriptions, HttpContext http, CancellationToken ct) =>
        (await subscriptions.CreateAsync(http.ToActor(), request, ct)).ToHttpResult(s => TypedResults.Created($"/api/v1/subscriptions/{s.Id}", s));

    // The body is optional: a bare POST approves or rejects without a reason.
    private static async Task<IResult> Approve(Guid id, DecideSubscription? request, SubscriptionService subscriptions, HttpContext http, CancellationToken ct) =>
        (await subscriptions.ApproveAsync(http.ToActor(), id, request ?? new DecideSubscription(), ct)).ToHttpResult();

    private static async Task<IResult> Reject(Guid id, DecideSubscription? request, SubscriptionService subscriptions, HttpContext http, CancellationToken ct) =>
        (await subscriptions.RejectAsync(http.ToActor(), id, request ?? new DecideSubscription(), ct)).ToHttpResult();

    private static async Task<IResult> Unsubscribe(Guid id, SubscriptionService subscriptions, HttpContext http, CancellationToken ct) =>
        (await subscriptions.UnsubscribeAsync(http.ToActor(), id, ct)).ToHttpResult();
}

/// <summary>The query string of <c>GET /api/v1/subscriptions</c>, bound as one (API.md, "Lists").</summary>
public sealed record SubscriptionListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "sort")] string? Sort = null,
    [property: FromQuery(Name = "status")] string? Status = null,
    [property: FromQuery(Name = "applicationId")] Guid? ApplicationId = null,
    [property: FromQuery(Name = "productId")] Guid? ProductId = null,
    [property: FromQuery(Name = "accountId")] Guid? AccountId = null)
{
    public SubscriptionQuery ToQuery(SubscriptionStatus? status) => new()
    {
        Page = Page, PageSize = PageSize, Search = Search, Sort = Sort, Status = status,
        ApplicationId = ApplicationId, ProductId = ProductId, AccountId = AccountId,
    };
}
