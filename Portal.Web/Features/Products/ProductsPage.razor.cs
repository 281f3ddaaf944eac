using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Products;
using Portal.Web.Components;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Products;

/// <summary>
/// The catalog (seed 001, Scenario 2: "User goes to API Products page"): published products as cards for everyone;
/// drafts too for those who may see them; create, edit and delete for those who manage products.
/// </summary>
public sealed partial class ProductsPage
{
    /// <summary>Four rows of three on a wide screen.</summary>
    internal const int PageSize = 12;

    private PagedResult<ProductDto>? _page;
    private string? _loadError;
    private string? _search;
    private bool? _published;
    private int _pageNumber = 1;

    [Inject] private ProductService Products { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    /// <summary><c>/products?search=maps</c> opens the catalog already searched, so a search can be linked to.</summary>
    [SupplyParameterFromQuery(Name = "search")]
    public string? SearchQuery { get; set; }

    private bool CanManage => Actor?.Can(Permission.ProductsManage) == true;

    private bool CanSeeDrafts => Actor?.Can(Permission.ProductsReadAll) == true;

    private bool HasFilters => !string.IsNullOrWhiteSpace(_search) || _published is not null;

    private int PageCount => _page is null ? 0 : (_page.Total + PageSize - 1) / PageSize;

    protected override async Task OnInitializedAsync()
    {
        _search = SearchQuery;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        var result = await Products.ListAsync(Actor!, new ProductQuery
        {
            Page = _pageNumber,
            PageSize = PageSize,
            Search = string.IsNullOrWhiteSpace(_search) ? null : _search.Trim(),
            Sort = "name",
            Published = CanSeeDrafts ? _published : null,
        });
        _loadError = result.IsSuccess ? null : result.Error!.Detail;
        _page = result.IsSuccess ? result.Value : new PagedResult<ProductDto>([], 1, PageSize, 0);
        // A delete can leave the last page empty: step back rather than show "no products".
        if (_page.Items.Count == 0 && _page.Total > 0 && _pageNumber > 1)
        {
            _pageNumber = PageCount;
            await LoadAsync();
        }
    }

    private Task SearchAsync()
    {
        _pageNumber = 1;
        return LoadAsync();
    }

    private Task GoToPageAsync(int page)
    {
        _pageNumber = page;
        return LoadAsync();
    }

    private static string VisibilityLabel(bool? published) => published switch
    {
        true => "Published",
        false => "Drafts",
        null => "All products",
    };

    private async Task CreateAsync()
    {
        if (await ProductEditorDialog.ShowAsync(Dialogs, Actor!, null) is not null) await LoadAsync();
    }

    private async Task EditAsync(ProductDto product)
    {
        if (await ProductEditorDialog.ShowAsync(Dialogs, Actor!, product) is not null) await LoadAsync();
    }

    private async Task DeleteAsync(ProductDto product)
    {
        var confirmed = await ConfirmDialog.ShowAsync(Dialogs, "Delete product",
            $"Delete \"{product.Name}\" and its {PlanText.PlanCount(product.Plans.Count)}? Ended registrations go with it. This cannot be undone.",
            "Delete");
        if (!confirmed) return;
        var result = await Products.DeleteAsync(Actor!, product.Id);
        if (!result.IsSuccess)
        {
            // 409 while applications are subscribed: the service says which.
            Snackbar.Add(result.Error!.Detail, Severity.Error);
            return;
        }
        Snackbar.Add($"Product {product.Name} deleted", Severity.Success);
        await LoadAsync();
    }
}
