using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Features.Usage;
using Portal.Web.Features.Exports;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Usage;

public static class UsageEndpoints
{
    private const string Whose =
        "Keys with the read scope of super-admins, admins and read-only users see everyone's usage; a developer's key sees " +
        "the usage of the developer's own personal keys and of their accounts' applications.";

    internal const string CsvNote =
        "With ?format=csv or 'Accept: text/csv': every matching row (paging and cursor ignored) as an RFC 4180 CSV file " +
        "with a header row and UTC times, streamed as it is read.";

    public static void MapUsageEndpoints(this IEndpointRouteBuilder app)
    {
        var usage = app.MapApiGroup("/usage", "Usage");
        usage.MapGet("/summary", Summary).RequirePermission(Permission.UsageRead).RequireRateLimiting(ApiRateLimits.Expensive)
            .WithName("GetUsageSummary").WithSummary("Usage overview of a window: ?from=&to= (default the last 7 UTC days, today included)")
            .WithDescription("Calls and errors (with the error rate), key verifications valid and invalid with a count per code, " +
                "keys issued in the window and active now, a zero-filled series per hour (windows up to 48 hours) or per UTC day, " +
                "and the top 5 applications, products and keys. The window is widened to whole buckets and is at most 366 days; " +
                "'to' must be after 'from'. Verifications and products come from raw events, kept for the retention period. " + Whose)
            .Produces<UsageSummary>();
        usage.MapGet("/requests", Requests).RequirePermission(Permission.UsageRead).RequireRateLimiting(ApiRateLimits.Expensive)
            .WithName("ListUsageRequests").WithSummary("Request log, newest first: ?keyId=&applicationId=&productId=&status=&from=&to=&search=&cursor=; ?format=csv for every matching row")
            .WithDescription("Paged (pageSize at most 200) by cursor: pass the answer's 'nextCursor' as 'cursor' for the next page " +
                "(null on the last page); 'page' numbers reach the first 10,000 rows. 'total' is exact up to 10,000; beyond, it is " +
                "10000 and 'totalIsLowerBound' is true. 'status' is a code (404), a class (2xx, 4xx, 5xx) or 'error' (400 and above); " +
                "'from' is inclusive, 'to' exclusive; 'search' matches part of the route, ignoring case. " + CsvNote + " " + Whose);
        usage.MapGet("/requests/{id:long}", Request).RequirePermission(Permission.UsageRead)
            .WithName("GetUsageRequest").WithSummary("One request of the log; 404 also when it is not the caller's")
            .WithDescription("The request as the log's detail view shows it: path (query names only), client address, user agent, " +
                "request and response size and upstream latency (gateway calls), source, and for a refusal or failure an " +
                "'explanation' {code, text, fromPlanNow}: the rule and the numbers behind it (e.g. '10,000 of 10,000 calls this month, " +
                "resets 01/01/2027 00:00 UTC'), from figures recorded with the call ('limitValue', 'limitUsed', 'limitResetAt'); " +
                "'fromPlanNow' is true when part of it comes from the plan as it is now.")
            .Produces<UsageRequestDto>();
    }

    // Typed query values: a malformed one is a 400 naming the field through BadRequestProblems, as on every endpoint.
    private static async Task<IResult> Summary(UsageService usage, HttpContext http, CancellationToken ct,
        DateTimeOffset? from = null, DateTimeOffset? to = null) =>
        (await usage.SummaryAsync(http.ToActor(), new UsageSummaryQuery { From = from, To = to }, ct)).ToHttpResult();

    internal static async Task<Results<Ok<UsageRequestPage>, Csv.CsvFile<UsageRequestDto>, ValidationProblem, ProblemHttpResult>> Requests(
        [AsParameters] UsageRequestListQuery query, UsageService usage, HttpContext http, TimeProvider clock, CancellationToken ct)
    {
        if (ExportEndpoints.WantsCsv(http, query.Format))
        {
            var rows = await usage.ExportRequestsAsync(http.ToActor(), query.ToQuery(), ct);
            if (rows.Error is { } failed) return failed is ValidationError v ? v.ToValidationProblem() : failed.ToProblemResult();
            return ExportEndpoints.RequestLogFile(rows.Value, clock.GetUtcNow());
        }
        var page = await usage.ListRequestsAsync(http.ToActor(), query.ToQuery(), ct);
        if (page.Error is { } error) return error is ValidationError invalid ? invalid.ToValidationProblem() : error.ToProblemResult();
        return TypedResults.Ok(page.Value);
    }

    private static async Task<IResult> Request(long id, UsageService usage, HttpContext http, CancellationToken ct) =>
        (await usage.GetRequestAsync(http.ToActor(), id, ct)).ToHttpResult();
}

/// <summary>The query string of <c>GET /api/v1/usage/requests</c> (and the page's export link), bound as one (API.md, "Lists").</summary>
public sealed record UsageRequestListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "keyId")] Guid? KeyId = null,
    [property: FromQuery(Name = "applicationId")] Guid? ApplicationId = null,
    [property: FromQuery(Name = "productId")] Guid? ProductId = null,
    [property: FromQuery(Name = "status")] string? Status = null,
    [property: FromQuery(Name = "from")] DateTimeOffset? From = null,
    [property: FromQuery(Name = "to")] DateTimeOffset? To = null,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "cursor")] string? Cursor = null,
    [property: FromQuery(Name = "source")] string? Source = null,
    [property: FromQuery(Name = "format")] string? Format = null)
{
    public UsageRequestQuery ToQuery() => new()
    {
        Page = Page, PageSize = PageSize, KeyId = KeyId, ApplicationId = ApplicationId, ProductId = ProductId,
        Status = Status, From = From, To = To, Search = Search, Cursor = Cursor, Source = Source,
    };
}
