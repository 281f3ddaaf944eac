using System.Globalization;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Usage;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Usage;

public sealed partial class UsageRequestsPage
{
    private const string AllStatuses = "";

    private static readonly IReadOnlyList<(string Value, string Label)> StatusOptions =
    [
        (AllStatuses, "All statuses"), ("2xx", "2xx success"), ("error", "Errors (4xx, 5xx)"), ("4xx", "4xx client errors"), ("5xx", "5xx server errors"),
        ("400", "400"), ("401", "401"), ("403", "403"), ("404", "404"), ("409", "409"), ("429", "429"), ("500", "500"),
    ];

    [Inject] private UsageService Usage { get; set; } = default!;
    [Inject] private ApiKeyService Keys { get; set; } = default!;
    [Inject] private ApplicationService Applications { get; set; } = default!;
    [Inject] private ProductService Products { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    // Filters open from links (the overview's top lists: /usage/requests?applicationId=…); changed here afterwards.
    // Ids are bound as text and read here: a malformed one in a hand-edited URL is left out with a message, not a 500.
    [SupplyParameterFromQuery(Name = "status")] public string? StatusFilter { get; set; }
    [SupplyParameterFromQuery(Name = "source")] public string? SourceFilter { get; set; }
    [SupplyParameterFromQuery(Name = "search")] public string? SearchParameter { get; set; }
    [SupplyParameterFromQuery(Name = "keyId")] public string? KeyIdParameter { get; set; }
    [SupplyParameterFromQuery(Name = "applicationId")] public string? ApplicationIdParameter { get; set; }
    [SupplyParameterFromQuery(Name = "productId")] public string? ProductIdParameter { get; set; }
    // The overview's period (ISO 8601 times): from inclusive, to exclusive, kept exact; the date picker shows their days.
    [SupplyParameterFromQuery(Name = "from")] public string? FromParameter { get; set; }
    [SupplyParameterFromQuery(Name = "to")] public string? ToParameter { get; set; }

    private static readonly int[] PageSizes = [10, 25, 50, 100, 200];

    /// <summary>A choice of the key and application filters: searched on the server, a page at a time.</summary>
    public sealed record FilterOption(Guid Id, string Name);

    private const int OptionsShown = 20;

    private MudTable<UsageRequestDto>? _table;
    private int _pageSize = 25;
    // The cursor of each page visited since the filters last changed (null: the first page); previous pages are
    // read again from their own cursor, so rows that arrive meanwhile do not shift them.
    private readonly List<string?> _cursors = [null];
    private int _pageIndex;
    private UsageRequestPage? _last;
    private DateRange? _range;
    private string? _error;
    private string? _linkError;
    private string? _search;
    private FilterOption? _key;
    private FilterOption? _application;
    private Guid? _productId;
    private DateTimeOffset? _from;
    private DateTimeOffset? _to;
    private IReadOnlyList<(Guid Id, string Name)> _products = [];

    private bool HasFilters => !string.IsNullOrEmpty(StatusFilter) || !string.IsNullOrEmpty(SourceFilter) || !string.IsNullOrWhiteSpace(_search) || _key is not null || _application is not null || _productId is not null
        || _from is not null || _to is not null;

    /// <summary>The exact times when a link's window does not fall on whole days (the overview's 24 hours).</summary>
    private string? RangeText => (_from?.TimeOfDay ?? TimeSpan.Zero) == TimeSpan.Zero && (_to?.TimeOfDay ?? TimeSpan.Zero) == TimeSpan.Zero ? null
        : $"{_from?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "…"} to {_to?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "…"}";

    protected override async Task OnInitializedAsync()
    {
        StatusFilter ??= AllStatuses;
        SourceFilter = SourceFilter?.Trim().ToLowerInvariant() is "api" or "verification" or "gateway" ? SourceFilter.Trim().ToLowerInvariant() : "";
        _search = SearchParameter;
        ReadLinkFilters();
        var actor = Actor;
        // A link's key and application by name; the other choices are searched as one types.
        if (_linkKeyId is { } keyId)
            _key = new FilterOption(keyId, await Keys.GetAsync(actor, keyId) is { IsSuccess: true } key ? KeyName(actor, key.Value) : Short(keyId));
        if (_linkApplicationId is { } applicationId)
            _application = new FilterOption(applicationId, await Applications.GetAsync(actor, applicationId) is { IsSuccess: true } app ? app.Value.Name : Short(applicationId));
        if (await Products.ListAsync(actor, new ProductQuery { PageSize = PageQuery.MaxPageSize }) is { IsSuccess: true } products)
            _products = [.. products.Value.Items.Select(p => (p.Id, p.Name))];
    }

    /// <summary>The ids and times the URL filters by; one that is malformed is left out and named in a message.</summary>
    private void ReadLinkFilters()
    {
        var values = new QueryValues();
        _linkKeyId = values.Id("keyId", KeyIdParameter);
        _linkApplicationId = values.Id("applicationId", ApplicationIdParameter);
        _productId = values.Id("productId", ProductIdParameter);
        _from = values.Time("from", FromParameter);
        _to = values.Time("to", ToParameter);
        if (_from is not null || _to is not null)
            _range = new DateRange(_from?.UtcDateTime.Date, _to is { } to && to > DateTimeOffset.MinValue ? to.AddTicks(-1).UtcDateTime.Date : null);
        _linkError = values.Error is { } invalid
            ? "Left out of this link's filters: " + string.Join(" ", invalid.Errors.Select(e => $"{e.Key} {string.Join(" ", e.Value)}"))
            : null;
    }

    private Guid? _linkKeyId;
    private Guid? _linkApplicationId;

    private static string Short(Guid id) => id.ToString()[..8] + "…";

    private static string KeyName(Actor actor, ApiKeyDto key) =>
        actor.Can(Permission.UsageReadAll) && key.OwnerEmail is not null ? $"{key.Name} ({key.OwnerEmail})" : key.Name;

    private async Task<IEnumerable<FilterOption>> SearchKeysAsync(string? text, CancellationToken ct)
    {
        var actor = Actor;
        var found = await Keys.ListAsync(actor, new ApiKeyQuery { PageSize = OptionsShown, Sort = "name", Search = Term(text) }, ct);
        return found.IsSuccess ? found.Value.Items.Select(k => new FilterOption(k.Id, KeyName(actor, k))) : [];
    }

    private async Task<IEnumerable<FilterOption>> SearchApplicationsAsync(string? text, CancellationToken ct)
    {
        var found = await Applications.ListAsync(Actor, new ApplicationQuery { PageSize = OptionsShown, Sort = "name", Search = Term(text) }, ct);
        return found.IsSuccess ? found.Value.Items.Select(a => new FilterOption(a.Id, a.Name)) : [];
    }

    private static string? Term(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    /// <summary>"26–50 of 10,000+": the rows shown and the bounded total.</summary>
    private string RowsText => _last is not { } last ? "" : last.Items.Count == 0 ? $"0 of {Total(last)}"
        : $"{(_pageIndex * _pageSize + 1).ToString("N0", CultureInfo.InvariantCulture)}–{(_pageIndex * _pageSize + last.Items.Count).ToString("N0", CultureInfo.InvariantCulture)} of {Total(last)}";

    private static string Total(UsageRequestPage page) =>
        page.Total.ToString("N0", CultureInfo.InvariantCulture) + (page.TotalIsLowerBound ? "+" : "");

    /// <summary>The Export button's link: the filters on screen, as the list's query values.</summary>
    private string ExportHref => Exports.ExportEndpoints.Link(Exports.ExportEndpoints.RequestLog,
    [
        new("status", string.IsNullOrEmpty(StatusFilter) ? null : StatusFilter),
        new("source", string.IsNullOrEmpty(SourceFilter) ? null : SourceFilter),
        new("search", string.IsNullOrWhiteSpace(_search) ? null : _search.Trim()),
        new("keyId", _key?.Id.ToString()),
        new("applicationId", _application?.Id.ToString()),
        new("productId", _productId?.ToString()),
        new("from", Exports.ExportEndpoints.Time(_from)),
        new("to", Exports.ExportEndpoints.Time(_to)),
    ]);

    private async Task<TableData<UsageRequestDto>> LoadAsync(TableState state, CancellationToken ct)
    {
        var query = new UsageRequestQuery
        {
            Cursor = _cursors[_pageIndex],
            PageSize = _pageSize,
            Status = string.IsNullOrEmpty(StatusFilter) ? null : StatusFilter,
            Source = string.IsNullOrEmpty(SourceFilter) ? null : SourceFilter,
            Search = string.IsNullOrWhiteSpace(_search) ? null : _search.Trim(),
            KeyId = _key?.Id,
            ApplicationId = _application?.Id,
            ProductId = _productId,
            From = _from,
            To = _to,
        };
        var result = await Usage.ListRequestsAsync(Actor, query, ct);
        ShowError(result.IsSuccess ? null
            : result.Error is ValidationError v ? string.Join(" ", v.Errors.Values.SelectMany(m => m)) : result.Error!.Detail);
        _last = result.IsSuccess ? result.Value : null;
        return result.IsSuccess
            ? new TableData<UsageRequestDto> { Items = result.Value.Items, TotalItems = result.Value.Items.Count }
            : new TableData<UsageRequestDto> { Items = [], TotalItems = 0 };
    }

    /// <summary>The table loads itself and re-renders only itself: the page renders again for its alert to change.</summary>
    private void ShowError(string? error)
    {
        if (error == _error) return;
        _error = error;
        StateHasChanged();
    }

    private async Task OpenAsync(TableRowClickEventArgs<UsageRequestDto> row)
    {
        if (row.Item is not { } request) return;
        var parameters = new DialogParameters<UsageRequestDialog>
        {
            { d => d.Actor, Actor },
            { d => d.RequestId, request.Id },
        };
        await Dialogs.ShowAsync<UsageRequestDialog>($"{request.Method} {request.Route}", parameters,
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseButton = true, CloseOnEscapeKey = true });
    }

    private static string Label(IReadOnlyList<(Guid Id, string Name)> options, Guid? id, string all) =>
        id is not { } value ? all : options.FirstOrDefault(o => o.Id == value).Name ?? Short(value);

    // New filters start again at the first page.
    private async Task ReloadAsync()
    {
        _cursors.RemoveRange(1, _cursors.Count - 1);
        _pageIndex = 0;
        if (_table is not null) await _table.ReloadServerData();
    }

    private async Task NextAsync()
    {
        if (_last?.NextCursor is not { } next || _table is null) return;
        _cursors.RemoveRange(_pageIndex + 1, _cursors.Count - _pageIndex - 1);
        _cursors.Add(next);
        _pageIndex++;
        await _table.ReloadServerData();
    }

    private async Task PreviousAsync()
    {
        if (_pageIndex == 0 || _table is null) return;
        _pageIndex--;
        await _table.ReloadServerData();
    }

    private Task OnPageSizeChangedAsync(int size) => SetAsync(() => _pageSize = size);

    private Task OnStatusChangedAsync(string? value) => SetAsync(() => StatusFilter = value ?? AllStatuses);
    private Task OnSourceChangedAsync(string? value) => SetAsync(() => SourceFilter = string.IsNullOrEmpty(value) ? "" : value);
    private Task OnKeyChangedAsync(FilterOption? value) => SetAsync(() => _key = value);
    private Task OnApplicationChangedAsync(FilterOption? value) => SetAsync(() => _application = value);
    private Task OnProductChangedAsync(Guid? value) => SetAsync(() => _productId = value);
    // Dates are picked as UTC calendar days; 'to' covers the whole of its day ('to' is exclusive).
    private Task OnRangeChangedAsync(DateRange? range) => SetAsync(() =>
    {
        _range = range;
        _from = range?.Start is { } start ? new DateTimeOffset(start.Date, TimeSpan.Zero) : null;
        _to = range?.End is { } end ? new DateTimeOffset(end.Date, TimeSpan.Zero).AddDays(1) : null;
    });

    private Task ClearFiltersAsync() => SetAsync(() =>
    {
        StatusFilter = AllStatuses;
        SourceFilter = "";
        _search = null;
        (_key, _application, _productId, _range, _from, _to, _linkError) = (null, null, null, null, null, null, null);
    });

    private async Task SetAsync(Action change)
    {
        change();
        await ReloadAsync();
    }
}
