using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Portal.Core;
using Portal.Core.Features.Gateway;
using Yarp.ReverseProxy.Forwarder;

namespace Portal.Web.Features.Gateway;

/// <summary>Upstream credentials encrypted with ASP.NET Core Data Protection (the key ring in the database, as webhook secrets).</summary>
public sealed class DataProtectionUpstreamCredentials(IDataProtectionProvider provider) : IUpstreamCredentialProtector
{
    private readonly IDataProtector _protector = provider.CreateProtector("Portal.Gateway.UpstreamCredential.v1");

    public string Protect(string value) => _protector.Protect(value);

    public string Unprotect(string protectedValue) => _protector.Unprotect(protectedValue);
}

/// <summary>An upstream whose address the gateway refuses to connect to (<see cref="GatewayRules.IsRefusedAddress"/>).</summary>
public sealed class RefusedUpstreamException(string message) : HttpRequestException(message);

/// <summary>
/// The one client every product's traffic goes out through: a pooled <see cref="SocketsHttpHandler"/> shared by all
/// upstreams (connections are pooled per host anyway), no redirects, no cookies, no decompression (bodies pass as
/// they are), no proxy, and the address rule checked on every connection, after the name is resolved.
/// </summary>
public sealed class GatewayClient : IDisposable
{
    public GatewayClient(IOptions<PortalOptions> options)
    {
        var allowLinkLocal = options.Value.Gateway.AllowLinkLocalUpstreams;
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(System.Diagnostics.DistributedContextPropagator.Current),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, ct) =>
            {
                var host = context.DnsEndPoint.Host;
                var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
                if (!allowLinkLocal)
                {
                    addresses = [.. addresses.Where(a => !GatewayRules.IsRefusedAddress(a))];
                    if (addresses.Length == 0) throw new RefusedUpstreamException($"'{host}': {GatewayRules.RefusedAddressMessage}");
                }
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        });
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}

public static class GatewayHosting
{
    public static IServiceCollection AddGateway(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        services.AddSingleton<IUpstreamCredentialProtector, DataProtectionUpstreamCredentials>();
        services.AddSingleton<GatewayClient>();
        services.AddSingleton<TryItTickets>();
        services.AddSingleton<GatewayCaller>();
        return services;
    }

    /// <summary>
    /// A dedicated listener (<c>Portal:Gateway:Urls</c>): Kestrel listens there as well as on the portal's own addresses,
    /// which are then taken from the usual settings (<c>urls</c>, <c>ASPNETCORE_URLS</c>, <c>http_ports</c>) and listed
    /// explicitly, since adding any address replaces the defaults.
    /// </summary>
    public static void AddGatewayListener(this WebApplicationBuilder builder, GatewayOptions options)
    {
        if (!options.Enabled || string.IsNullOrWhiteSpace(options.Urls)) return;
        builder.WebHost.UseUrls([.. PortalUrls(builder.Configuration), .. Split(options.Urls)]);
    }

    /// <summary>
    /// The portal's own addresses as Kestrel would choose them without the gateway's listener: <c>urls</c>
    /// (<c>ASPNETCORE_URLS</c>, <c>--urls</c>), else <c>http_ports</c> / <c>https_ports</c> (<c>ASPNETCORE_HTTP_PORTS</c>, set
    /// by the .NET container images) on every address, else <c>http://localhost:5000</c>.
    /// </summary>
    internal static IEnumerable<string> PortalUrls(IConfiguration configuration)
    {
        var urls = Split(configuration["urls"] ?? configuration["ASPNETCORE_URLS"]);
        if (urls.Length > 0) return urls;
        var ports = Split(configuration["http_ports"] ?? configuration["ASPNETCORE_HTTP_PORTS"]).Select(p => $"http://*:{p}")
            .Concat(Split(configuration["https_ports"] ?? configuration["ASPNETCORE_HTTPS_PORTS"]).Select(p => $"https://*:{p}")).ToArray();
        return ports.Length > 0 ? ports : ["http://localhost:5000"];
    }

    private static string[] Split(string? list) => (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// First in the pipeline: the gateway's requests meet none of the portal's cookies, antiforgery or error pages.
    /// Turned off, the prefix still answers for itself: <c>404 NOT_FOUND</c> saying so, for any method, rather than
    /// whatever the pages' routing makes of the path (a 405 for a POST).
    /// </summary>
    public static IApplicationBuilder UseGateway(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<PortalOptions>>().Value.Gateway;
        if (options.Enabled) return app.UseMiddleware<GatewayMiddleware>();
        var prefix = GatewayMiddleware.PrefixOf(options);
        return app.Use((http, next) => http.Request.Path.StartsWithSegments(prefix)
            ? GatewayMiddleware.Problem(http, StatusCodes.Status404NotFound, "NOT_FOUND", "Not found",
                "This portal carries no API traffic: its gateway is turned off. Ask the portal's administrators for the product's own address.")
            : next(http));
    }
}
