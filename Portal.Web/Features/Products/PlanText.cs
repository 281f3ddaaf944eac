using System.Globalization;
using System.Text.RegularExpressions;
using Portal.Core.Domain;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Products;

namespace Portal.Web.Features.Products;

/// <summary>
/// How plans read on the catalog, the product page and the editor: "10 requests / second", "Unlimited", and the price made
/// from the plan's numbers ("USD 49.00 / month", "USD 0.002 per call, min USD 10.00 / month"), its note beside it. A paid
/// plan whose numbers were never set reads as its note, as before prices were numbers.
/// </summary>
public static partial class PlanText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string RateLimit(int? limit, RateLimitWindow window) =>
        limit is { } l ? $"{Requests(l)} / {(window == RateLimitWindow.Minute ? "minute" : "second")}" : "No rate limit";

    public static string Quota(long? quota, QuotaPeriod period) =>
        quota is { } q ? $"{Requests(q)} / {(period == QuotaPeriod.Day ? "day" : "month")}" : "Unlimited";

    public static string RateLimit(PlanDto plan) => RateLimit(plan.RateLimit, plan.RateLimitWindow);

    public static string Quota(PlanDto plan) => Quota(plan.Quota, plan.QuotaPeriod);

    public static string Price(PlanDto plan)
    {
        if (plan.Type == PlanType.Free && string.IsNullOrWhiteSpace(plan.PriceText)) return "Free";
        if (plan.Type == PlanType.Free || !plan.Priced)
            return string.IsNullOrWhiteSpace(plan.PriceText) ? "—" : plan.PriceText;
        return plan.Type switch
        {
            PlanType.Subscription => $"{Fee(plan.FlatFee ?? 0, plan.Currency)} / month",
            PlanType.Metered => $"{Rate(plan.UnitPrice ?? 0, plan.PriceUnit, plan.Currency)}"
                + (plan.MonthlyMinimum is > 0 and var min ? $", min {Fee(min, plan.Currency)} / month" : ""),
            _ => Tiered(plan),
        };
    }

    /// <summary>The note shown beside a price made from numbers; null when there is none or the note is the price itself.</summary>
    public static string? Note(PlanDto plan) =>
        plan.Type != PlanType.Free && plan.Priced && !string.IsNullOrWhiteSpace(plan.PriceText) ? plan.PriceText : null;

    /// <summary>An amount charged as it is, in the currency's minor unit: "USD 49.00", "JPY 500", "KWD 1.250".</summary>
    public static string Fee(decimal amount, string currency) =>
        $"{currency} {amount.ToString("N" + Currencies.Digits(currency), Invariant)}";

    /// <summary>An amount with the digits it has (at least the minor unit's): "USD 0.002", "USD 1.50".</summary>
    public static string Amount(decimal amount, string currency)
    {
        var digits = Currencies.Digits(currency);
        var format = "#,0" + (digits > 0 || amount != decimal.Truncate(amount) ? "." + new string('0', digits) + "######" : "");
        return $"{currency} {amount.ToString(format, Invariant)}";
    }

    /// <summary>"USD 0.002 per call" or "USD 1.50 per 1,000 calls".</summary>
    public static string Rate(decimal unitPrice, int priceUnit, string currency) =>
        $"{Amount(unitPrice, currency)} {(priceUnit == 1000 ? "per 1,000 calls" : "per call")}";

    /// <summary>A priced band: "USD 0.002 per call", "USD 0.001 per call + USD 5.00"; an unpriced band, its note.</summary>
    public static string TierRate(PlanDto plan, int index)
    {
        var tier = plan.Tiers[index];
        if (tier.UnitPrice is null && tier.FlatFee is null) return tier.Price;
        var rate = Rate(tier.UnitPrice ?? 0, plan.PriceUnit, plan.Currency);
        return tier.FlatFee is > 0 and var flat ? $"{rate} + {Fee(flat, plan.Currency)}" : rate;
    }

    private static string Tiered(PlanDto plan)
    {
        var mode = plan.TierMode == TierMode.Volume ? "Volume tiers" : "Graduated tiers";
        return $"{mode}, from {Rate(LowestRate(plan), plan.PriceUnit, plan.Currency)}";
    }

    private static decimal LowestRate(PlanDto plan) =>
        plan.Tiers.Where(t => t.UnitPrice is not null).Select(t => t.UnitPrice!.Value).DefaultIfEmpty(0).Min();

    /// <summary>A tier band's volume: "up to 10,000" or, for the open last band, "above 10,000".</summary>
    public static string TierVolume(IReadOnlyList<PlanTierDto> tiers, int index) =>
        tiers[index].UpTo is { } upTo ? $"Up to {upTo.ToString("N0", Invariant)}"
        : index > 0 && tiers[index - 1].UpTo is { } previous ? $"Above {previous.ToString("N0", Invariant)}"
        : "Any volume";

    /// <summary>
    /// The cheapest way in, for the catalog card. The first number of each plan's price ("USD 49.00 / month", or an
    /// unpriced plan's note "$49 / month") is compared; a Free plan or a price of 0 wins as "Free"; without any number, the first
    /// plan's text is shown as it is.
    /// </summary>
    public static string Cheapest(IReadOnlyList<PlanDto> plans)
    {
        if (plans.Count == 0) return "No plans yet";
        string? best = null;
        var bestAmount = decimal.MaxValue;
        foreach (var plan in plans)
        {
            if (plan.Type == PlanType.Free && string.IsNullOrWhiteSpace(plan.PriceText)) return "Free";
            var text = plan.Priced && plan.Type != PlanType.Free
                ? plan.Type == PlanType.Tiered ? Rate(LowestRate(plan), plan.PriceUnit, plan.Currency) : Price(plan)
                : plan.PriceText ?? plan.Tiers.FirstOrDefault()?.Price;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var amount = FirstNumber().Match(text) is { Success: true } m
                && decimal.TryParse(m.Value.Replace(",", ""), NumberStyles.Number, Invariant, out var a) ? a : (decimal?)null;
            if (amount == 0 || string.Equals(text.Trim(), "Free", StringComparison.OrdinalIgnoreCase)) return "Free";
            if (amount is { } value && value < bestAmount)
            {
                bestAmount = value;
                best = text;
            }
            best ??= text;
        }
        return best is null ? "Free" : $"from {best}";
    }

    public static string PlanCount(int count) => count == 1 ? "1 plan" : $"{count} plans";

    private static string Requests(long n) => $"{n.ToString("N0", Invariant)} {(n == 1 ? "request" : "requests")}";

    [GeneratedRegex(@"\d[\d,]*(\.\d+)?")]
    private static partial Regex FirstNumber();
}
