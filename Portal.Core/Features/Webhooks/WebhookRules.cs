using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;
using Portal.Core.Common;
using Portal.Core.Features.Audit;

namespace Portal.Core.Features.Webhooks;

public static class WebhookRules
{
    public const int MaxUrlLength = 2048;
    public const int MaxDescriptionLength = 500;
    public const int MaxErrorLength = 500;
    public const int MaxSnippetLength = 1024;

    /// <summary>What the form and the API say about a URL that is not accepted.</summary>
    public const string UrlMessage = "The URL must be an absolute http:// or https:// address without user name or password.";

    /// <summary>
    /// Absolute http(s) only, and no user-info: credentials in a URL end up in logs and screens, and other schemes
    /// (file:, ftp:, gopher:) have no business in a webhook. Where the host points is checked when sending.
    /// </summary>
    public static bool IsAcceptableUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.UserInfo)
        && !string.IsNullOrEmpty(uri.Host);

    /// <summary>
    /// Loopback, private (RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
    /// IETF protocol assignments (192.0.0.0/24), benchmarking (198.18.0.0/15), "this network" (0.0.0.0/8), multicast,
    /// reserved (240.0.0.0/4) and unspecified addresses: refused as targets unless <c>Portal:Webhooks:AllowPrivateTargets</c>.
    /// IPv6 addresses that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are
    /// judged by that IPv4 address; the local-use NAT64 prefix 64:ff9b:1::/48 and Teredo 2001::/32 (whose embedded
    /// addresses are obfuscated or placed per site) are refused whole.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return IsPrivateIPv4(address.GetAddressBytes());
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6Any)
            || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast)
            return true;
        var b = address.GetAddressBytes();
        // 64:ff9b:1::/48, local-use NAT64: where the IPv4 address sits depends on the site's prefix length.
        if (StartsWith(b, 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01)) return true;
        // 2001:0000::/32, Teredo: the client's IPv4 address is stored inverted, the server's is a relay.
        if (StartsWith(b, 0x20, 0x01, 0x00, 0x00)) return true;
        // 64:ff9b::/96, well-known NAT64, and ::/96, IPv4-compatible: the IPv4 address is the last four bytes.
        if (StartsWith(b, 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0) || StartsWith(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            return IsPrivateIPv4(b[12..16]);
        // 2002::/16, 6to4: the IPv4 address follows the prefix.
        if (StartsWith(b, 0x20, 0x02)) return IsPrivateIPv4(b[2..6]);
        return false;
    }

    private static bool StartsWith(byte[] bytes, params byte[] prefix) => bytes.AsSpan().StartsWith(prefix);

    private static bool IsPrivateIPv4(byte[] b) =>
        b[0] == 0 || b[0] == 10 || b[0] == 127
        || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
        || (b[0] == 192 && b[1] == 168)
        || (b[0] == 192 && b[1] == 0 && b[2] == 0)
        || (b[0] == 198 && (b[1] == 18 || b[1] == 19))
        || (b[0] == 169 && b[1] == 254)
        || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
        || b[0] >= 224;
}

/// <summary>A webhook URL as <see cref="WebhookRules.IsAcceptableUrl"/> accepts it; null passes (for optional fields).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class WebhookUrlAttribute : ValidationAttribute
{
    public WebhookUrlAttribute() : base(WebhookRules.UrlMessage)
    {
    }

    public override bool IsValid(object? value) => value is null || WebhookRules.IsAcceptableUrl(value as string);
}

/// <summary>Event types from the catalogue, at least one; null passes (for optional fields).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class WebhookEventTypeListAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context)
    {
        if (value is null) return ValidationResult.Success;
        var names = (value as IEnumerable<string?>)?.ToList() ?? [];
        var member = context.MemberName is null ? null : new[] { context.MemberName };
        if (names.Count == 0) return new ValidationResult("Choose at least one event type.", member);
        var unknown = names.Where(n => n is null || !WebhookEventTypes.IsKnown(n)).Distinct().ToList();
        return unknown.Count == 0
            ? ValidationResult.Success
            : new ValidationResult($"Unknown event type(s): {string.Join(", ", unknown.Select(NameLists.Quote))}. See GET /api/v1/webhooks/event-types.", member);
    }
}
