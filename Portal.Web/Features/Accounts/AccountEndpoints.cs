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
            .WithName("ListAccounts").WithSummary("Developer accounts, paged: ?search=&kind=Person|Team&sort=")
            .Produces<PagedResult<AccountDto>>();
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

    private static async Task<IResult> List(AccountService accounts, HttpContext http, CancellationToken ct,
        int page = 1, int pageSize = 50, string? search = null, string? sort = null, string? kind = null)
    {
        AccountKind? parsedKind = null;
        if (!string.IsNullOrWhiteSpace(kind))
        {
            if (!Enum.TryParse<AccountKind>(kind, ignoreCase: true, out var k) || !Enum.IsDefined(k))
                return ResultHttp.Invalid("kind", "Kind is 'Person' or 'Team'.");
            parsedKind = k;
        }
        var query = new AccountQuery { Page = page, PageSize = pageSize, Search = search, Sort = sort, Kind = parsedKind };
        return (await accounts.ListAsync(http.ToActor(), query, ct)).ToHttpResult();
    }

    private static async Task<IResult> Update(Guid id, UpdateAccount request, AccountService accounts, HttpContext http, CancellationToken ct) =>
        request.Status is { } status
            ? (await accounts.SetStatusAsync(http.ToActor(), id, status, ct)).ToHttpResult()
            : ResultHttp.Invalid("status", "Status is 'Active' or 'Suspended'.");

    // API v1 has no single-account resource: the account's applications are what there is to look at.
    private static async Task<IResult> Create(CreateAccount request, AccountService accounts, HttpContext http, CancellationToken ct) =>
        (await accounts.CreateAsync(http.ToActor(), request, ct)).ToHttpResult(a => TypedResults.Created($"/api/v1/applications?accountId={a.Id}", a));
}
