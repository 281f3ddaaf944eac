using System.Globalization;
using System.Text.RegularExpressions;
using Portal.Core.Features.Products;

namespace Portal.Web.Features.Products;

/// <summary>How plans read on the catalog, the product page and the editor: "10 requests / second", "Unlimited", "from $49 / month".</summary>
public static partial class PlanText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string RateLimit(int? limit, RateLimitWindow window) =>
        limit is { } l ? $"{Requests(l)} / {(window == RateLimitWindow.Minute ? "minute" : "second")}" : "No rate limit";

    public static string Quota(long? quota, QuotaPeriod period) =>
        quota is { } q ? $"{Requests(q)} / {(period == QuotaPeriod.Day ? "day" : "month")}" : "Unlimited";

    public static string RateLimit(PlanDto plan) => RateLimit(plan.RateLimit, plan.RateLimitWindow);

    public static string Quota(PlanDto plan) => Quota(plan.Quota, plan.QuotaPeriod);

    public static string Price(PlanDto plan) =>
        string.IsNullOrWhiteSpace(plan.PriceText) ? (plan.Type == PlanType.Free ? "Free" : "—") : plan.PriceText;

    /// <summary>A tier band's volume: "up to 10,000" or, for the open last band, "above 10,000".</summary>
    public static string TierVolume(IReadOnlyList<PlanTierDto> tiers, int index) =>
        tiers[index].UpTo is { } upTo ? $"Up to {upTo.ToString("N0", Invariant)}"
        : index > 0 && tiers[index - 1].UpTo is { } previous ? $"Above {previous.ToString("N0", Invariant)}"
        : "Any volume";

    /// <summary>
    /// The cheapest way in, for the catalog card. Prices are display text ("$49 / month", "€0.002 per call"), so the
    /// first number in each is compared; a Free plan or a price of 0 wins as "Free"; without any number, the first
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
            var text = plan.PriceText ?? plan.Tiers.FirstOrDefault()?.Price;
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
