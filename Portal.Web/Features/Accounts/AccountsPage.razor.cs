using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Accounts;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Accounts;

public sealed partial class AccountsPage
{
    private static readonly int[] PageSizes = [10, 25, 50, 100];

    private static readonly Dictionary<string, string> SortKeys = new(StringComparer.Ordinal)
    {
        [nameof(AccountDto.Name)] = "name",
        [nameof(AccountDto.CreatedAt)] = "createdAt",
    };

    private MudDataGrid<AccountDto>? _grid;
    private string? _search;
    private AccountKind? _kind;
    private bool _opened;

    [Inject] private AccountService Accounts { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    /// <summary><c>/accounts?id=…</c> opens that account's details (the application header links here). Read as text, so a
    /// malformed id says the account does not exist instead of failing the page.</summary>
    [SupplyParameterFromQuery(Name = "id")]
    public string? IdParameter { get; set; }

    private bool CanManage => Actor?.Can(Permission.AccountsManage) == true;

    private bool CanSeeApps => Actor?.Can(Permission.ApplicationsReadAll) == true;


    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        // Dialogs need the live circuit, so a linked account opens after the first render.
        if (_opened || string.IsNullOrWhiteSpace(IdParameter) || Actor is null || !RendererInfo.IsInteractive) return;
        _opened = true;
        if (Guid.TryParse(IdParameter, out var id) && await Accounts.GetAsync(Actor, id) is { IsSuccess: true } account)
            await ShowDetailAsync(account.Value.Id, account.Value.Name);
        else Snackbar.Add("That account does not exist.", Severity.Warning);
    }

    private async Task<GridData<AccountDto>> LoadAsync(GridState<AccountDto> state, CancellationToken ct)
    {
        var sort = state.SortDefinitions.FirstOrDefault();
        var query = new AccountQuery
        {
            Page = state.Page + 1,
            PageSize = state.PageSize,
            Search = string.IsNullOrWhiteSpace(_search) ? null : _search.Trim(),
            Sort = sort is not null && SortKeys.TryGetValue(sort.SortBy, out var key) ? (sort.Descending ? "-" : "") + key : null,
            Kind = _kind,
        };
        Result<PagedResult<AccountDto>> result;
        try
        {
            result = await Accounts.ListAsync(Actor!, query, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new GridData<AccountDto> { Items = [], TotalItems = 0 };
        }
        if (!result.IsSuccess)
        {
            Snackbar.Add(result.Error!.Detail, Severity.Error);
            return new GridData<AccountDto> { Items = [], TotalItems = 0 };
        }
        return new GridData<AccountDto> { Items = result.Value.Items, TotalItems = result.Value.Total };
    }

    private Task ReloadAsync() => _grid?.ReloadServerData() ?? Task.CompletedTask;

    private async Task CreateAsync()
    {
        var parameters = new DialogParameters<AccountCreateDialog> { { d => d.Actor, Actor } };
        var options = new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseButton = true };
        var dialog = await Dialogs.ShowAsync<AccountCreateDialog>("Create account", parameters, options);
        if (await dialog.Result is { Canceled: false }) await ReloadAsync();
    }

    private Task OpenAsync(AccountDto account) => ShowDetailAsync(account.Id, account.Name);

    private async Task ShowDetailAsync(Guid id, string name)
    {
        var parameters = new DialogParameters<AccountDetailDialog> { { d => d.Actor, Actor }, { d => d.AccountId, id } };
        var options = new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true, CloseButton = true };
        var dialog = await Dialogs.ShowAsync<AccountDetailDialog>(name, parameters, options);
        await dialog.Result;
        // Members may have changed: the counts in the grid follow.
        await ReloadAsync();
    }
}
