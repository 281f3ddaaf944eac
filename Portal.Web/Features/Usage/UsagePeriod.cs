using Portal.Core.Features.Usage;

namespace Portal.Web.Features.Usage;

/// <summary>The periods the overview offers, each ending with the current hour or day so its buckets are whole.</summary>
public sealed record UsagePeriod(string Key, string Label)
{
    public static readonly UsagePeriod Day = new("24h", "24 hours");
    public static readonly UsagePeriod Week = new("7d", "7 days");
    public static readonly UsagePeriod Month = new("30d", "30 days");

    public static readonly IReadOnlyList<UsagePeriod> All = [Day, Week, Month];

    public static UsagePeriod Parse(string? key) => All.FirstOrDefault(p => p.Key == key) ?? Week;

    /// <summary>The last 24 whole hours, or the last 7 or 30 UTC days including today.</summary>
    public UsageSummaryQuery QueryAt(DateTimeOffset now)
    {
        if (this == Day) return new UsageSummaryQuery { From = UsageBuckets.Align(now, TimeSpan.FromHours(1)).AddHours(-23), To = now };
        var today = UsageBuckets.Align(now, TimeSpan.FromDays(1));
        return new UsageSummaryQuery { From = today.AddDays(1 - (this == Week ? UsageService.DefaultDays : 30)), To = now };
    }
}
