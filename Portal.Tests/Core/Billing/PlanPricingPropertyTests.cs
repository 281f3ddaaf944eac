using FsCheck;
using FsCheck.Fluent;
using Portal.Core.Domain;
using Portal.Core.Features.Billing;

namespace Portal.Tests.Core.Billing;

/// <summary>
/// Properties of the tier arithmetic over generated plans (currencies with 0, 2 and 3 minor digits, prices per 1 or
/// 1,000 calls, up to five bands), each checked at 0 calls and at, just under and just over every band boundary.
/// </summary>
public sealed class PlanPricingPropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(400);

    /// <summary>A generated tiered plan and the call counts it is priced at.</summary>
    public sealed record Case(Plan Plan, long[] Calls)
    {
        public override string ToString() =>
            $"{Plan.TierMode} {Plan.Currency} per {Plan.PriceUnit}: " +
            string.Join(", ", Plan.Tiers.Select(t => $"≤{t.UpTo?.ToString() ?? "∞"} @{t.UnitPrice}+{t.FlatFee}")) + $" at [{string.Join(", ", Calls)}]";
    }

    private static Gen<decimal> AmountGen(int digits, int max) =>
        Gen.Choose(0, max).Select(n => n / Pow10(digits));

    private static decimal Pow10(int digits) => digits switch { 0 => 1m, 1 => 10m, 2 => 100m, 3 => 1000m, 4 => 10_000m, 5 => 100_000m, _ => 1_000_000m };

    private static Gen<Case> Cases(TierMode mode) =>
        from currency in Gen.Elements("USD", "JPY", "KWD", "EUR")
        from priceUnit in Gen.Elements(1, 1000)
        from count in Gen.Choose(1, 5)
        from steps in Gen.ArrayOf(Gen.Choose(1, 20_000), count)
        from prices in Gen.ArrayOf(AmountGen(Math.Min(Currencies.Digits(currency) + 4, 6), 5_000_000), count)
        from fees in Gen.ArrayOf(Gen.Frequency((2, Gen.Constant(0m)), (1, AmountGen(Currencies.Digits(currency), 100_000))), count)
        from extra in Gen.Choose(0, 200_000)
        let tiers = Tiers(steps, prices, fees)
        select new Case(
            new Plan { Type = PlanType.Tiered, TierMode = mode, Currency = currency, PriceUnit = priceUnit, Tiers = tiers },
            [0, 1, .. tiers.Where(t => t.UpTo is not null).SelectMany(t => new[] { t.UpTo!.Value - 1, t.UpTo.Value, t.UpTo.Value + 1 }), extra]);

    private static List<PlanTier> Tiers(int[] steps, decimal[] prices, decimal[] fees)
    {
        var tiers = new List<PlanTier>(steps.Length);
        long upTo = 0;
        for (var i = 0; i < steps.Length; i++)
        {
            upTo += steps[i];
            tiers.Add(new PlanTier { UpTo = i == steps.Length - 1 ? null : upTo, UnitPrice = prices[i], FlatFee = fees[i] == 0 ? null : fees[i] });
        }
        return tiers;
    }

    private static void Check(TierMode mode, Func<Case, long, bool> property) =>
        Prop.ForAll(Cases(mode).ToArbitrary(), c => c.Calls.All(n => n >= 0 && property(c, n) || n < 0)).Check(Runs);

    private static bool WholeMinorUnits(Charge charge) =>
        Math.Round(charge.Amount, Currencies.Digits(charge.Currency)) == charge.Amount;

    [Theory]
    [InlineData(TierMode.Graduated)]
    [InlineData(TierMode.Volume)]
    public void Amount_IsNeverNegative_AndInWholeMinorUnits(TierMode mode) =>
        Check(mode, (c, n) =>
        {
            var charge = PlanPricing.Price(c.Plan, n);
            return charge.Amount >= 0 && WholeMinorUnits(charge) && charge.Bands.All(b => b.Amount >= 0 && b.Calls >= 0);
        });

    [Theory]
    [InlineData(TierMode.Graduated)]
    [InlineData(TierMode.Volume)]
    public void Amount_IsTheSumOfTheBandAmounts_RoundedOnce(TierMode mode) =>
        Check(mode, (c, n) =>
        {
            var charge = PlanPricing.Price(c.Plan, n);
            return charge.Amount == Currencies.Round(charge.Bands.Sum(b => b.Amount), c.Plan.Currency)
                && charge.Bands.All(b => b.Amount == b.Calls * b.UnitPrice / c.Plan.PriceUnit + b.FlatFee);
        });

    [Theory]
    [InlineData(TierMode.Graduated)]
    [InlineData(TierMode.Volume)]
    public void ZeroCalls_CostNothing(TierMode mode) =>
        Check(mode, (c, _) => PlanPricing.Price(c.Plan, 0) is { Amount: 0, Bands.Count: 0, Calls: 0 });

    [Fact]
    public void Graduated_EqualsTheSumOfPerBandSlices() =>
        Check(TierMode.Graduated, (c, n) =>
        {
            // The oracle: each band's slice of [1, n], priced at its rate, its flat fee once the slice is not empty.
            decimal expected = 0;
            long from = 1;
            foreach (var tier in c.Plan.Tiers)
            {
                var to = tier.UpTo ?? long.MaxValue;
                var slice = Math.Max(0, Math.Min(n, to) - from + 1);
                if (slice > 0) expected += slice * tier.UnitPrice!.Value / c.Plan.PriceUnit + (tier.FlatFee ?? 0);
                from = to == long.MaxValue ? to : to + 1;
            }
            var charge = PlanPricing.Price(c.Plan, n);
            return charge.Amount == Currencies.Round(expected, c.Plan.Currency)
                && charge.Bands.Sum(b => b.Calls) == n
                && charge.Bands.All(b => b.Calls >= 1 && b.From <= b.From + b.Calls - 1 && (b.UpTo is null || b.From + b.Calls - 1 <= b.UpTo));
        });

    [Fact]
    public void Graduated_AtABoundary_FillsThatBand_AndOneMoreCallOpensTheNext() =>
        Check(TierMode.Graduated, (c, _) => c.Plan.Tiers.SkipLast(1).Select((t, i) => (t.UpTo!.Value, i)).All(b =>
        {
            var at = PlanPricing.Price(c.Plan, b.Value);
            var over = PlanPricing.Price(c.Plan, b.Value + 1);
            return at.Bands.Count == b.i + 1 && at.Bands[^1].UpTo == b.Value
                && over.Bands.Count == b.i + 2 && over.Bands[^1].Calls == 1 && over.Bands[^1].From == b.Value + 1
                && over.Amount >= at.Amount;
        }));

    [Fact]
    public void Volume_UsesExactlyTheOneBandTheTotalLandsIn() =>
        Check(TierMode.Volume, (c, n) =>
        {
            var charge = PlanPricing.Price(c.Plan, n);
            if (n == 0) return charge.Bands.Count == 0;
            var index = c.Plan.Tiers.FindIndex(t => t.UpTo is null || n <= t.UpTo);
            var tier = c.Plan.Tiers[index];
            var band = Assert.Single(charge.Bands);
            return band.Calls == n && band.UnitPrice == tier.UnitPrice && band.FlatFee == (tier.FlatFee ?? 0)
                && band.From <= n && (band.UpTo is null || n <= band.UpTo)
                && charge.Amount == Currencies.Round(n * tier.UnitPrice!.Value / c.Plan.PriceUnit + (tier.FlatFee ?? 0), c.Plan.Currency);
        });

    [Fact]
    public void Volume_AtABoundary_StaysInTheBand_AndOneMoreCallMovesEveryCallToTheNext() =>
        Check(TierMode.Volume, (c, _) => c.Plan.Tiers.SkipLast(1).Select((t, i) => (t.UpTo!.Value, i)).All(b =>
            PlanPricing.Price(c.Plan, b.Value).Bands[0].UnitPrice == c.Plan.Tiers[b.i].UnitPrice
            && PlanPricing.Price(c.Plan, b.Value - 1 == 0 ? b.Value : b.Value - 1).Bands[0].UnitPrice == c.Plan.Tiers[b.i].UnitPrice
            && PlanPricing.Price(c.Plan, b.Value + 1).Bands[0].UnitPrice == c.Plan.Tiers[b.i + 1].UnitPrice));

    [Fact]
    public void Jpy_HasNoMinorUnit_AndRoundsHalfAwayFromZero()
    {
        var plan = Tiered("JPY", TierMode.Graduated, 1, (1_000, 0.5m, null), (null, 0.25m, null));

        Assert.Equal(500m, PlanPricing.Price(plan, 1_000).Amount);
        Assert.Equal(500m, PlanPricing.Price(plan, 1_001).Amount);   // 500.25
        Assert.Equal(501m, PlanPricing.Price(plan, 1_002).Amount);   // 500.50, half away from zero
        Assert.Equal(501m, PlanPricing.Price(plan, 1_003).Amount);   // 500.75
        Assert.Equal(750m, PlanPricing.Price(Tiered("JPY", TierMode.Volume, 1, (1_000, 0.5m, null), (null, 0.25m, null)), 3_000).Amount);
    }

    [Fact]
    public void Kwd_KeepsThreeDigits()
    {
        var plan = new Plan { Type = PlanType.Metered, Currency = "KWD", UnitPrice = 0.0015m, PriceUnit = 1 };

        Assert.Equal(1.502m, PlanPricing.Price(plan, 1_001).Amount);    // 1.5015
        Assert.Equal(1.5m, PlanPricing.Price(plan, 1_000).Amount);
        var tiered = Tiered("KWD", TierMode.Graduated, 1000, (10_000, 1.25m, 0.5m), (null, 0.75m, null));
        Assert.Equal(13.001m, PlanPricing.Price(tiered, 10_001).Amount);  // 12.5 + 0.5 + 0.00075
    }

    [Fact]
    public void Lines_AreRoundedOnce_NotPerBand()
    {
        // Two bands of half a cent each: 0.01 once, where rounding each band would say 0.02.
        var plan = Tiered("USD", TierMode.Graduated, 1, (1, 0.005m, null), (null, 0.005m, null));

        var charge = PlanPricing.Price(plan, 2);

        Assert.Equal(2, charge.Bands.Count);
        Assert.Equal(0.01m, charge.Amount);
    }

    [Fact]
    public void RepeatedBoundaries_GiveNoEmptyBand_AndChargeNoFlatFeeForIt()
    {
        // Validation refuses such tiers; prices stored before it must still never charge a band no call reached.
        var plan = Tiered("USD", TierMode.Graduated, 1, (100, 0.01m, null), (100, 0.02m, 5m), (null, 0.03m, null));

        var charge = PlanPricing.Price(plan, 150);

        Assert.Equal(1.00m + 50 * 0.03m, charge.Amount);
        Assert.All(charge.Bands, b => Assert.True(b.Calls > 0));
    }

    private static Plan Tiered(string currency, TierMode mode, int unit, params (long? UpTo, decimal Price, decimal? Flat)[] tiers) => new()
    {
        Type = PlanType.Tiered, Currency = currency, TierMode = mode, PriceUnit = unit,
        Tiers = [.. tiers.Select(t => new PlanTier { UpTo = t.UpTo, UnitPrice = t.Price, FlatFee = t.Flat })],
    };
}
