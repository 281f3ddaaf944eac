using Portal.Web.Components;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Audit;

public sealed partial class AuditPage
{
    private const string AllActions = "";

    // Prefix groups the service understands ("user." matches every user.* action), taken from the catalogue.
    private static readonly IReadOnlyList<string> ActionGroups =
        AuditActions.All.Select(a => a[..(a.IndexOf('.') + 1)]).Where(p => p.Length > 1).Distinct().ToList();

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    private MudTable<AuditEntryDto>? _table;
    private string? _actorFilter;
    private string _actionFilter = AllActions;
    private DateRange? _range;
    private string? _error;

    private bool HasFilters => !string.IsNullOrWhiteSpace(_actorFilter) || _actionFilter != AllActions || _range?.Start is not null || _range?.End is not null;

    /// <summary>The Export button's link: the filters on screen, as the list's query values.</summary>
    private string ExportHref => Exports.ExportEndpoints.Link(Exports.ExportEndpoints.AuditLog,
    [
        new("actor", string.IsNullOrWhiteSpace(_actorFilter) ? null : _actorFilter.Trim()),
        new("action", _actionFilter == AllActions ? null : _actionFilter),
        new("from", Exports.ExportEndpoints.Time(_range?.Start is { } start ? new DateTimeOffset(start.Date, TimeSpan.Zero) : null)),
        new("to", Exports.ExportEndpoints.Time(_range?.End is { } end ? new DateTimeOffset(end.Date, TimeSpan.Zero).AddDays(1).AddTicks(-1) : null)),
    ]);

    private async Task<TableData<AuditEntryDto>> LoadAsync(TableState state, CancellationToken ct)
    {
        var query = new AuditQuery
        {
            Page = state.Page + 1,
            PageSize = state.PageSize,
            Actor = string.IsNullOrWhiteSpace(_actorFilter) ? null : _actorFilter.Trim(),
            Action = _actionFilter == AllActions ? null : _actionFilter,
            // Dates are picked as UTC calendar days; 'To' covers the whole of its day.
            From = _range?.Start is { } start ? new DateTimeOffset(start.Date, TimeSpan.Zero) : null,
            To = _range?.End is { } end ? new DateTimeOffset(end.Date, TimeSpan.Zero).AddDays(1).AddTicks(-1) : null,
        };
        var result = await Audit.ListAsync(Actor, query, ct);
        if (!result.IsSuccess)
        {
            _error = result.Error is ValidationError v ? string.Join(" ", v.Errors.Values.SelectMany(m => m)) : result.Error!.Detail;
            return new TableData<AuditEntryDto> { Items = [], TotalItems = 0 };
        }
        _error = null;
        return new TableData<AuditEntryDto> { Items = result.Value.Items, TotalItems = result.Value.Total };
    }

    // New filters start again at the first page; NavigateTo reloads by itself when the page changes.
    private async Task ReloadAsync()
    {
        if (_table is null) return;
        if (_table.CurrentPage > 0) _table.NavigateTo(Page.First);
        else await _table.ReloadServerData();
    }

    private async Task OnActorChanged(string? value)
    {
        _actorFilter = value;
        await ReloadAsync();
    }

    private async Task OnActionChanged(string? value)
    {
        _actionFilter = value ?? AllActions;
        await ReloadAsync();
    }

    private async Task OnRangeChanged(DateRange? range)
    {
        _range = range;
        await ReloadAsync();
    }

    private async Task ClearFiltersAsync()
    {
        _actorFilter = null;
        _actionFilter = AllActions;
        _range = null;
        await ReloadAsync();
    }

    private string Relative(DateTimeOffset at) => RelativeTime.Describe(at, Clock.GetUtcNow());

    private static Color ChipColor(string action) => action switch
    {
        AuditActions.SignInFailed or AuditActions.SignInLockedOut or AuditActions.UserDeleted => Color.Error,
        AuditActions.UserPasswordReset => Color.Warning,
        _ when action.StartsWith("auth.", StringComparison.Ordinal) => Color.Info,
        _ when action.StartsWith("user.", StringComparison.Ordinal) => Color.Primary,
        _ => Color.Secondary,
    };
}
