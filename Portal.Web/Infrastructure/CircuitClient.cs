namespace Portal.Web.Infrastructure;

/// <summary>
/// What the first HTTP request knew about the browser, carried into the interactive circuit (which has no
/// HttpContext), so changes made from pages are audited with the client's address like API calls are.
/// </summary>
public sealed class CircuitClient
{
    public string? IpAddress { get; set; }

    /// <summary>The theme the browser chose last (the <see cref="ThemeCookie"/> cookie), null when it never chose.</summary>
    public bool? DarkMode { get; set; }

    /// <summary>"dark" or "light", written by app.js when the theme is toggled and read when a page is first rendered.</summary>
    public const string ThemeCookie = "portal-theme";

    public static bool? DarkModeFrom(string? cookie) => cookie switch
    {
        "dark" => true,
        "light" => false,
        _ => null,
    };
}
