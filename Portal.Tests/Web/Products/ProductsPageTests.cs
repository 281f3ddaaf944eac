using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Components;
using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Products;
using Portal.Tests.Support;
using Portal.Web.Features.Products;

namespace Portal.Tests.Web.Products;

/// <summary>The catalog at /products with the real product service over SQLite.</summary>
public sealed class ProductsPageTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Developer_SeesPublishedProductsAsCards_WithoutDraftsOrActions()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API", title: "Take card payments");
        await ProductCatalog.ProductAsync(Db, "Secret Beta API", published: false);
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var cut = RenderCatalog();

        var card = Assert.Single(Cards(cut));
        Assert.Contains("Payments API", card.TextContent);
        Assert.Contains("Take card payments", card.QuerySelector("[data-testid=product-title]")!.TextContent);
        Assert.Contains("What Payments API does", card.TextContent);
        Assert.Equal("3 plans · Free", card.QuerySelector("[data-testid=product-plans]")!.TextContent.Trim());
        Assert.Equal("/products/payments-api", card.QuerySelector("[data-testid=view-product]")!.GetAttribute("href"));
        Assert.DoesNotContain("Secret Beta API", cut.Markup);
        Assert.Empty(cut.FindAll("[data-testid=product-draft]"));
        Assert.Empty(cut.FindAll("[data-testid=create-product], [data-testid=edit-product], [data-testid=delete-product]"));
    }

    [Fact]
    public async Task Card_ShowsTheCheapestPrice_WhenNoPlanIsFree()
    {
        await ProductCatalog.ProductAsync(Db, "Premium API", plans:
        [
            new() { Name = "Gold", Type = PlanType.Subscription, PriceText = "$49 / month" },
            new() { Name = "Silver", Type = PlanType.Subscription, PriceText = "$19 / month" },
        ]);
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var cut = RenderCatalog();

        Assert.Equal("2 plans · from $19 / month", Assert.Single(Cards(cut)).QuerySelector("[data-testid=product-plans]")!.TextContent.Trim());
    }

    [Fact]
    public async Task Admin_SeesDraftsMarked_AndTheManageActions()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        await ProductCatalog.ProductAsync(Db, "Secret Beta API", published: false);
        SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);

        var cut = RenderCatalog(expected: 2);

        var draft = Assert.Single(Cards(cut), c => c.QuerySelector("[data-testid=product-draft]") is not null);
        Assert.Contains("Secret Beta API", draft.TextContent);
        Assert.Contains("Draft", draft.QuerySelector("[data-testid=product-draft]")!.TextContent);
        Assert.NotNull(cut.Find("[data-testid=create-product]"));
        Assert.Equal(2, cut.FindAll("[data-testid=edit-product]").Count);
        Assert.Equal(2, cut.FindAll("[data-testid=delete-product]").Count);
    }

    [Fact]
    public async Task ReadOnly_SeesDraftsToo_ButNoActions()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        await ProductCatalog.ProductAsync(Db, "Secret Beta API", published: false);
        SignInAs((await Db.CreateUserAsync(Roles.ReadOnly)).Actor);

        var cut = RenderCatalog(expected: 2);

        Assert.Single(cut.FindAll("[data-testid=product-draft]"));
        Assert.Empty(cut.FindAll("[data-testid=create-product], [data-testid=edit-product], [data-testid=delete-product]"));
        Assert.Equal(2, cut.FindAll("[data-testid=view-product]").Count);
    }

    [Fact]
    public async Task NoProducts_ShowsTheEmptyState()
    {
        await ProductCatalog.ProductAsync(Db, "Only a draft", published: false);
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var cut = RenderWithProviders<ProductsPage>();

        cut.WaitForAssertion(() => Assert.Contains("No API products yet", cut.Find("[data-testid=products-empty]").TextContent), Wait);
        Assert.Empty(Cards(cut));
    }

    [Fact]
    public async Task Search_AsksTheServer_AndSaysWhenNothingMatches()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        await ProductCatalog.ProductAsync(Db, "Maps API");
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var cut = RenderCatalog(expected: 2);

        cut.Find("input[data-testid=products-search], [data-testid=products-search] input").Input("maps");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));

        cut.WaitForAssertion(() => Assert.Contains("Maps API", Assert.Single(Cards(cut)).TextContent), Wait);

        cut.Find("input[data-testid=products-search], [data-testid=products-search] input").Input("nothing like this");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));

        cut.WaitForAssertion(() => Assert.Contains("No products match your search", cut.Find("[data-testid=products-empty]").TextContent), Wait);
    }

    [Fact]
    public async Task OpenedWithASearchInTheAddress_ShowsOnlyWhatMatches()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        await ProductCatalog.ProductAsync(Db, "Maps API");
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/products?search=maps");

        var cut = RenderWithProviders<ProductsPage>();

        cut.WaitForAssertion(() => Assert.Contains("Maps API", Assert.Single(Cards(cut)).TextContent), Wait);
        Assert.Equal("maps", cut.Find("input[data-testid=products-search], [data-testid=products-search] input").GetAttribute("value"));
    }

    [Fact]
    public async Task ManyProducts_ArePagedOnTheServer()
    {
        for (var i = 1; i <= ProductsPage.PageSize + 1; i++)
            await ProductCatalog.ProductAsync(Db, $"Product {i:00}", plans: [new() { Name = "Free", Type = PlanType.Free }]);
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);
        var cut = RenderCatalog(expected: ProductsPage.PageSize);

        Assert.Contains("Product 01", cut.Markup);
        cut.Find("[data-testid=products-pager] button[aria-label*='page 2'], [data-testid=products-pager] button[aria-label*='Page 2']").Click();

        cut.WaitForAssertion(() => Assert.Contains("Product 13", Assert.Single(Cards(cut)).TextContent), Wait);
    }

    [Fact]
    public async Task Delete_AfterAConfirmationNamingTheProduct_RemovesIt()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        SignInAs(await Db.RootAsync());
        var cut = RenderCatalog();

        cut.Find("[data-testid=delete-product]").Click();
        var dialog = cut.WaitForElement(".mud-dialog", Wait);
        Assert.Contains("Delete \"Payments API\"", dialog.TextContent);
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Delete").Click();

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("Product Payments API deleted", cut.Markup);
            Assert.NotNull(cut.Find("[data-testid=products-empty]"));
        }, Wait);
        Assert.Equal(0, (await Db.Get<ProductService>().ListAsync(await Db.RootAsync(), new ProductQuery())).Value.Total);
    }

    [Fact]
    public async Task Delete_WhileSubscribed_ShowsTheConflictInASnackbar()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        var developer = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        var app = await ProductCatalog.ApplicationAsync(Db, developer, "Mobile iOS App");
        await ProductCatalog.SubscribeAsync(Db, developer, app.Application.Id, product, "Free");
        SignInAs(await Db.RootAsync());
        var cut = RenderCatalog();

        cut.Find("[data-testid=delete-product]").Click();
        cut.WaitForElement(".mud-dialog", Wait);
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Delete").Click();

        cut.WaitForAssertion(() => Assert.Contains("waiting or approved subscription", cut.Find(".mud-snackbar").TextContent), Wait);
        Assert.Single(Cards(cut));
    }

    private IRenderedComponent<ContainerFragment> RenderCatalog(int expected = 1)
    {
        var cut = RenderWithProviders<ProductsPage>();
        cut.WaitForAssertion(() => Assert.Equal(expected, Cards(cut).Count), Wait);
        return cut;
    }

    private static IReadOnlyList<IElement> Cards(IRenderedComponent<ContainerFragment> cut) => cut.FindAll("[data-testid=product-card]");
}
