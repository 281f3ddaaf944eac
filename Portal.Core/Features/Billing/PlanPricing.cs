using Portal.Core.Domain;

namespace Portal.Core.Features.Billing;

/// <summary>One band of a charge: the calls that fell in it and what they cost (exact, before the line is rounded).</summary>
/// <param name="From">The band's first call number (1-based).</param>
/// <param name="UpTo">Its last call number; null for the open band (or for a line that is not banded).</param>
/// <param name="PriceUnit">How many calls <paramref name="UnitPrice"/> is for (1 or 1,000), kept with the band so a frozen statement reads right.</param>
public sealed record BandCharge(long From, long? UpTo, long Calls, decimal UnitPrice, decimal FlatFee, decimal Amount, int PriceUnit = 1);

/// <summary>
/// What one subscription owes for one month: <see cref="Amount"/> rounded once to the currency's minor unit, and
/// the bands it comes from. <see cref="MinimumApplied"/> is set when a metered plan's monthly minimum replaced the usage price.
/// </summary>
public sealed record Charge(string Currency, long Calls, decimal Amount, IReadOnlyList<BandCharge> Bands, decimal? MinimumApplied = null);

/// <summary>
/// The price arithmetic of plans, pure: a plan and a month's billable calls in, a <see cref="Charge"/> out. It assumes the
/// subscription is billed for the month (the statement decides that): a Subscription plan's fee and a Metered plan's
/// minimum apply even at zero calls; a band's flat fee applies only once a call reaches the band.
/// </summary>
public static class PlanPricing
{
    public static Charge Price(Plan plan, long calls)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(calls);
        var unit = plan.PriceUnit <= 0 ? 1 : plan.PriceUnit;
        switch (plan.Type)
        {
            case PlanType.Subscription:
            {
                var fee = plan.FlatFee ?? 0;
                return Line(plan, calls, [new BandCharge(1, null, calls, 0, fee, fee)]);
            }
            case PlanType.Metered:
            {
                var price = plan.UnitPrice ?? 0;
                var usage = calls * price / unit;
                var band = new BandCharge(1, null, calls, price, 0, usage, unit);
                if (plan.MonthlyMinimum is { } minimum && minimum > usage)
                    return Line(plan, calls, [band], minimum) with { MinimumApplied = minimum };
                return Line(plan, calls, [band]);
            }
            case PlanType.Tiered:
                return plan.TierMode == TierMode.Volume ? Volume(plan, calls, unit) : Graduated(plan, calls, unit);
            default:
                return Line(plan, calls, []);
        }
    }

    /// <summary>
    /// The bands in order, the last one treated as open whatever its <c>UpTo</c> says (no call is ever free by falling off
    /// the end); a band whose boundary repeats the one before it is empty and left out.
    /// </summary>
    private static List<(long From, long? UpTo, decimal UnitPrice, decimal FlatFee)> Bands(Plan plan)
    {
        var sorted = plan.Tiers.OrderBy(t => t.UpTo ?? long.MaxValue).ToList();
        var bands = new List<(long, long?, decimal, decimal)>(sorted.Count);
        long from = 1;
        for (var i = 0; i < sorted.Count; i++)
        {
            var last = i == sorted.Count - 1;
            var upTo = last ? null : sorted[i].UpTo;
            // A repeated boundary makes a band no call can reach: it has no place (nor its flat fee) in any charge.
            if (upTo < from) continue;
            bands.Add((from, upTo, sorted[i].UnitPrice ?? 0, sorted[i].FlatFee ?? 0));
            if (upTo is { } u) from = u + 1;
        }
        return bands;
    }

    private static Charge Graduated(Plan plan, long calls, int unit)
    {
        var charged = new List<BandCharge>();
        foreach (var (from, upTo, price, flat) in Bands(plan))
        {
            if (calls < from) break;
            var inBand = Math.Min(calls, upTo ?? long.MaxValue) - from + 1;
            charged.Add(new BandCharge(from, upTo, inBand, price, flat, inBand * price / unit + flat, unit));
        }
        return Line(plan, calls, charged);
    }

    private static Charge Volume(Plan plan, long calls, int unit)
    {
        var bands = Bands(plan);
        if (calls == 0 || bands.Count == 0) return Line(plan, calls, []);
        var (from, upTo, price, flat) = bands.First(b => b.UpTo is null || calls <= b.UpTo);
        return Line(plan, calls, [new BandCharge(from, upTo, calls, price, flat, calls * price / unit + flat, unit)]);
    }

    private static Charge Line(Plan plan, long calls, IReadOnlyList<BandCharge> bands, decimal? total = null) =>
        new(plan.Currency, calls, Currencies.Round(total ?? bands.Sum(b => b.Amount), plan.Currency), bands);
}
