using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Products;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Products;

/// <summary>Plan prices through the product service: what is refused, at which field, and how older bodies are kept.</summary>
public sealed class PlanPriceValidationTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _root = null!;
    private ProductService Products => _db.Get<ProductService>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private Task<Result<ProductDto>> CreateAsync(params PlanRequest[] plans) =>
        Products.CreateAsync(_root, new CreateProduct { Name = $"Priced {Guid.NewGuid():N}", Plans = [.. plans] });

    private static IReadOnlyDictionary<string, string[]> FieldErrors<T>(Result<T> result) => Assert.IsType<ValidationError>(result.Error).Errors;

    [Fact]
    public async Task PricedPlans_AreStored_AndReadBack_WithTheCurrencyUpperCased()
    {
        var result = await CreateAsync(
            new PlanRequest { Name = "Pro", Type = PlanType.Subscription, Currency = "eur", FlatFee = 49m, PriceText = "Billed monthly" },
            new PlanRequest { Name = "Pay as you go", Type = PlanType.Metered, Currency = "USD", UnitPrice = 2m, PriceUnit = 1000, MonthlyMinimum = 10m },
            new PlanRequest
            {
                Name = "Volume", Type = PlanType.Tiered, Currency = "JPY", TierMode = TierMode.Volume,
                Tiers = [new() { UpTo = 1_000, UnitPrice = 0.5m, Note = "first thousand" }, new() { UnitPrice = 0.25m, FlatFee = 100m }],
            });

        Assert.True(result.IsSuccess, result.Error?.Detail);
        var plans = (await Products.GetAsync(_root, result.Value.Id.ToString())).Value.Plans;
        Assert.Equal(("EUR", 49m, "Billed monthly"), (plans[0].Currency, plans[0].FlatFee, plans[0].PriceText));
        Assert.Equal((2m, 1000, 10m), (plans[1].UnitPrice, plans[1].PriceUnit, plans[1].MonthlyMinimum));
        Assert.Equal(TierMode.Volume, plans[2].TierMode);
        Assert.Equal([new PlanTierDto(1_000, "first thousand", 0.5m), new PlanTierDto(null, "", 0.25m, 100m)], plans[2].Tiers);
        Assert.Equal("first thousand", plans[2].Tiers[0].Note);
        Assert.All(plans, p => Assert.True(p.Priced));
    }

    [Fact]
    public async Task EachTypeNeedsItsPrice_AndTheMessagesAreAtTheFields()
    {
        var result = await CreateAsync(
            new PlanRequest { Name = "Sub", Type = PlanType.Subscription, Currency = "USD" },
            new PlanRequest { Name = "Meter", Type = PlanType.Metered, Currency = "USD", MonthlyMinimum = 5m },
            new PlanRequest { Name = "Tiers", Type = PlanType.Tiered, Currency = "USD", Tiers = [new() { UpTo = 10, UnitPrice = 1m }, new() { }] },
            new PlanRequest { Name = "None", Type = PlanType.Tiered, Currency = "USD" });

        var errors = FieldErrors(result);
        Assert.Contains("monthly fee", Assert.Contains("plans[0].flatFee", errors)[0]);
        Assert.Contains("unit price", Assert.Contains("plans[1].unitPrice", errors)[0]);
        Assert.Contains("plans[2].tiers[1].unitPrice", errors.Keys);
        Assert.DoesNotContain("plans[2].tiers[0].unitPrice", errors.Keys);
        Assert.Equal(["A tiered plan needs at least one tier."], errors["plans[3].tiers"]);
    }

    [Fact]
    public async Task UnknownCurrency_NegativeAmounts_TooManyDigits_AndOddUnits_AreRefused()
    {
        var result = await CreateAsync(
            new PlanRequest { Name = "A", Type = PlanType.Subscription, Currency = "XYZ", FlatFee = 1m },
            new PlanRequest { Name = "B", Type = PlanType.Subscription, Currency = "USD", FlatFee = -1m },
            new PlanRequest { Name = "C", Type = PlanType.Subscription, Currency = "USD", FlatFee = 49.001m },
            new PlanRequest { Name = "D", Type = PlanType.Subscription, Currency = "JPY", FlatFee = 500.5m },
            new PlanRequest { Name = "E", Type = PlanType.Metered, Currency = "USD", UnitPrice = 0.0000001m, PriceUnit = 100 },
            new PlanRequest { Name = "F", Type = PlanType.Metered, Currency = "JPY", UnitPrice = 0.00001m },
            new PlanRequest { Name = "G", Type = PlanType.Tiered, Currency = "KWD", Tiers = [new() { UnitPrice = 0.000001m, FlatFee = 0.0001m }] },
            new PlanRequest { Name = "H", Type = PlanType.Metered, Currency = "USD", UnitPrice = 2_000_000_000m });

        var errors = FieldErrors(result);
        Assert.Contains("'XYZ' is not an ISO 4217 currency", errors["plans[0].currency"][0]);
        Assert.Contains("cannot be negative", errors["plans[1].flatFee"][0]);
        Assert.Contains("at most 2 decimal places in USD", errors["plans[2].flatFee"][0]);
        Assert.Contains("whole number of JPY", errors["plans[3].flatFee"][0]);
        Assert.Contains("at most 6 decimal places", errors["plans[4].unitPrice"][0]);
        Assert.Contains("1,000 calls", errors["plans[4].priceUnit"][0]);
        Assert.Contains("at most 4 decimal places in JPY", errors["plans[5].unitPrice"][0]);
        // KWD: 3 digits for a fee; unit prices stop at the 6 the database keeps.
        Assert.DoesNotContain("plans[6].tiers[0].unitPrice", errors.Keys);
        Assert.Contains("at most 3 decimal places in KWD", errors["plans[6].tiers[0].flatFee"][0]);
        Assert.Contains("at most 1,000,000,000", errors["plans[7].unitPrice"][0]);
    }

    [Fact]
    public async Task OldBodies_WithPriceTextOnly_AreAccepted_TheTierPriceBecomesItsNote()
    {
        var result = await CreateAsync(
            new PlanRequest { Name = "Gold", Type = PlanType.Subscription, PriceText = "$49 / month" },
            new PlanRequest { Name = "Volume", Type = PlanType.Tiered, Tiers = [new() { UpTo = 100, Price = "$0.01" }, new() { Price = "$0.005" }] });

        Assert.True(result.IsSuccess, result.Error?.Detail);
        var plans = result.Value.Plans;
        Assert.False(plans[0].Priced);
        Assert.Equal("$49 / month", plans[0].PriceText);
        Assert.Equal(["$0.01", "$0.005"], plans[1].Tiers.Select(t => t.Note));
        Assert.All(plans[1].Tiers, t => Assert.Null(t.UnitPrice));
    }

    [Fact]
    public async Task AnOldBody_OnAPricedPlan_KeepsItsNumbers_ANewBodyReplacesThem()
    {
        var created = (await CreateAsync(
            new PlanRequest { Name = "Volume", Type = PlanType.Tiered, Currency = "USD", PriceUnit = 1000,
                Tiers = [new() { UpTo = 100, UnitPrice = 5m }, new() { UnitPrice = 3m }] })).Value;
        var id = created.Plans[0].Id;

        var old = await Products.UpdateAsync(_root, created.Id, new UpdateProduct
        {
            Plans = [new PlanRequest { Id = id, Name = "Volume", Type = PlanType.Tiered, Tiers = [new() { UpTo = 100, Price = "starter" }, new() { Price = "" }] }],
        });

        Assert.True(old.IsSuccess, old.Error?.Detail);
        var kept = old.Value.Plans[0];
        Assert.Equal((1000, 5m, 3m, "starter"), (kept.PriceUnit, kept.Tiers[0].UnitPrice, kept.Tiers[1].UnitPrice, kept.Tiers[0].Note));

        var replaced = await Products.UpdateAsync(_root, created.Id, new UpdateProduct
        {
            Plans = [new PlanRequest { Id = id, Name = "Volume", Type = PlanType.Metered, Currency = "GBP", UnitPrice = 0.01m }],
        });

        var metered = replaced.Value.Plans[0];
        Assert.Equal(("GBP", 0.01m, 1, 0), (metered.Currency, metered.UnitPrice, metered.PriceUnit, metered.Tiers.Count));
    }

    [Fact]
    public async Task PriceFieldsOfOtherTypes_AreNotKept()
    {
        var result = await CreateAsync(new PlanRequest
        {
            Name = "Pro", Type = PlanType.Subscription, Currency = "USD", FlatFee = 10m, UnitPrice = 0.5m, MonthlyMinimum = 3m,
            Tiers = [new() { UnitPrice = 1m }],
        });

        var plan = result.Value.Plans[0];
        Assert.Equal((10m, (decimal?)null, (decimal?)null, 0), (plan.FlatFee!.Value, plan.UnitPrice, plan.MonthlyMinimum, plan.Tiers.Count));
    }
}
