using System.Globalization;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Web.Components;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Subscriptions;

/// <summary>
/// Every application's registrations to products (seed 001, Scenario 2): admins approve, reject or unregister them;
/// read-only sees the same list without actions. Opens on the WAITING ones: the queue an admin comes here for.
/// </summary>
public sealed partial class SubscriptionsPage
{
    private const string AllKey = "all";
    private static readonly int[] PageSizes = [10, 25, 50, 100];

    private static readonly (string Key, string Label)[] StatusFilters =
    [
        ("waiting", "Waiting"), ("approved", "Approved"), ("rejected", "Rejected"), ("unsubscribed", "Unsubscribed"), (AllKey, "All"),
    ];

    private MudTable<SubscriptionDto>? _table;
    private string _status = "waiting";
    private string? _search;
    private Guid? _productId;
    private List<ProductDto> _products = [];
    private Dictionary<string, int>? _counts;
    private bool _busy;

    [Inject] private SubscriptionService Subscriptions { get; set; } = default!;
    [Inject] private ProductService Products { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    /// <summary>Optional status to open on (<c>?status=approved</c>, or <c>all</c>), so a filtered view can be bookmarked.</summary>
    [SupplyParameterFromQuery(Name = "status")]
    public string? StatusParameter { get; set; }

    private bool CanManage => Actor?.Can(Permission.SubscriptionsManage) == true;

    private bool HasFilters => !string.IsNullOrWhiteSpace(_search) || _productId is not null;

    private string EmptyMessage => HasFilters ? "No registrations match these filters" : _status switch
    {
        "waiting" => "Nothing is waiting for a decision",
        "approved" => "No approved registrations",
        "rejected" => "No rejected registrations",
        "unsubscribed" => "No unsubscribed registrations",
        _ => "No registrations yet: developers subscribe their applications in the API Products catalog",
    };

    protected override async Task OnInitializedAsync()
    {
        if (StatusParameter is { } wanted && StatusFilters.Any(f => string.Equals(f.Key, wanted, StringComparison.OrdinalIgnoreCase)))
            _status = wanted.ToLowerInvariant();
        var products = await Products.ListAsync(Actor, new ProductQuery { PageSize = PageQuery.MaxPageSize });
        if (products.IsSuccess) _products = [.. products.Value.Items.OrderBy(p => p.Name, StringComparer.CurrentCultureIgnoreCase)];
        await LoadCountsAsync();
    }

    private async Task<TableData<SubscriptionDto>> LoadAsync(TableState state, CancellationToken ct)
    {
        Result<PagedResult<SubscriptionDto>> result;
        try
        {
            result = await Subscriptions.ListAsync(Actor!, Query(SubscriptionStatusText.TryParse(_status, out var s) ? s : null) with
            {
                Page = state.Page + 1,
                PageSize = state.PageSize,
            }, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new TableData<SubscriptionDto> { Items = [], TotalItems = 0 };
        }
        if (!result.IsSuccess)
        {
            Snackbar.Add(result.Error!.Detail, Severity.Error);
            return new TableData<SubscriptionDto> { Items = [], TotalItems = 0 };
        }
        return new TableData<SubscriptionDto> { Items = result.Value.Items, TotalItems = result.Value.Total };
    }

    private SubscriptionQuery Query(SubscriptionStatus? status) => new()
    {
        Status = status,
        ProductId = _productId,
        Search = string.IsNullOrWhiteSpace(_search) ? null : _search.Trim(),
    };

    /// <summary>The count of every status under the current product and search filters, in one grouped query.</summary>
    private async Task LoadCountsAsync()
    {
        var result = await Subscriptions.CountByStatusAsync(Actor!, Query(null));
        if (!result.IsSuccess)
        {
            _counts = null;
            return;
        }
        var counts = result.Value.ToDictionary(c => c.Key.ToString().ToLowerInvariant(), c => c.Value);
        counts[AllKey] = counts.Values.Sum();
        _counts = counts;
    }

    private int? CountOf(string key) => _counts?.GetValueOrDefault(key);

    private async Task StatusChangedAsync(string? status)
    {
        // A chip set in single selection deselects on a second click; keep the current filter instead.
        if (status is null || status == _status) return;
        _status = status;
        await ReloadAsync(firstPage: true);
    }

    private async Task FiltersChangedAsync()
    {
        await LoadCountsAsync();
        await ReloadAsync(firstPage: true);
    }

    private async Task ReloadAsync(bool firstPage = false)
    {
        if (_table is null) return;
        if (firstPage && _table.CurrentPage > 0) _table.NavigateTo(0); // navigating reloads the page's rows itself
        else await _table.ReloadServerData();
    }

    private async Task ApproveAsync(SubscriptionDto s)
    {
        if (_busy) return;
        _busy = true;
        try
        {
            var result = await Subscriptions.ApproveAsync(Actor!, s.Id, new DecideSubscription());
            await ShowAsync(result, $"Approved {s.ApplicationName} for {s.ProductName}");
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task RejectAsync(SubscriptionDto s)
    {
        var dialog = await Dialogs.ShowAsync<RejectSubscriptionDialog>("Reject registration",
            new DialogParameters<RejectSubscriptionDialog> { { d => d.Actor, Actor! }, { d => d.Subscription, s } },
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        var closed = await dialog.Result;
        if (closed is not { Canceled: false, Data: { } data }) return;
        Result<SubscriptionDto> result = data is SubscriptionDto rejected ? rejected : (Error)data;
        await ShowAsync(result, $"Rejected {s.ApplicationName} for {s.ProductName}");
    }

    private async Task UnregisterAsync(SubscriptionDto s)
    {
        var confirmed = await ConfirmDialog.ShowAsync(Dialogs, "Unregister",
            $"Unregister \"{s.ApplicationName}\" ({s.AccountName}) from \"{s.ProductName}\"? Its keys can no longer call this product. It may apply again later.",
            "Unregister");
        if (!confirmed || _busy) return;
        _busy = true;
        try
        {
            var result = await Subscriptions.UnsubscribeAsync(Actor!, s.Id);
            await ShowAsync(result, $"Unregistered {s.ApplicationName} from {s.ProductName}");
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>
    /// Success or a conflict (someone else was first) or a vanished row reloads the counts and the page of rows, so the
    /// list keeps matching its status filter: an approved row leaves the Waiting list as its count drops.
    /// </summary>
    private async Task ShowAsync(Result<SubscriptionDto> result, string success)
    {
        if (result.IsSuccess) Snackbar.Add(success, Severity.Success);
        else Snackbar.Add(result.Error!.Detail, result.Error is ConflictError ? Severity.Warning : Severity.Error);
        if (result.IsSuccess || result.Error is ConflictError or NotFoundError)
        {
            await LoadCountsAsync();
            await ReloadAsync();
        }
    }

    private string ProductName(Guid? id) =>
        id is null ? "All products" : _products.FirstOrDefault(p => p.Id == id)?.Name ?? "Selected product";

    private static bool IsOpen(SubscriptionDto s) => s.Status is SubscriptionStatus.Waiting or SubscriptionStatus.Approved;

    private static DateTimeOffset? Decided(SubscriptionDto s) => s.EndedAt ?? s.DecidedAt;

    private static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("dd/MM/yyyy HH:mm", CultureInfo.InvariantCulture);

    private static string Full(DateTimeOffset at) => at.UtcDateTime.ToString("dd/MM/yyyy HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

}
