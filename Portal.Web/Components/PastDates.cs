namespace Portal.Web.Components;

/// <summary>
/// For date range pickers over what happened (calls, audit entries): nothing after today (UTC) can be chosen, and the
/// two months shown are the previous one and the current one, not the current one and an empty future.
/// </summary>
public static class PastDates
{
    public static DateTime Today(TimeProvider clock) => clock.GetUtcNow().UtcDateTime.Date;

    /// <summary>The first month a two-month picker shows: the month before the chosen end (or today).</summary>
    public static DateTime FirstMonth(TimeProvider clock, DateTime? end)
    {
        var last = end ?? Today(clock);
        return new DateTime(last.Year, last.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(-1);
    }
}
