using Portal.Core.Domain;
using Portal.Core.Features.Products;
using Portal.Web.Features.Products;

namespace Portal.Tests.Web.Products;

/// <summary>The price a plan shows, made from its numbers, with the note beside it; unpriced plans show their note.</summary>
public sealed class PlanTextTests
{
    private static PlanDto Plan(PlanType type, string? note = null, string currency = "USD", decimal? fee = null, decimal? unit = null, int priceUnit = 1,
        decimal? minimum = null, TierMode mode = TierMode.Graduated, params PlanTierDto[] tiers) =>
        new(Guid.NewGuid(), "P", type, null, RateLimitWindow.Second, null, QuotaPeriod.Month, note, tiers, currency, fee, unit, priceUnit, minimum, mode);

    [Fact]
    public void Prices_AreMadeFromTheNumbers()
    {
        Assert.Equal("USD 49.00 / month", PlanText.Price(Plan(PlanType.Subscription, fee: 49m)));
        Assert.Equal("JPY 5,000 / month", PlanText.Price(Plan(PlanType.Subscription, currency: "JPY", fee: 5000m)));
        Assert.Equal("USD 0.002 per call, min USD 10.00 / month", PlanText.Price(Plan(PlanType.Metered, unit: 0.002m, minimum: 10m)));
        Assert.Equal("KWD 1.500 per 1,000 calls", PlanText.Price(Plan(PlanType.Metered, currency: "KWD", unit: 1.5m, priceUnit: 1000)));
        var tiered = Plan(PlanType.Tiered, mode: TierMode.Volume, tiers: [new PlanTierDto(1_000, "", 0.01m), new PlanTierDto(null, "bulk", 0.005m, 20m)]);
        Assert.Equal("Volume tiers, from USD 0.005 per call", PlanText.Price(tiered));
        Assert.Equal("USD 0.01 per call", PlanText.TierRate(tiered, 0));
        Assert.Equal("USD 0.005 per call + USD 20.00", PlanText.TierRate(tiered, 1));
        Assert.Equal("Free", PlanText.Price(Plan(PlanType.Free)));
    }

    [Fact]
    public void TheNote_StandsBesideAPrice_OrIsThePriceOfAnUnpricedPlan()
    {
        Assert.Equal("Cancel any time", PlanText.Note(Plan(PlanType.Subscription, "Cancel any time", fee: 49m)));
        var old = Plan(PlanType.Subscription, "$49 / month");
        Assert.Equal("$49 / month", PlanText.Price(old));
        Assert.Null(PlanText.Note(old));
        Assert.Equal("—", PlanText.Price(Plan(PlanType.Metered)));
    }

    [Fact]
    public void Cheapest_ComparesTheDerivedPrices()
    {
        Assert.Equal("from USD 19.00 / month", PlanText.Cheapest([Plan(PlanType.Subscription, fee: 49m), Plan(PlanType.Subscription, fee: 19m)]));
        Assert.Equal("Free", PlanText.Cheapest([Plan(PlanType.Subscription, fee: 0m), Plan(PlanType.Subscription, fee: 19m)]));
        Assert.Equal("from USD 0.001 per call", PlanText.Cheapest([Plan(PlanType.Tiered, tiers: [new PlanTierDto(10, "", 0.002m), new PlanTierDto(null, "", 0.001m)])]));
    }
}
