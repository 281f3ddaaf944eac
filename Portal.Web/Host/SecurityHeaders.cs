using Microsoft.Extensions.Primitives;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Portal.Core;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Web.Host;

/// <summary>
/// The headers every answer carries, and which proxies' <c>X-Forwarded-*</c> headers are believed (docs/security.md).
/// </summary>
public static class SecurityHeaders
{
    /// <summary>
    /// Scripts only from the portal itself, never inline (App.razor loads three files). Styles may be inline: MudBlazor
    /// positions and colours its components with <c>style</c> attributes and Blazor's reconnect dialog adds a
    /// <c>&lt;style&gt;</c> element; a style cannot run script. Images also from any https address (the organisation's
    /// logo is a URL of its own) and data: (MudBlazor's icons). The SignalR connection is same-origin ('self' covers ws/wss).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; font-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    public const string PermissionsPolicy =
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

    /// <summary>One year: browsers keep to https for that long after one answer over https.</summary>
    public const string StrictTransportSecurity = "max-age=31536000";

    /// <summary>
    /// Believes <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> from the configured proxies only (none by default:
    /// the framework's default of trusting loopback is dropped too), so behind a TLS proxy requests count as https
    /// (Secure cookies, HSTS) and the audit and rate limits see the client's address, while nobody else can claim one.
    /// </summary>
    public static IServiceCollection AddPortalForwardedHeaders(this IServiceCollection services, ForwardedHeadersSettings settings)
    {
        var proxies = Split(settings.KnownProxies).Select(p => IPAddress.TryParse(p, out var address)
            ? address
            : throw new InvalidOperationException($"Portal__ForwardedHeaders__KnownProxies: '{p}' is not an IP address.")).ToList();
        var networks = Split(settings.KnownNetworks).Select(n => System.Net.IPNetwork.TryParse(n, out var network)
            ? network
            : throw new InvalidOperationException($"Portal__ForwardedHeaders__KnownNetworks: '{n}' is not a network in CIDR notation (10.0.0.0/8).")).ToList();
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in proxies) o.KnownProxies.Add(proxy);
            foreach (var network in networks) o.KnownIPNetworks.Add(network);
            // A chain of configured proxies: the first address that is not one of them is the client's.
            o.ForwardLimit = null;
        });
        // Cookies are Secure whenever the request is https, behind a proxy too (the sign-in cookie already is; the
        // antiforgery cookie's default is never).
        services.Configure<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        return services;
    }

    private static IEnumerable<string> Split(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>First in the pipeline: the forwarded headers (when proxies are configured), then the headers of every answer.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this WebApplication app)
    {
        var settings = app.Configuration.GetSection(PortalOptions.Section).Get<PortalOptions>()?.ForwardedHeaders ?? new ForwardedHeadersSettings();
        if (Split(settings.KnownProxies).Any() || Split(settings.KnownNetworks).Any()) app.UseForwardedHeaders();
        Func<object, Task> write = !app.Environment.IsDevelopment() ? static state => Write((HttpContext)state, hsts: true) : static state => Write((HttpContext)state, hsts: false);
        return app.Use((http, next) =>
        {
            // Set as the answer starts: an error answer (the exception handler clears headers) carries them too. A
            // static callback with the context as its state: nothing is allocated per request for it.
            http.Response.OnStarting(write, http);
            return next(http);
        });
    }

    private static Task Write(HttpContext http, bool hsts)
    {
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = NoSniff;
        headers[ReferrerPolicyHeader] = ReferrerPolicy;
        headers.XFrameOptions = Deny;
        headers[PermissionsPolicyHeader] = PermissionsPolicyValue;
        if (!ApiProblems.IsApi(http)) headers.ContentSecurityPolicy = ContentSecurityPolicyValue;
        // Not for a loopback host: a browser would then refuse plain http to every localhost port (as UseHsts).
        if (hsts && http.Request.IsHttps && !IsLoopbackHost(http.Request.Host.Host)) headers.StrictTransportSecurity = StrictTransportSecurity;
        return Task.CompletedTask;
    }

    private const string ReferrerPolicyHeader = "Referrer-Policy";
    private const string PermissionsPolicyHeader = "Permissions-Policy";
    private static readonly StringValues NoSniff = "nosniff";
    private static readonly StringValues Deny = "DENY";
    private static readonly StringValues ReferrerPolicy = "strict-origin-when-cross-origin";
    private static readonly StringValues PermissionsPolicyValue = PermissionsPolicy;
    private static readonly StringValues ContentSecurityPolicyValue = ContentSecurityPolicy;

    private static bool IsLoopbackHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}
