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
            .WithDescription(UsageEndpoints.CsvNote)
            .Produces<PagedResult<AuditEntryDto>>();

    internal static async Task<IResult> List(AuditService audit, HttpContext http, TimeProvider clock, CancellationToken ct,
        int page = 1, int pageSize = 50, string? actor = null, string? action = null,
        DateTimeOffset? from = null, DateTimeOffset? to = null, string? search = null, string? sort = null, string? format = null)
    {
        var query = new AuditQuery { Page = page, PageSize = pageSize, Actor = actor, Action = action, From = from, To = to, Search = search, Sort = sort };
        return ExportEndpoints.WantsCsv(http, format)
            ? (await audit.ExportAsync(http.ToActor(), query, ct)).ToHttpResult(rows => ExportEndpoints.AuditLogFile(rows, clock.GetUtcNow()))
            : (await audit.ListAsync(http.ToActor(), query, ct)).ToHttpResult();
    }
}
