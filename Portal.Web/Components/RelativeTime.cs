namespace Portal.Web.Components;

/// <summary>"5 minutes ago" style text: easier to scan in a list than timestamps, which go in a tooltip.</summary>
public static class RelativeTime
{
    public static string Describe(DateTimeOffset at, DateTimeOffset now)
    {
        var ago = now - at;
        if (ago < TimeSpan.FromMinutes(1)) return "Just now";
        if (ago < TimeSpan.FromHours(1)) return Plural((int)ago.TotalMinutes, "minute");
        if (ago < TimeSpan.FromDays(1)) return Plural((int)ago.TotalHours, "hour");
        if (ago < TimeSpan.FromDays(30)) return Plural((int)ago.TotalDays, "day");
        if (ago < TimeSpan.FromDays(365)) return Plural((int)(ago.TotalDays / 30), "month");
        return Plural((int)(ago.TotalDays / 365), "year");
    }

    private static string Plural(int n, string unit) => n == 1 ? $"1 {unit} ago" : $"{n} {unit}s ago";
}
