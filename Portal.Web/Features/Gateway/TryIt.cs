using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Portal.Core;

namespace Portal.Web.Features.Gateway;

/// <summary>
/// What lets the catalog's "Try it" call the gateway without the key's secret (which the portal cannot show): a
/// ticket naming the key and product the signed-in user chose, encrypted and valid for a minute, sent in
/// <see cref="GatewayMiddleware.TryItHeader"/>. Nobody can make one outside the portal's key ring.
/// </summary>
public sealed class TryItTickets(IDataProtectionProvider provider)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("Portal.Gateway.TryIt.v1").ToTimeLimitedDataProtector();

    public string Issue(Guid keyId, string slug) => _protector.Protect($"{keyId:D}|{slug}", Lifetime);

    /// <summary>The key id when the ticket is genuine, unexpired and for this product; else null.</summary>
    public Guid? Read(string ticket, string slug)
    {
        try
        {
            var text = _protector.Unprotect(ticket);
            var bar = text.IndexOf('|');
            return bar > 0 && string.Equals(text[(bar + 1)..], slug, StringComparison.OrdinalIgnoreCase) && Guid.TryParse(text[..bar], out var id) ? id : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}

/// <summary>One "Try it" answer: the status, the RateLimit headers, and the start of the body.</summary>
public sealed record TryItAnswer(int Status, string? RateLimitPolicy, string? RateLimit, string? RetryAfter, string? ContentType, string Body, bool Truncated);

/// <summary>
/// Sends a "Try it" request through the gateway over loopback HTTP to this very server, so it takes the same path as
/// any caller's. The target is always this portal's gateway: the base address is the server's own, the product and
/// path are appended after it, and a path that tries to climb out (<c>..</c>) is refused.
/// </summary>
public sealed class GatewayCaller(IServiceProvider services, IOptions<PortalOptions> options, TryItTickets tickets) : IDisposable
{
    public const int MaxBodyShown = 4096;

    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false })
    {
        Timeout = TimeSpan.FromSeconds(35),
    };

    /// <summary>The server's own loopback address, or null when it listens nowhere (tests on an in-memory server).</summary>
    public Uri? OwnAddress()
    {
        // Read when asked: the addresses are known once the server has started (and a component test has no server).
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses.OrderBy(a => a.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 1 : 0))
        {
            if (!Uri.TryCreate(address.Replace("://+", "://localhost").Replace("://*", "://localhost").Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost"), UriKind.Absolute, out var uri)) continue;
            return new Uri($"{uri.Scheme}://{(uri.IsLoopback ? uri.Authority : "localhost:" + uri.Port)}");
        }
        return null;
    }

    public async Task<TryItAnswer?> SendAsync(Guid keyId, string slug, string method, string path, string? jsonBody, CancellationToken ct)
    {
        var own = OwnAddress();
        if (own is null) return null;
        path = "/" + (path ?? "").Trim().TrimStart('/');
        if (path.Split('/', '?')[..].Any(s => s is ".." or ".") || path.Contains('\\') || path.Contains("%2e", StringComparison.OrdinalIgnoreCase)) return null;
        var prefix = GatewayMiddleware.PrefixOf(options.Value.Gateway);
        var target = new Uri(own, $"{prefix}/{Uri.EscapeDataString(slug)}{path}");
        if (target.Authority != own.Authority || !target.AbsolutePath.StartsWith($"{prefix}/{slug}/", StringComparison.Ordinal) && target.AbsolutePath != $"{prefix}/{slug}") return null;

        using var request = new HttpRequestMessage(new HttpMethod(method), target);
        request.Headers.TryAddWithoutValidation(GatewayMiddleware.TryItHeader, tickets.Issue(keyId, slug));
        if (!string.IsNullOrWhiteSpace(jsonBody)) request.Content = new StringContent(jsonBody, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[MaxBodyShown + 1];
        var read = 0;
        while (read < buffer.Length && await body.ReadAsync(buffer.AsMemory(read), ct) is var n and > 0) read += n;
        return new TryItAnswer((int)response.StatusCode, Header(response, "RateLimit-Policy"), Header(response, "RateLimit"), Header(response, "Retry-After"),
            response.Content.Headers.ContentType?.ToString(), Encoding.UTF8.GetString(buffer, 0, Math.Min(read, MaxBodyShown)), read > MaxBodyShown);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    public void Dispose() => _http.Dispose();
}
