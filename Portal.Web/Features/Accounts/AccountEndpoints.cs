using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Features.Accounts;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Accounts;

/// <summary>Developer accounts (not the signed-in user's own account: that is <c>Features/Account</c>).</summary>
public static class DeveloperAccountEndpoints
{
    public static void MapDeveloperAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapApiGroup("/accounts", "Accounts");
        accounts.MapGet("/", List).RequirePermission(Permission.AccountsRead)
            .WithName("ListAccounts").WithSummary("Developer accounts, paged: ?search=&kind=Person|Team&sort=");
        accounts.MapPost("/", Create).RequirePermission(Permission.AccountsManage)
            .WithName("CreateAccount").WithSummary("A person's or team's account, optionally with members")
            .Produces<AccountDto>(StatusCodes.Status201Created);
        accounts.MapPatch("/{id:guid}", Update).RequirePermission(Permission.AccountsManage)
            .WithName("UpdateAccount").WithSummary("{status: Active|Suspended}: a suspended account's application keys are refused (401; verification DISABLED)")
            .Produces<AccountDto>();
        accounts.MapGet("/{id:guid}/billing-settings", GetBilling).RequireAnyPermission(Permission.AccountsRead, Permission.ApplicationsRead)
            .WithName("GetAccountBillingSettings").WithSummary("{spendingThreshold}: developers their accounts', admins and read-only any")
            .Produces<AccountBillingSettingsDto>();
        accounts.MapPut("/{id:guid}/billing-settings", SetBilling).RequireAnyPermission(Permission.AccountsManage, Permission.ApplicationsWrite)
            .WithName("SetAccountBillingSettings")
            .WithSummary("{spendingThreshold: amount | null}: above it a metered or tiered subscription's cost this month raises billing.threshold_reached (once a month). Admins any account, members their own")
            .Produces<AccountBillingSettingsDto>();
    }

    private static async Task<IResult> GetBilling(Guid id, AccountService accounts, HttpContext http, CancellationToken ct) =>
        (await accounts.GetBillingSettingsAsync(http.ToActor(), id, ct)).ToHttpResult();

    private static async Task<IResult> SetBilling(Guid id, UpdateAccountBillingSettings request, AccountService accounts, HttpContext http, CancellationToken ct) =>
        (await accounts.SetBillingSettingsAsync(http.ToActor(), id, request, ct)).ToHttpResult();

    private static async Task<Results<Ok<PagedResult<AccountDto>>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] AccountListQuery query, AccountService accounts, HttpContext http, CancellationToken ct)
    {
        AccountKind? kind = null;
        if (!string.IsNullOrWhiteSpace(query.Kind))
        {
            if (!Enum.TryParse<AccountKind>(query.Kind, ignoreCase: true, out var k) || !Enum.IsDefined(k))
                return ResultHttp.InvalidQuery("kind", "Kind is 'Person' or 'Team'.");
            kind = k;
        }
        return (await accounts.ListAsync(http.ToActor(), query.ToQuery(kind), ct)).ToTypedResult();
    }

    private static async Task<IResult> Update(Guid id, UpdateAccount request, AccountService accounts, HttpContext http, CancellationToken ct) =>
        request.Status is { } status
            ? (await accounts.SetStatusAsync(http.ToActor(), id, status, ct)).ToHttpResult()
            : ResultHttp.Invalid("status", "Status is 'Active' or 'Suspended'.");

    // API v1 has no single-account resource: the account's applications are what there is to look at.
    private static async Task<IResult> Create(CreateAccount request, AccountService accounts, HttpContext http, CancellationToken ct) =>
        (await accounts.CreateAsync(http.ToActor(), request, ct)).ToHttpResult(a => TypedResults.Created($"/api/v1/applications?accountId={a.Id}", a));
}

/// <summary>The query string of <c>GET /api/v1/accounts</c>, bound as one (API.md, "Lists").</summary>
public sealed record AccountListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "sort")] string? Sort = null,
    [property: FromQuery(Name = "kind")] string? Kind = null)
{
    public AccountQuery ToQuery(AccountKind? kind) => new() { Page = Page, PageSize = PageSize, Search = Search, Sort = Sort, Kind = kind };
}
