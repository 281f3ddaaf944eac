using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>/products: the catalog, one card (product-card) per product, its name linking to /products/{slug}.</summary>
public sealed class ProductCatalogPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "API Products", Level = 1 });
    public ILocator Cards => page.GetByTestId("product-card");

    public ILocator Card(string name) => Cards.Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }) });

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/products$"));
        await Expect(Heading).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    public ILocator Search => page.Locator("input[data-testid=products-search], [data-testid=products-search] input");

    /// <summary>
    /// Searches for the product, as a user among many products would, and opens it: other journeys on the same server
    /// add products enough to push this one off the first page (12 cards, by name).
    /// </summary>
    public async Task<ProductPage> OpenAsync(string name)
    {
        await Search.FillAsync(name);
        await Expect(Cards).ToHaveCountAsync(1);
        await Card(name).GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
        var product = new ProductPage(page);
        await product.ExpectVisibleAsync(name);
        return product;
    }
}
