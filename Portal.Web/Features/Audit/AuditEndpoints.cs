using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Audit;

public static class AuditEndpoints
{
    public static void MapAuditEndpoints(this IEndpointRouteBuilder app) =>
        app.MapApiGroup("/audit", "Audit")
            .MapGet("/", async (AuditService audit, HttpContext http, CancellationToken ct,
                    int page = 1, int pageSize = 50, string? actor = null, string? action = null,
                    DateTimeOffset? from = null, DateTimeOffset? to = null, string? search = null, string? sort = null) =>
                (await audit.ListAsync(http.ToActor(),
                    new AuditQuery { Page = page, PageSize = pageSize, Actor = actor, Action = action, From = from, To = to, Search = search, Sort = sort },
                    ct)).ToHttpResult())
            .RequirePermission(Permission.AuditRead)
            .WithName("ListAudit").WithSummary("Audit entries, newest first; ?actor=&action=&from=&to=")
            .Produces<PagedResult<AuditEntryDto>>();
}
