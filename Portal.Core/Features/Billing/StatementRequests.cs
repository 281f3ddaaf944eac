using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Serialization;
using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.Billing;

/// <summary>Where a statement stands: the month to date (an estimate, with a projection) or a closed, frozen month.</summary>
public enum StatementStatus
{
    [JsonStringEnumMemberName("estimate")] Estimate,
    [JsonStringEnumMemberName("closed")] Closed,
}

/// <summary>
/// One billed subscription in a month: what it is, its calls, the bands they fell in and the amount (rounded once).
/// <see cref="ProjectedCalls"/> and <see cref="ProjectedAmount"/> are set on the current month only.
/// </summary>
public sealed record StatementLine(
    Guid SubscriptionId, Guid? ApplicationId, string ApplicationName, Guid ProductId, string ProductName,
    Guid PlanId, string PlanName, PlanType PlanType, string Currency, long Calls, decimal Amount,
    IReadOnlyList<BandCharge> Bands, decimal? MinimumApplied = null, long? ProjectedCalls = null, decimal? ProjectedAmount = null);

/// <summary>The sum of a statement's lines in one currency (amounts are never added across currencies).</summary>
public sealed record CurrencyTotal(string Currency, decimal Amount, long Calls);

/// <summary>
/// How the current month's end is projected: each line's calls so far divided by the elapsed fraction of the month,
/// priced by the plan as a whole month would be. Straight-line: it knows nothing of weekdays or growth.
/// </summary>
public sealed record StatementProjection(DateTimeOffset AsOf, double ElapsedFraction, IReadOnlyList<CurrencyTotal> Totals);

public sealed record StatementDto(
    Guid AccountId, string AccountName, string Month, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd,
    StatementStatus Status, int? Revision, DateTimeOffset? IssuedAt, string? Reason,
    IReadOnlyList<StatementLine> Lines, IReadOnlyList<CurrencyTotal> Totals, StatementProjection? Projection);

/// <summary>One account's statement in a month list: its totals, not its lines.</summary>
public sealed record StatementSummary(
    Guid AccountId, string AccountName, string Month, StatementStatus Status, int? Revision, int Lines, long Calls,
    IReadOnlyList<CurrencyTotal> Totals, IReadOnlyList<CurrencyTotal>? ProjectedTotals);

/// <summary>A product's share of a month over every account the caller sees, per currency.</summary>
public sealed record ProductTotal(Guid ProductId, string ProductName, string Currency, int Subscriptions, long Calls, decimal Amount);

/// <summary>A month over every account the caller sees: totals per currency and per product.</summary>
public sealed record MonthOverview(string Month, StatementStatus Status, int Accounts, int Lines, IReadOnlyList<CurrencyTotal> Totals, IReadOnlyList<ProductTotal> Products);

/// <summary>One row of a statements CSV: a line with its account and month.</summary>
public sealed record StatementExportRow(Guid AccountId, string AccountName, string Month, StatementStatus Status, int? Revision, StatementLine Line);

public sealed record StatementQuery : PageQuery
{
    /// <summary><c>yyyy-MM</c> (UTC); none: the current month.</summary>
    [StringLength(7)]
    public string? Month { get; init; }

    public Guid? AccountId { get; init; }
}

public sealed record ReissueStatement
{
    [StringLength(1000, ErrorMessage = "Reason is at most 1000 characters.")]
    public string? Reason { get; init; }
}

/// <summary>Billing months as the API writes them: <c>2026-11</c>, a calendar month in UTC.</summary>
public static class BillingMonth
{
    public const string Format = "yyyy-MM";

    /// <summary>The first instant of <paramref name="text"/>'s month, or null when it is not a <c>yyyy-MM</c> month (years 2000 to 9998).</summary>
    public static DateTimeOffset? Parse(string? text)
    {
        if (text is not { Length: 7 } || !DateTime.TryParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var month)) return null;
        if (month.Year is < 2000 or > 9998) return null;
        return new DateTimeOffset(month.Year, month.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    public static string Name(DateTimeOffset monthStart) => monthStart.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);
}
