namespace Portal.Web.Infrastructure;

/// <summary>
/// What the first HTTP request knew about the browser, carried into the interactive circuit (which has no
/// HttpContext), so changes made from pages are audited with the client's address like API calls are.
/// </summary>
public sealed class CircuitClient
{
    public string? IpAddress { get; set; }
}
