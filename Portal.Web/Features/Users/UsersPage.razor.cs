using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Users;
using Portal.Web.Components;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Users;

public sealed partial class UsersPage
{
    private const string AllRoles = "";
    private static readonly int[] PageSizes = [10, 25, 50, 100];

    // The grid's column names map onto the service's sort keys; anything else falls back to email.
    private static readonly Dictionary<string, string> SortKeys = new(StringComparer.Ordinal)
    {
        [nameof(UserDto.Email)] = "email",
        [nameof(UserDto.DisplayName)] = "displayName",
        [nameof(UserDto.Status)] = "status",
        [nameof(UserDto.LastLoginAt)] = "lastLogin",
    };

    private MudDataGrid<UserDto>? _grid;
    private string? _search;
    private string _role = AllRoles;
    private UserStatus? _status;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    private bool CanEdit => Actor?.Can(Permission.UsersEdit) == true;

    // A read-only viewer gets no Actions column rather than an empty one.
    private bool CanActOnAnyone => CanEdit || Actor?.Can(Permission.UsersResetPassword) == true || Actor?.Can(Permission.UsersDelete) == true;

    // The service refuses these on oneself anyway; hiding the button avoids offering a dead end.
    private bool CanResetPassword(UserDto user) => Actor?.Can(Permission.UsersResetPassword) == true && user.Id != Actor.UserId;

    private bool CanDelete(UserDto user) => Actor?.Can(Permission.UsersDelete) == true && user.Id != Actor.UserId;

    // Super-admins only; one's own is turned off from the profile, with the password.
    private bool CanResetTwoFactor(UserDto user) =>
        Actor?.Roles.Contains(Roles.SuperAdmin) == true && Actor.Can(Permission.UsersResetPassword) && user.TwoFactorEnabled && user.Id != Actor.UserId;


    private string? _sort;

    /// <summary>The Export button's link: the filters on screen (and the grid's last sort), as the list's query values.</summary>
    private string ExportHref => Exports.ExportEndpoints.Link(Exports.ExportEndpoints.Users,
    [
        new("search", string.IsNullOrWhiteSpace(_search) ? null : _search.Trim()),
        new("role", _role == AllRoles ? null : _role),
        new("status", _status?.ToString()),
        new("sort", _sort),
    ]);

    private async Task<GridData<UserDto>> LoadAsync(GridState<UserDto> state, CancellationToken ct)
    {
        var sort = state.SortDefinitions.FirstOrDefault();
        var query = new UserQuery
        {
            Page = state.Page + 1,
            PageSize = state.PageSize,
            Search = string.IsNullOrWhiteSpace(_search) ? null : _search.Trim(),
            Sort = sort is not null && SortKeys.TryGetValue(sort.SortBy, out var key) ? (sort.Descending ? "-" : "") + key : null,
            Role = _role == AllRoles ? null : _role,
            Status = _status,
        };
        _sort = query.Sort;
        Result<PagedResult<UserDto>> result;
        try
        {
            result = await Users.ListAsync(Actor!, query, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The grid cancels a load when a newer one starts (fast typing in Search); that one fills the rows.
            return new GridData<UserDto> { Items = [], TotalItems = 0 };
        }
        if (!result.IsSuccess)
        {
            Snackbar.Add(result.Error!.Detail, Severity.Error);
            return new GridData<UserDto> { Items = [], TotalItems = 0 };
        }
        return new GridData<UserDto> { Items = result.Value.Items, TotalItems = result.Value.Total };
    }

    private Task ReloadAsync() => _grid?.ReloadServerData() ?? Task.CompletedTask;

    private async Task CreateAsync()
    {
        var parameters = new DialogParameters<UserCreateDialog> { { d => d.Actor, Actor } };
        await ShowAndReloadAsync<UserCreateDialog>("Create user", parameters);
    }

    private async Task EditAsync(UserDto user)
    {
        var parameters = new DialogParameters<UserEditDialog> { { d => d.Actor, Actor }, { d => d.User, user } };
        await ShowAndReloadAsync<UserEditDialog>("Edit user", parameters);
    }

    private async Task ResetPasswordAsync(UserDto user)
    {
        var parameters = new DialogParameters<UserResetPasswordDialog> { { d => d.Actor, Actor }, { d => d.User, user } };
        await ShowAndReloadAsync<UserResetPasswordDialog>("Reset password", parameters, reload: false);
    }

    private async Task ResetTwoFactorAsync(UserDto user)
    {
        var confirmed = await ConfirmDialog.ShowAsync(Dialogs, "Reset two-factor sign-in",
            $"Turn off two-factor sign-in for {user.Email}? Their authenticator app and recovery codes stop working and every " +
            "session of theirs ends. They sign in with the password alone until they set it up again (at once, if their role requires it).",
            "Reset");
        if (!confirmed) return;
        var result = await TwoFactor.ResetAsync(Actor!, user.Id);
        if (result.IsSuccess)
        {
            Snackbar.Add($"Two-factor sign-in of {user.Email} is reset; their sessions have ended.", Severity.Success);
            await ReloadAsync();
        }
        else Snackbar.Add(result.Error!.Detail, Severity.Error);
    }

    private async Task DeleteAsync(UserDto user)
    {
        var parameters = new DialogParameters<UserDeleteDialog> { { d => d.Actor, Actor }, { d => d.User, user } };
        await ShowAndReloadAsync<UserDeleteDialog>("Delete user", parameters);
    }

    // Each dialog calls the service itself and shows its own errors; the page only reloads after a success.
    private async Task ShowAndReloadAsync<TDialog>(string title, DialogParameters parameters, bool reload = true) where TDialog : IComponent
    {
        var options = new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseButton = true };
        var dialog = await Dialogs.ShowAsync<TDialog>(title, parameters, options);
        var result = await dialog.Result;
        if (reload && result is { Canceled: false }) await ReloadAsync();
    }

    private static Color RoleColor(string role) => role switch
    {
        Roles.SuperAdmin => Color.Secondary,
        Roles.Admin => Color.Primary,
        Roles.Developer => Color.Info,
        _ => Color.Default,
    };
}
