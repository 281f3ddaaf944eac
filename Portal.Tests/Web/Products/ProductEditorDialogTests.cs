using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Products;
using Portal.Tests.Support;
using Portal.Web.Features.Products;

namespace Portal.Tests.Web.Products;

/// <summary>The product editor (create and edit, plans and tiers) with the real product service over SQLite.</summary>
public sealed class ProductEditorDialogTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private IRenderedComponent<MudDialogProvider> _provider = default!;
    private Actor _admin = default!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _admin = SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        _provider = Render<MudDialogProvider>();
    }

    [Fact]
    public async Task Create_WithEmptyNames_ShowsTheMessagesAtTheFields_AndSavesNothing()
    {
        await OpenAsync(null);
        Field("plan-name").Change("");

        Submit();

        _provider.WaitForAssertion(() =>
        {
            Assert.Contains("Name is required.", _provider.Markup);
            Assert.Contains("Plan name is required.", _provider.Markup);
        }, Wait);
        Assert.Equal(0, (await Db.Get<ProductService>().ListAsync(_admin, new ProductQuery())).Value.Total);
    }

    [Fact]
    public async Task Create_WithABadSlugAndRateLimit_ShowsTheDataAnnotationMessages()
    {
        await OpenAsync(null);
        Field("product-name").Input("Payments API");
        Field("product-slug").Change("Not A Slug!");
        Field("plan-rate-limit").Change("2000000");

        Submit();

        _provider.WaitForAssertion(() =>
        {
            Assert.Contains("Slug may hold lowercase letters, digits and single hyphens only.", _provider.Markup);
            Assert.Contains("Rate limit must be between 1 and 1,000,000.", _provider.Markup);
        }, Wait);
    }

    [Fact]
    public async Task Create_SavesTheProductWithItsPlans_AndDerivesTheSlug()
    {
        await OpenAsync(null);
        Field("product-name").Input("Payments API v2");
        Assert.Contains("Leave empty to use \"payments-api-v2\"", _provider.Markup);
        Field("product-title").Change("Take card payments");
        Field("product-upstream").Change("https://payments.internal/v2");
        Field("plan-rate-limit").Change("10");
        Field("plan-quota").Change("1000");
        _provider.Find("[data-testid=add-plan]").Click();
        Fields("plan-name")[1].Change("Gold");
        Fields("plan-flat-fee")[0].Change("49");
        Fields("plan-price")[1].Change("$49 / month");

        Submit();

        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll(".mud-dialog")), Wait);
        var product = (await Db.Get<ProductService>().GetAsync(_admin, "payments-api-v2")).Value;
        Assert.Equal("Take card payments", product.Title);
        Assert.Equal("https://payments.internal/v2", product.UpstreamUrl);
        Assert.True(product.RequiresApproval);
        Assert.False(product.Published);
        Assert.Equal(["Free", "Gold"], product.Plans.Select(p => p.Name));
        Assert.Equal(10, product.Plans[0].RateLimit);
        Assert.Equal(1000, product.Plans[0].Quota);
        Assert.Equal("$49 / month", product.Plans[1].PriceText);
        Assert.Equal(49m, product.Plans[1].FlatFee);
        Assert.Equal("USD", product.Plans[1].Currency);
        Assert.Equal(PlanType.Subscription, product.Plans[1].Type);
    }

    [Fact]
    public async Task Tiered_ShowsTierRows_ThatCanBeAddedAndRemoved()
    {
        await OpenAsync(null);
        Assert.Empty(_provider.FindAll("[data-testid=plan-tiers]"));

        await ChoosePlanTypeAsync(PlanType.Tiered);

        _provider.WaitForElement("[data-testid=plan-tiers]", Wait);
        Assert.Empty(_provider.FindAll("[data-testid=tier-row]"));
        _provider.Find("[data-testid=add-tier]").Click();
        _provider.Find("[data-testid=add-tier]").Click();
        Assert.Equal(2, _provider.FindAll("[data-testid=tier-row]").Count);
        _provider.FindAll("[data-testid=remove-tier]")[0].Click();
        Assert.Single(_provider.FindAll("[data-testid=tier-row]"));

        await ChoosePlanTypeAsync(PlanType.Metered);
        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll("[data-testid=plan-tiers]")), Wait);
    }

    [Fact]
    public async Task Tiered_WithoutTiers_ShowsTheServicesMessageAtThePlan()
    {
        await OpenAsync(null);
        Field("product-name").Input("Volume API");
        await ChoosePlanTypeAsync(PlanType.Tiered);

        Submit();

        _provider.WaitForAssertion(() => Assert.Contains("A tiered plan needs at least one tier.", _provider.Find("[data-testid=tiers-error]").TextContent), Wait);
        Assert.NotEmpty(_provider.FindAll(".mud-dialog"));
    }

    [Fact]
    public async Task Tiered_WithFallingVolumes_ShowsTheServicesMessageAtTheTier()
    {
        await OpenAsync(null);
        Field("product-name").Input("Volume API");
        await ChoosePlanTypeAsync(PlanType.Tiered);
        _provider.WaitForElement("[data-testid=add-tier]", Wait).Click();
        _provider.Find("[data-testid=add-tier]").Click();
        Fields("tier-up-to")[0].Change("1000");
        Fields("tier-price")[0].Change("$0.01");
        Fields("tier-up-to")[1].Change("500");
        Fields("tier-price")[1].Change("$0.02");

        Submit();

        _provider.WaitForAssertion(() => Assert.Contains("Tier volumes must rise", _provider.FindAll("[data-testid=tier-row]")[1].TextContent), Wait);
    }

    [Fact]
    public async Task Create_WithATakenSlug_ShowsTheConflictAtTheSlug()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        await OpenAsync(null);
        Field("product-name").Input("Another payments");
        Field("product-slug").Change("payments-api");

        Submit();

        _provider.WaitForAssertion(() => Assert.Contains("Another product already uses the slug 'payments-api'", _provider.Markup), Wait);
        Assert.Empty(_provider.FindAll("[data-testid=dialog-error]"));
    }

    [Fact]
    public async Task Create_WithATakenSlug_SaysSoBesideTheButtons_AndScrollsTheSlugIntoView()
    {
        await ProductCatalog.ProductAsync(Db, "Payments API");
        await OpenAsync(null);
        Assert.Empty(_provider.FindAll("[data-testid=dialog-actions-error]"));
        Field("product-name").Input("Another payments");
        Field("product-slug").Change("payments-api");

        Submit();

        _provider.WaitForAssertion(() =>
        {
            var summary = _provider.Find(".mud-dialog-actions [data-testid=dialog-actions-error]");
            Assert.Equal("alert", summary.GetAttribute("role"));
            Assert.Contains("Not saved: Another product already uses the slug 'payments-api'", summary.TextContent);
        }, Wait);
        Assert.Contains(JSInterop.Invocations, i => i.Identifier == "portal.scrollToFirstError");

        // Fixing the field takes the summary away with the field's message.
        Field("product-slug").Change("payments-two");
        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll("[data-testid=dialog-actions-error]")), Wait);
    }

    [Fact]
    public async Task Create_WithSeveralInvalidFields_CountsThemBesideTheButtons()
    {
        await OpenAsync(null);
        Field("product-name").Input("Payments API");
        Field("product-slug").Change("Not A Slug!");
        Field("plan-rate-limit").Change("2000000");

        Submit();

        _provider.WaitForAssertion(() => Assert.Contains("Not saved: Slug may hold lowercase letters, digits and single hyphens only. (and 1 more)",
            _provider.Find("[data-testid=dialog-actions-error]").TextContent), Wait);
        Assert.Contains(JSInterop.Invocations, i => i.Identifier == "portal.scrollToFirstError");
    }

    [Fact]
    public async Task Edit_ShowsTheProduct_AndSavesChanges()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        await OpenAsync(product);
        Assert.Equal(3, _provider.FindAll("[data-testid=plan-editor]").Count);
        Assert.Equal(2, _provider.FindAll("[data-testid=tier-row]").Count);
        Assert.Equal("Payments API", Field("product-name").GetAttribute("value"));

        Field("product-name").Input("Payments API v2");
        _provider.FindAll("[data-testid=remove-plan]")[1].Click();
        Submit();

        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll(".mud-dialog")), Wait);
        var saved = (await Db.Get<ProductService>().GetAsync(_admin, product.Id.ToString())).Value;
        Assert.Equal("Payments API v2", saved.Name);
        Assert.Equal("payments-api", saved.Slug);
        Assert.Equal(["Free", "Volume"], saved.Plans.Select(p => p.Name));
        Assert.Equal(product.Plans[0].Id, saved.Plans[0].Id);
        Assert.Equal(2, saved.Plans[1].Tiers.Count);
    }

    [Fact]
    public async Task Edit_GatewayFields_SaveTimeoutBodyLimitAndACredentialNeverShown_ThenReplaceAndClearIt()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API", upstream: "http://10.0.0.5:8080/v1");
        await OpenAsync(product);
        Assert.Equal("30", Field("product-timeout").GetAttribute("value"));
        Assert.Equal("10", Field("product-body-limit").GetAttribute("value"));
        Assert.Empty(_provider.FindAll("[data-testid=product-credential-set]"));
        Assert.Equal("password", Field("product-credential-value").GetAttribute("type"));

        Field("product-timeout").Change("5");
        Field("product-body-limit").Change("2");
        Field("product-credential-header").Change("X-Backend-Token");
        Field("product-credential-value").Change("s3cret-backend");
        Submit();

        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll(".mud-dialog")), Wait);
        var saved = (await Db.Get<ProductService>().GetAsync(_admin, product.Id.ToString())).Value;
        Assert.Equal(5, saved.UpstreamTimeoutSeconds);
        Assert.Equal(2L * 1024 * 1024, saved.MaxRequestBodyBytes);
        Assert.Equal(new UpstreamCredentialDto("X-Backend-Token", true), saved.UpstreamCredential);
        Assert.Equal("s3cret-backend", (await Db.Get<GatewayRoutes>().FindAsync(saved.Slug))!.CredentialValue);

        // Opened again: the credential is named, its value is neither shown nor in the page.
        await OpenAsync(saved);
        Assert.Contains("X-Backend-Token", _provider.Find("[data-testid=product-credential-set]").TextContent);
        Assert.DoesNotContain("s3cret-backend", _provider.Markup);
        Assert.Empty(Fields("product-credential-value"));
        Assert.Equal("5", Field("product-timeout").GetAttribute("value"));
        Assert.Equal("2", Field("product-body-limit").GetAttribute("value"));

        // Replace: a new header and value.
        _provider.Find("[data-testid=product-credential-replace]").Click();
        _provider.WaitForAssertion(() => Assert.NotEmpty(Fields("product-credential-value")), Wait);
        Assert.Equal("", Field("product-credential-value").GetAttribute("value") ?? "");
        Field("product-credential-header").Change("Authorization");
        Field("product-credential-value").Change("Bearer next-secret");
        Submit();

        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll(".mud-dialog")), Wait);
        saved = (await Db.Get<ProductService>().GetAsync(_admin, product.Id.ToString())).Value;
        Assert.Equal(new UpstreamCredentialDto("Authorization", true), saved.UpstreamCredential);
        Assert.Equal("Bearer next-secret", (await Db.Get<GatewayRoutes>().FindAsync(saved.Slug))!.CredentialValue);

        // Clear: said before saving, gone after.
        await OpenAsync(saved);
        _provider.Find("[data-testid=product-credential-clear]").Click();
        _provider.WaitForElement("[data-testid=product-credential-cleared]", Wait);
        Submit();

        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll(".mud-dialog")), Wait);
        saved = (await Db.Get<ProductService>().GetAsync(_admin, product.Id.ToString())).Value;
        Assert.False(saved.UpstreamCredential is { ValueSet: true });
        Assert.Null((await Db.Get<GatewayRoutes>().FindAsync(saved.Slug))!.CredentialValue);
    }

    [Fact]
    public async Task Edit_GatewayFields_OutOfRange_AreRefusedAtTheFields_AndNothingIsSaved()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API", upstream: "http://10.0.0.5:8080/v1");
        await OpenAsync(product);

        Field("product-upstream").Change("http://169.254.169.254/latest");
        Field("product-credential-header").Change("X-Portal-Plan");
        Field("product-credential-value").Change("x");
        Submit();

        _provider.WaitForAssertion(() => Assert.Contains("link-local", _provider.Markup), Wait);
        Assert.Contains("not one the gateway sets itself", _provider.Markup);
        var saved = (await Db.Get<ProductService>().GetAsync(_admin, product.Id.ToString())).Value;
        Assert.Equal("http://10.0.0.5:8080/v1", saved.UpstreamUrl);
        Assert.False(saved.UpstreamCredential is { ValueSet: true });
    }

    [Fact]
    public async Task PriceFields_FollowThePlanType_AndTheServicesPriceMessagesShowAtThem()
    {
        await OpenAsync(null);
        Field("product-name").Input("Priced API");
        Assert.Empty(Fields("plan-currency"));
        _provider.Find("[data-testid=add-plan]").Click();
        Fields("plan-name")[1].Change("Gold");
        Assert.Single(Fields("plan-flat-fee"));
        Assert.Empty(Fields("plan-unit-price"));

        Field("plan-flat-fee").Change("49.005");
        Submit();

        _provider.WaitForAssertion(() => Assert.Contains("The monthly fee has at most 2 decimal places in USD.", _provider.Markup), Wait);
        Assert.Equal(0, (await Db.Get<ProductService>().ListAsync(_admin, new ProductQuery())).Value.Total);

        var select = _provider.FindComponents<MudSelect<PlanType>>()[1];
        await _provider.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(PlanType.Metered));
        _provider.WaitForAssertion(() => Assert.Single(Fields("plan-unit-price")), Wait);
        Assert.Single(Fields("plan-monthly-minimum"));
        Assert.Single(_provider.FindAll("[data-testid=plan-price-unit]"));
        Field("plan-unit-price").Change("0.002");
        Field("plan-monthly-minimum").Change("10");
        Submit();

        _provider.WaitForAssertion(() => Assert.Empty(_provider.FindAll(".mud-dialog")), Wait);
        var saved = (await Db.Get<ProductService>().GetAsync(_admin, "priced-api")).Value.Plans[1];
        Assert.Equal((PlanType.Metered, 0.002m, 10m, "USD", (decimal?)null), (saved.Type, saved.UnitPrice!.Value, saved.MonthlyMinimum!.Value, saved.Currency, saved.FlatFee));
        Assert.Equal("USD 0.002 per call, min USD 10.00 / month", PlanText.Price(saved));
    }

    [Fact]
    public async Task APlanWithoutNumbers_SaysSo_AndKeepsItsNoteUntilPriced()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Payments API");
        await OpenAsync(product);

        Assert.Equal(2, _provider.FindAll("[data-testid=plan-unpriced]").Count);
        Assert.Equal(3, _provider.FindAll("[data-testid=tier-unit-price]").Count + 1);
    }

    [Fact]
    public async Task PreviewLastMonth_ShowsEachSubscription_AndTheTotals_BeforeSaving()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Metered API", requiresApproval: false, plans:
        [
            new() { Name = "Pay as you go", Type = PlanType.Metered, Currency = "USD", UnitPrice = 0.01m, Quota = 1_000 },
        ]);
        var (_, dev) = await Db.CreateUserAsync(Roles.Developer);
        var app = await ProductCatalog.ApplicationAsync(Db, dev, "Web Shop");
        var subscription = await ProductCatalog.SubscribeAsync(Db, dev, app.Application.Id, product, "Pay as you go");
        var lastMonth = Portal.Core.Features.Billing.BillableUsage.MonthStart(Db.Clock.GetUtcNow());
        Db.Clock.SetUtcNow(lastMonth.AddMonths(1).AddDays(2));
        await using (var db = await Db.OpenAsync())
        {
            db.QuotaCounters.Add(new Portal.Core.Domain.QuotaCounter { SubscriptionId = subscription.Id, PeriodStart = lastMonth, Used = 1_000 });
            db.UsageVerificationHours.Add(new Portal.Core.Features.Usage.UsageVerificationHour
            {
                KeyId = app.Key.Id, ProductId = product.Id, HourStart = lastMonth.AddDays(1), Outcome = "QUOTA_EXCEEDED", Count = 500,
            });
            await db.SaveChangesAsync();
        }
        await OpenAsync(product);

        Field("plan-unit-price").Change("0.02");
        Field("plan-quota").Change("1200");
        _provider.Find("[data-testid=plan-what-if-preview]").Click();

        _provider.WaitForElement("[data-testid=plan-what-if-table]", Wait);
        var row = _provider.Find("[data-testid=plan-what-if-row]").TextContent;
        Assert.Contains("Web Shop", row);
        Assert.Contains("USD 10.00", row);
        Assert.Contains("USD 24.00", row);
        var total = _provider.Find("[data-testid=plan-what-if-total]").TextContent;
        Assert.Contains("1,000", total);
        Assert.Contains("500", total);
        Assert.Contains("300", total);
        Assert.Contains("QUOTA_EXCEEDED", _provider.Find("[data-testid=plan-what-if-counted]").TextContent);
        // Nothing saved by the preview.
        Assert.Equal(0.01m, (await Db.Get<ProductService>().GetAsync(_admin, product.Id.ToString())).Value.Plans[0].UnitPrice);
    }

    [Fact]
    public async Task PreviewLastMonth_WithoutSubscriptions_SaysSo()
    {
        var product = await ProductCatalog.ProductAsync(Db, "Quiet API", plans:
        [
            new() { Name = "Pro", Type = PlanType.Subscription, Currency = "EUR", FlatFee = 29m },
        ]);
        await OpenAsync(product);
        Assert.Empty(_provider.FindAll("[data-testid=plan-what-if-table]"));

        _provider.Find("[data-testid=plan-what-if-preview]").Click();

        _provider.WaitForElement("[data-testid=plan-what-if-empty]", Wait);
    }

    private async Task OpenAsync(ProductDto? product)
    {
        var dialogs = Services.GetRequiredService<IDialogService>();
        await _provider.InvokeAsync(() => dialogs.ShowAsync<ProductEditorDialog>("Product",
            new DialogParameters<ProductEditorDialog> { { d => d.Actor, _admin }, { d => d.Product, product } }));
        _provider.WaitForElement("[data-testid=plan-editor]", Wait);
    }

    private async Task ChoosePlanTypeAsync(PlanType type)
    {
        var select = _provider.FindComponents<MudSelect<PlanType>>()[0];
        await _provider.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(type));
    }

    private AngleSharp.Dom.IElement Field(string testId) => Fields(testId)[0];

    private IReadOnlyList<AngleSharp.Dom.IElement> Fields(string testId) =>
        _provider.FindAll($"input[data-testid={testId}], textarea[data-testid={testId}], [data-testid={testId}] input, [data-testid={testId}] textarea");

    private void Submit() => _provider.Find("form#product-editor-form").Submit();
}
