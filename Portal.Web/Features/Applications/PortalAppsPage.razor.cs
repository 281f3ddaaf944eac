using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Web.Components;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Applications;

/// <summary>Seed 001, Scenario 5: every account's applications for admins; read-only sees them without actions.</summary>
public sealed partial class PortalAppsPage
{
    private static readonly int[] PageSizes = [10, 25, 50, 100];

    private static readonly Dictionary<string, string> SortKeys = new(StringComparer.Ordinal)
    {
        [nameof(ApplicationDto.Name)] = "name",
        [nameof(ApplicationDto.AccountName)] = "account",
        [nameof(ApplicationDto.CreatedAt)] = "createdAt",
    };

    private MudDataGrid<ApplicationDto>? _grid;
    private string? _search;
    private string? _accountName;

    [Inject] private ApplicationService Applications { get; set; } = default!;
    [Inject] private AccountService Accounts { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    /// <summary>Optional account filter: the Accounts page links here with it. Read as text: a malformed id in an edited
    /// address is ignored with a notice, where a <see cref="Guid"/> parameter would fail the whole page.</summary>
    [SupplyParameterFromQuery(Name = "accountId")]
    public string? AccountIdParameter { get; set; }

    private Guid? AccountId => Guid.TryParse(AccountIdParameter, out var id) ? id : null;

    private bool AccountIdIsMalformed => !string.IsNullOrWhiteSpace(AccountIdParameter) && AccountId is null;

    private bool CanManage => Actor?.Can(Permission.ApplicationsManageAll) == true;

    /// <summary>Create for any account (seed 001): needs the account list and the right to manage every application.</summary>
    private bool CanCreate => Actor is { } a && a.Can(Permission.ApplicationsWrite) && a.Can(Permission.ApplicationsManageAll) && a.Can(Permission.AccountsRead);

    private bool HasFilters => !string.IsNullOrWhiteSpace(_search) || AccountId is not null;


    protected override async Task OnParametersSetAsync()
    {
        _accountName = null;
        if (AccountId is { } id && Actor is not null)
        {
            var account = await Accounts.GetAsync(Actor, id);
            if (account.IsSuccess) _accountName = account.Value.Name;
        }
        await ReloadAsync();
    }

    private async Task<GridData<ApplicationDto>> LoadAsync(GridState<ApplicationDto> state, CancellationToken ct)
    {
        var sort = state.SortDefinitions.FirstOrDefault();
        var query = new ApplicationQuery
        {
            Page = state.Page + 1,
            PageSize = state.PageSize,
            Search = string.IsNullOrWhiteSpace(_search) ? null : _search.Trim(),
            Sort = sort is not null && SortKeys.TryGetValue(sort.SortBy, out var key) ? (sort.Descending ? "-" : "") + key : null,
            AccountId = AccountId,
        };
        Result<PagedResult<ApplicationDto>> result;
        try
        {
            result = await Applications.ListAsync(Actor!, query, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new GridData<ApplicationDto> { Items = [], TotalItems = 0 };
        }
        if (!result.IsSuccess)
        {
            Snackbar.Add(result.Error!.Detail, Severity.Error);
            return new GridData<ApplicationDto> { Items = [], TotalItems = 0 };
        }
        return new GridData<ApplicationDto> { Items = result.Value.Items, TotalItems = result.Value.Total };
    }

    private Task ReloadAsync() => _grid?.ReloadServerData() ?? Task.CompletedTask;

    private Task ClearAccountAsync()
    {
        Navigation.NavigateTo("/portal-apps");
        return Task.CompletedTask;
    }

    private async Task CreateAsync()
    {
        var dialog = await Dialogs.ShowAsync<CreateApplicationDialog>("Create Portal App",
            new DialogParameters<CreateApplicationDialog> { { d => d.Actor, Actor! }, { d => d.AnyAccount, true } },
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, BackdropClick = false });
        var result = await dialog.Result;
        // The admin goes on where the new application is managed: its keys and registrations.
        if (result is { Canceled: false, Data: Guid id }) Navigation.NavigateTo($"/portal-apps/{id}");
        else await ReloadAsync();
    }

    private async Task RemoveAsync(ApplicationDto app)
    {
        var confirmed = await ConfirmDialog.ShowAsync(Dialogs, "Remove application",
            $"Remove \"{app.Name}\" of {app.AccountName}? All its keys are revoked and its product registrations end. This cannot be undone.",
            "Remove");
        if (!confirmed) return;
        var result = await Applications.DeleteAsync(Actor!, app.Id);
        if (result.IsSuccess)
        {
            Snackbar.Add($"Application {app.Name} removed", Severity.Success);
            await ReloadAsync();
        }
        else
        {
            Snackbar.Add(result.Error!.Detail, Severity.Error);
        }
    }

}
