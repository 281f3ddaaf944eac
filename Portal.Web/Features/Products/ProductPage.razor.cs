using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Products;

/// <summary>
/// One product (seed 001, Scenario 2): its plans side by side, Subscribe on each, the caller's registrations to it,
/// and "Try it". A draft is not found for those who may not see drafts, like an unknown slug.
/// </summary>
public sealed partial class ProductPage
{
    private ProductDto? _product;
    private bool _notFound;
    private string? _loaded;
    private List<SubscriptionDto> _registrations = [];
    private bool _registrationsLoading;
    private List<BreadcrumbItem> _crumbs = [new("API Products", "/products")];

    [Inject] private ProductService Products { get; set; } = default!;
    [Inject] private SubscriptionService Subscriptions { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    [Parameter]
    public string Slug { get; set; } = "";

    private bool CanManage => Actor?.Can(Permission.ProductsManage) == true;

    private bool CanSeeAll => Actor?.Can(Permission.ProductsReadAll) == true;

    private bool CanSubscribe => Actor?.Can(Permission.SubscriptionsWrite) == true;

    protected override async Task OnParametersSetAsync()
    {
        if (_loaded == Slug) return;
        _loaded = Slug;
        _product = null;
        _notFound = false;
        var result = await Products.GetAsync(Actor, Slug);
        if (!result.IsSuccess)
        {
            _notFound = true;
            _crumbs = [new("API Products", "/products"), new("Not found", null, disabled: true)];
            return;
        }
        _product = result.Value;
        _crumbs = [new("API Products", "/products"), new(_product.Name, null, disabled: true)];
        if (CanSubscribe) await LoadRegistrationsAsync();
    }

    /// <summary>The caller's own accounts' registrations to this product (an admin's too, not every account's).</summary>
    private async Task LoadRegistrationsAsync()
    {
        _registrationsLoading = true;
        try
        {
            var mine = await Subscriptions.ListAsync(Actor,
                new SubscriptionQuery { ProductId = _product!.Id, Mine = true, PageSize = PageQuery.MaxPageSize, Sort = "-createdAt" });
            _registrations = mine.IsSuccess ? [.. mine.Value.Items] : [];
        }
        finally
        {
            _registrationsLoading = false;
        }
    }

    private async Task SubscribeAsync(PlanDto plan)
    {
        var dialog = await Dialogs.ShowAsync<SubscribeDialog>($"Subscribe to {_product!.Name}",
            new DialogParameters<SubscribeDialog> { { d => d.Actor, Actor }, { d => d.Product, _product }, { d => d.PlanId, plan.Id } },
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseButton = true });
        var result = await dialog.Result;
        if (result is { Canceled: false }) await LoadRegistrationsAsync();
    }

    private async Task EditAsync()
    {
        if (await ProductEditorDialog.ShowAsync(Dialogs, Actor, _product) is not { } saved) return;
        if (saved.Slug != Slug)
        {
            // The address moved with the slug.
            Navigation.NavigateTo($"/products/{saved.Slug}", replace: true);
            return;
        }
        _product = saved;
        _crumbs = [new("API Products", "/products"), new(saved.Name, null, disabled: true)];
    }

    private static Color TypeColor(PlanType type) => type switch
    {
        PlanType.Free => Color.Success,
        PlanType.Subscription => Color.Primary,
        PlanType.Metered => Color.Info,
        _ => Color.Secondary,
    };
}
