using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Web.Features.Exports;
using Portal.Web.Features.Usage;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Audit;

public static class AuditEndpoints
{
    public static void MapAuditEndpoints(this IEndpointRouteBuilder app) =>
        app.MapApiGroup("/audit", "Audit")
            .MapGet("/", List)
            .RequirePermission(Permission.AuditRead)
            .WithName("ListAudit").WithSummary("Audit entries, newest first; ?actor=&action=&from=&to=; ?format=csv for every matching entry")
            .WithDescription(UsageEndpoints.CsvNote);

    internal static async Task<Results<Ok<PagedResult<AuditEntryDto>>, Csv.CsvFile<AuditEntryDto>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] AuditListQuery query, AuditService audit, HttpContext http, TimeProvider clock, CancellationToken ct)
    {
        if (ExportEndpoints.WantsCsv(http, query.Format))
        {
            var rows = await audit.ExportAsync(http.ToActor(), query.ToQuery(), ct);
            if (rows.Error is { } failed) return failed is ValidationError v ? v.ToValidationProblem() : failed.ToProblemResult();
            return ExportEndpoints.AuditLogFile(rows.Value, clock.GetUtcNow());
        }
        var page = await audit.ListAsync(http.ToActor(), query.ToQuery(), ct);
        if (page.Error is { } error) return error is ValidationError invalid ? invalid.ToValidationProblem() : error.ToProblemResult();
        return TypedResults.Ok(page.Value);
    }
}

/// <summary>The query string of <c>GET /api/v1/audit</c> (and the page's export link), bound as one (API.md, "Lists").</summary>
public sealed record AuditListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "actor")] string? Actor = null,
    [property: FromQuery(Name = "action")] string? Action = null,
    [property: FromQuery(Name = "from")] DateTimeOffset? From = null,
    [property: FromQuery(Name = "to")] DateTimeOffset? To = null,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "sort")] string? Sort = null,
    [property: FromQuery(Name = "format")] string? Format = null)
{
    public AuditQuery ToQuery() =>
        new() { Page = Page, PageSize = PageSize, Actor = Actor, Action = Action, From = From, To = To, Search = Search, Sort = Sort };
}
