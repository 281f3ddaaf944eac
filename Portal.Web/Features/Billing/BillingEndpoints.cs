using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using System.Globalization;
using Portal.Core.Common;
using Portal.Core.Features.Billing;
using Portal.Web.Features.Exports;
using Portal.Web.Features.Usage;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Billing;

public static class BillingEndpoints
{
    public static void MapBillingEndpoints(this IEndpointRouteBuilder app)
    {
        var statements = app.MapApiGroup("/billing/statements", "Billing");
        statements.MapGet("/", List).RequirePermission(Permission.UsageRead)
            .WithName("ListStatements")
            .WithSummary("A month's statements, one per account by account name: ?month=yyyy-MM (default: this month)&accountId=&search=. " +
                "Developers see their accounts; admins and read-only every account billed in the month. ?format=csv: every line of them")
            .WithDescription(UsageEndpoints.CsvNote);
        statements.MapGet("/{accountId:guid}/{month}", Get).RequirePermission(Permission.UsageRead)
            .WithName("GetStatement")
            .WithSummary("One account's statement of a month: a line per billed subscription with its band breakdown, totals per currency; " +
                "the current month is an estimate with a projection to its end, a closed month is frozen (latest revision). ?format=csv: its lines")
            .Produces<StatementDto>();
        statements.MapPost("/{accountId:guid}/{month}/reissue", Reissue).RequirePermission(Permission.SubscriptionsManage)
            .WithName("ReissueStatement")
            .WithSummary("Prices a closed month again at today's prices as a new revision (audited); {reason?}; 409 for a month not closed yet")
            .Produces<StatementDto>().ProducesProblem(StatusCodes.Status409Conflict);
    }

    internal static async Task<Results<Ok<PagedResult<StatementSummary>>, Csv.CsvFile<StatementExportRow>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] StatementListQuery query, StatementService statements, HttpContext http, TimeProvider clock, CancellationToken ct)
    {
        if (ExportEndpoints.WantsCsv(http, query.Format))
        {
            var rows = await statements.ExportAsync(http.ToActor(), query.ToQuery(), ct);
            if (rows.Error is { } failed) return failed is ValidationError v ? v.ToValidationProblem() : failed.ToProblemResult();
            return Csv.File(rows.Value, Columns, $"statements-{FileMonth(query.Month, clock)}.csv");
        }
        var page = await statements.ListAsync(http.ToActor(), query.ToQuery(), ct);
        if (page.Error is { } error) return error is ValidationError invalid ? invalid.ToValidationProblem() : error.ToProblemResult();
        return TypedResults.Ok(page.Value);
    }

    private static async Task<IResult> Get(Guid accountId, string month, StatementService statements, HttpContext http, CancellationToken ct, string? format = null)
    {
        var result = await statements.GetAsync(http.ToActor(), accountId, month, ct);
        return Csv.IsWanted(http.Request, format)
            ? result.ToHttpResult(s => Csv.File(StatementService.Rows(s), Columns, $"statement-{s.Month}-{s.AccountId}.csv"))
            : result.ToHttpResult();
    }

    // The body is optional: a bare POST re-issues without a reason.
    private static async Task<IResult> Reissue(Guid accountId, string month, ReissueStatement? request, StatementService statements, HttpContext http, CancellationToken ct) =>
        (await statements.ReissueAsync(http.ToActor(), accountId, month, request ?? new ReissueStatement(), ct)).ToHttpResult();

    /// <summary>The month in the file name: the one asked for when it is one (the service has checked it), else this month.</summary>
    private static string FileMonth(string? month, TimeProvider clock) =>
        BillingMonth.Parse(month) is { } parsed ? BillingMonth.Name(parsed) : BillingMonth.Name(clock.GetUtcNow());

    private static string Money(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);

    /// <summary>A line's bands in one cell: <c>1-1000: 1000 x 0 + 0 = 0; 1001-: 250 x 0.002 + 0 = 0.5</c> (calls x unit price + flat fee = amount, before the line's rounding).</summary>
    private static string Bands(StatementLine line) =>
        string.Join("; ", line.Bands.Select(b =>
            $"{b.From}-{(b.UpTo is { } u ? u.ToString(CultureInfo.InvariantCulture) : "")}: {b.Calls} x {Money(b.UnitPrice)} + {Money(b.FlatFee)} = {Money(b.Amount)}"));

    public static readonly IReadOnlyList<CsvColumn<StatementExportRow>> Columns =
    [
        new("month", r => r.Month),
        new("status", r => r.Status == StatementStatus.Closed ? "closed" : "estimate"),
        new("revision", r => Csv.Number(r.Revision)),
        new("accountId", r => r.AccountId.ToString()),
        new("accountName", r => r.AccountName),
        new("subscriptionId", r => r.Line.SubscriptionId.ToString()),
        new("applicationId", r => r.Line.ApplicationId?.ToString()),
        new("applicationName", r => r.Line.ApplicationName),
        new("productId", r => r.Line.ProductId.ToString()),
        new("productName", r => r.Line.ProductName),
        new("planName", r => r.Line.PlanName),
        new("planType", r => r.Line.PlanType.ToString()),
        new("calls", r => Csv.Number(r.Line.Calls)),
        new("currency", r => r.Line.Currency),
        new("amount", r => Money(r.Line.Amount)),
        new("minimumApplied", r => r.Line.MinimumApplied is { } m ? Money(m) : null),
        new("projectedCalls", r => Csv.Number(r.Line.ProjectedCalls)),
        new("projectedAmount", r => r.Line.ProjectedAmount is { } p ? Money(p) : null),
        new("bands", r => Bands(r.Line)),
    ];
}

/// <summary>The query string of <c>GET /api/v1/billing/statements</c> (and the page's export link), bound as one (API.md, "Lists").</summary>
public sealed record StatementListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "month")] string? Month = null,
    [property: FromQuery(Name = "accountId")] Guid? AccountId = null,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "format")] string? Format = null)
{
    public StatementQuery ToQuery() => new() { Page = Page, PageSize = PageSize, Month = Month, AccountId = AccountId, Search = Search };
}
