namespace Portal.Web.Features.Usage;

/// <summary>
/// One colour per verification outcome, for the donut and its legend chips alike: green passes, ambers for a spent
/// plan (orange throttled, yellow quota), reds and browns for a refused key, each its own so the donut reads apart.
/// </summary>
public static class OutcomeColors
{
    public static string Hex(string code) => code switch
    {
        "VALID" => "#43a047",
        "RATE_LIMITED" => "#fb8c00",
        "QUOTA_EXCEEDED" => "#f9a825",
        "NOT_FOUND" => "#e53935",
        "NOT_SUBSCRIBED" => "#ad1457",
        "REVOKED" => "#6d4c41",
        "EXPIRED" => "#8d6e63",
        "DISABLED" => "#546e7a",
        _ => "#757575",
    };

    /// <summary>An outlined chip in the outcome's colour.</summary>
    public static string ChipStyle(string code) => $"color: {Hex(code)}; border-color: {Hex(code)}";
}
