using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;

namespace Portal.Core.Features.Usage;

/// <summary>The window of a usage summary; both ends optional (the last 7 UTC days, today included, up to now).</summary>
public sealed record UsageSummaryQuery
{
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
}

/// <summary>
/// The usage overview of a window, widened to whole buckets (<see cref="Interval"/> <c>hour</c> for windows of up to
/// 48 hours, else <c>day</c>, UTC): <see cref="Calls"/> and <see cref="Errors"/> are the sums of <see cref="Series"/>.
/// </summary>
public sealed record UsageSummary(
    DateTimeOffset From,
    DateTimeOffset To,
    string Interval,
    long Calls,
    long Errors,
    double ErrorRate,
    VerificationTotals Verifications,
    KeyTotals Keys,
    IReadOnlyList<UsageSeriesPoint> Series,
    IReadOnlyList<UsageTopItem> TopApplications,
    IReadOnlyList<UsageTopItem> TopProducts,
    IReadOnlyList<UsageTopItem> TopKeys,
    UsageTopBounds? TopBounds = null)
{
    /// <summary>Its calls and errors alone, as <see cref="UsageService.CallsAsync"/> answers them (a method: not in the JSON).</summary>
    public UsageCalls ToCalls() => new(From, To, Interval, Calls, Errors, ErrorRate, Series);
}

/// <summary>
/// The calls and errors of a summary's window alone (<see cref="UsageService.CallsAsync"/>): what a chart of them needs,
/// the same figures as the summary's.
/// </summary>
public sealed record UsageCalls(
    DateTimeOffset From,
    DateTimeOffset To,
    string Interval,
    long Calls,
    long Errors,
    double ErrorRate,
    IReadOnlyList<UsageSeriesPoint> Series);

/// <summary>Key verifications in the window: <c>VALID</c> answers and every other code, with a count per code.</summary>
public sealed record VerificationTotals(long Total, long Valid, long Invalid, IReadOnlyList<OutcomeCount> ByCode);

public sealed record OutcomeCount(string Code, long Count);

/// <summary>Keys (personal and application) created in the window, and those active now.</summary>
public sealed record KeyTotals(int Issued, int Active);

public sealed record UsageSeriesPoint(DateTimeOffset Start, long Calls, long Errors);

/// <summary>
/// Set when a top list is not proven to be the exact top 5 (a flat distribution over a window that is not a standard
/// one, see docs/usage-rollups.md): each listed total is exact, but an application, product or key left out may have up
/// to this many calls. Null per list that is exact; the whole record is null (absent) when all three are.
/// </summary>
public sealed record UsageTopBounds(long? Applications, long? Products, long? Keys);

/// <summary>One row of a top-5 list: what (application, product or key), its name, a line of detail and its calls.</summary>
public sealed record UsageTopItem(Guid Id, string Name, string? Detail, long Calls);

/// <summary>
/// The request log: newest first, every filter optional. Paged by <see cref="Cursor"/> (the previous answer's
/// <see cref="UsageRequestPage.NextCursor"/>), or by <see cref="PageQuery.Page"/> for the first
/// <see cref="UsageService.MaxOffsetRows"/> rows.
/// </summary>
public sealed record UsageRequestQuery : PageQuery
{
    /// <summary>Where the page starts: an opaque value from <see cref="UsageRequestPage.NextCursor"/>; it wins over 'page'.</summary>
    [StringLength(100)]
    public string? Cursor { get; init; }

    public Guid? KeyId { get; init; }
    public Guid? ApplicationId { get; init; }
    public Guid? ProductId { get; init; }

    /// <summary><c>api</c>, <c>verification</c> or <c>gateway</c> (any case); empty: all.</summary>
    [RegularExpression("^(?i:api|verification|gateway)$", ErrorMessage = "Source is 'api', 'verification' or 'gateway'.")]
    public string? Source { get; init; }

    /// <summary>An exact code (<c>404</c>), a class (<c>2xx</c>, <c>3xx</c>, <c>4xx</c>, <c>5xx</c>) or <c>error</c> (400 and above).</summary>
    [StringLength(8)]
    public string? Status { get; init; }

    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
}

/// <summary>
/// A page of the request log: the list shape of every list (<c>items, page, pageSize, total</c>) where
/// <see cref="Total"/> is exact up to <see cref="UsageService.RequestTotalBound"/>; beyond it, it is the bound and
/// <see cref="TotalIsLowerBound"/> is set ("10,000+"). <see cref="NextCursor"/> fetches the page after this one (null on
/// the last page).
/// </summary>
public sealed record UsageRequestPage(
    IReadOnlyList<UsageRequestDto> Items,
    int Page,
    int PageSize,
    int Total,
    bool TotalIsLowerBound,
    string? NextCursor);

public sealed record UsageRequestDto(
    long Id,
    DateTimeOffset At,
    Guid? KeyId,
    string? KeyName,
    Guid? ApplicationId,
    string? ApplicationName,
    Guid? ProductId,
    string? ProductName,
    string Method,
    string Route,
    int Status,
    int LatencyMs,
    string? Outcome,
    UsageSource Source = UsageSource.Api,
    Guid? AccountId = null,
    string? Path = null,
    long? RequestBytes = null,
    long? ResponseBytes = null,
    int? UpstreamLatencyMs = null,
    string? ClientAddress = null,
    string? UserAgent = null,
    long? LimitValue = null,
    long? LimitUsed = null,
    DateTimeOffset? LimitResetAt = null,
    UsageExplanation? Explanation = null);

/// <summary>
/// Why a request was refused or failed, in words with the numbers behind it (the request detail only, never the list):
/// "QUOTA_EXCEEDED: 10,000 of 10,000 calls this month, resets 01/01/2027 00:00 UTC".
/// </summary>
/// <param name="Code">The verification code (<c>RATE_LIMITED</c>, …) or, for a failed gateway or API call, its status.</param>
/// <param name="FromPlanNow">
/// Part of the text comes from the plan as it is now, not from figures recorded with the call (events recorded before
/// they were kept, or a plan changed since): the figures may differ from those of the moment.
/// </param>
public sealed record UsageExplanation(string Code, string Text, bool FromPlanNow);
