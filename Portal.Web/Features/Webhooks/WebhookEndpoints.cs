using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Webhooks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Webhooks;

public static class WebhookEndpoints
{
    public static void MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapApiGroup("/webhooks", "Webhooks");
        hooks.MapGet("/event-types", EventTypes).RequirePermission(Permission.WebhookEventTypesRead)
            .WithName("ListWebhookEventTypes").WithSummary("The event catalogue: each type's name, group and description; any key with the read scope")
            .Produces<WebhookEventType[]>();
        hooks.MapGet("/", List).RequirePermission(Permission.WebhooksRead)
            .WithName("ListWebhooks").WithSummary("Endpoints, newest first, each with its last delivery; never a secret: ?search=");
        hooks.MapPost("/", Create).RequirePermission(Permission.WebhooksManage)
            .WithName("CreateWebhook").WithSummary("{url, description?, eventTypes[], enabled}; the signing secret (whsec_…) is in this answer only")
            .Produces<WebhookCreated>(StatusCodes.Status201Created);
        hooks.MapGet("/{id:guid}", Get).RequirePermission(Permission.WebhooksRead)
            .WithName("GetWebhook").WithSummary("One endpoint, its secret masked")
            .Produces<WebhookEndpointDto>();
        hooks.MapPatch("/{id:guid}", Update).RequirePermission(Permission.WebhooksManage)
            .WithName("UpdateWebhook").WithSummary("Changes only the fields sent; eventTypes, when sent, is the whole new list")
            .Produces<WebhookEndpointDto>();
        hooks.MapDelete("/{id:guid}", Delete).RequirePermission(Permission.WebhooksManage)
            .WithName("DeleteWebhook").WithSummary("Deletes the endpoint and its delivery log")
            .Produces(StatusCodes.Status204NoContent);
        hooks.MapPost("/{id:guid}/rotate-secret", RotateSecret).RequirePermission(Permission.WebhooksManage)
            .WithName("RotateWebhookSecret").WithSummary("A new signing secret, in this answer only; the old one stops signing at once")
            .Produces<WebhookSecret>();
        hooks.MapPost("/{id:guid}/reveal-secret", RevealSecret).RequirePermission(Permission.WebhooksManage)
            .WithName("RevealWebhookSecret").WithSummary("The current signing secret; every reveal is audited; 409 when it can no longer be decrypted")
            .Produces<WebhookSecret>().ProducesProblem(StatusCodes.Status409Conflict);
        hooks.MapPost("/{id:guid}/test", SendTest).RequirePermission(Permission.WebhooksManage)
            .WithName("SendWebhookTest").WithSummary("Queues a webhook.test event for this endpoint → 202 with the delivery; 409 when the endpoint is disabled")
            .Produces<WebhookDeliveryDto>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
        hooks.MapGet("/{id:guid}/deliveries", Deliveries).RequirePermission(Permission.WebhooksRead)
            .WithName("ListWebhookDeliveries").WithSummary("Delivery log, newest first, with attempts, status codes and next retry: ?status=Pending|Succeeded|Failed");
        hooks.MapPost("/{id:guid}/deliveries/{deliveryId:guid}/retry", Retry).RequirePermission(Permission.WebhooksManage)
            .WithName("RetryWebhookDelivery").WithSummary("Sends the delivery again within seconds → 202 with the delivery; 409 when the endpoint is disabled")
            .Produces<WebhookDeliveryDto>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static IResult EventTypes(WebhookService webhooks, HttpContext http) =>
        webhooks.EventTypes(http.ToActor()).ToHttpResult();

    private static async Task<Results<Ok<PagedResult<WebhookEndpointDto>>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] WebhookListQuery query, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.ListAsync(http.ToActor(), query.ToQuery(), ct)).ToTypedResult();

    private static async Task<IResult> Create(CreateWebhook request, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.CreateAsync(http.ToActor(), request, ct)).ToHttpResult(w => TypedResults.Created($"/api/v1/webhooks/{w.Id}", w));

    private static async Task<IResult> Get(Guid id, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.GetAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> Update(Guid id, UpdateWebhook request, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.UpdateAsync(http.ToActor(), id, request, ct)).ToHttpResult();

    private static async Task<IResult> Delete(Guid id, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.DeleteAsync(http.ToActor(), id, ct)).ToNoContent();

    private static async Task<IResult> RotateSecret(Guid id, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.RotateSecretAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> RevealSecret(Guid id, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.RevealSecretAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> SendTest(Guid id, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.SendTestAsync(http.ToActor(), id, ct)).ToHttpResult(d => TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries", d));

    private static async Task<Results<Ok<PagedResult<WebhookDeliveryDto>>, ValidationProblem, ProblemHttpResult>> Deliveries(
        Guid id, [AsParameters] WebhookDeliveryListQuery query, WebhookService webhooks, HttpContext http, CancellationToken ct)
    {
        WebhookDeliveryStatus? status = null;
        if (!string.IsNullOrWhiteSpace(query.Status))
        {
            if (!Enum.TryParse<WebhookDeliveryStatus>(query.Status, ignoreCase: true, out var s) || !Enum.IsDefined(s))
                return ResultHttp.InvalidQuery("status", "Status is 'Pending', 'Succeeded' or 'Failed'.");
            status = s;
        }
        return (await webhooks.ListDeliveriesAsync(http.ToActor(), id, query.ToQuery(status), ct)).ToTypedResult();
    }

    private static async Task<IResult> Retry(Guid id, Guid deliveryId, WebhookService webhooks, HttpContext http, CancellationToken ct) =>
        (await webhooks.RetryDeliveryAsync(http.ToActor(), id, deliveryId, ct)).ToHttpResult(d => TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries", d));
}

/// <summary>The query string of <c>GET /api/v1/webhooks</c>, bound as one (API.md, "Lists").</summary>
public sealed record WebhookListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "search")] string? Search = null)
{
    public PageQuery ToQuery() => new() { Page = Page, PageSize = PageSize, Search = Search };
}

/// <summary>The query string of <c>GET /api/v1/webhooks/{id}/deliveries</c>, bound as one (API.md, "Lists").</summary>
public sealed record WebhookDeliveryListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "status")] string? Status = null)
{
    public WebhookDeliveryQuery ToQuery(WebhookDeliveryStatus? status) => new() { Page = Page, PageSize = PageSize, Status = status };
}
