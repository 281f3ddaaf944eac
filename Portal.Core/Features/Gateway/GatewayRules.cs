using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portal.Core.Features.Gateway;

/// <summary>The gateway's fixed rules: defaults and bounds of a product's settings, where an upstream may live, what the log keeps of a path.</summary>
public static class GatewayRules
{
    public const int DefaultTimeoutSeconds = 30;
    public const int MinTimeoutSeconds = 1;
    public const int MaxTimeoutSeconds = 600;

    public const long DefaultMaxRequestBodyBytes = 10L * 1024 * 1024;
    public const long MinRequestBodyBytes = 1024;
    public const long MaxRequestBodyBytes = 1024L * 1024 * 1024;

    public const int MaxCredentialHeaderLength = 100;
    public const int MaxCredentialValueLength = 2000;

    /// <summary>What the usage log keeps of a path at most.</summary>
    public const int MaxLoggedPathLength = 1000;

    /// <summary>
    /// Headers the gateway sets itself or must never pass on, so a consumer cannot set them: the consumer's
    /// credentials, and the identity headers the upstream trusts.
    /// </summary>
    public static readonly string[] ReservedHeaders =
        ["Authorization", "X-Api-Key", "Cookie", "X-Portal-Application-Id", "X-Portal-Account-Id", "X-Portal-Plan", "X-Portal-Subscription-Id"];

    /// <summary>
    /// Refused as an upstream's address unless <c>Portal:Gateway:AllowLinkLocalUpstreams</c>: link-local (cloud metadata
    /// at 169.254.169.254, fe80::/10), the cloud metadata addresses outside it, unspecified, multicast and reserved
    /// addresses, also when an IPv6 address carries such an IPv4 address (mapped, compatible or NAT64). Loopback and private networks are allowed: a product's backend usually lives on one, and
    /// only product managers set upstreams (unlike webhooks, whose rule also refuses private networks).
    /// </summary>
    public static bool IsRefusedAddress(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        else if (EmbeddedIPv4(address) is { } embedded) address = embedded;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 0 || (b[0] == 169 && b[1] == 254) || b[0] >= 224 || address.Equals(AlibabaMetadata);
        }
        return address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6Multicast || address.Equals(AwsMetadataV6);
    }

    // Cloud metadata services outside link-local space: AWS's IPv6 endpoint (in the private fd00::/8, which is otherwise
    // allowed) and Alibaba Cloud's (in the carrier-grade NAT range).
    private static readonly IPAddress AwsMetadataV6 = IPAddress.Parse("fd00:ec2::254");
    private static readonly IPAddress AlibabaMetadata = IPAddress.Parse("100.100.100.200");

    /// <summary>
    /// The IPv4 address inside a NAT64 address (64:ff9b::/96, which a DNS64 resolver hands out for an IPv4-only name) or
    /// an IPv4-compatible one (::a.b.c.d, deprecated but still routed by some stacks); null for any other address.
    /// </summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return null;
        var b = address.GetAddressBytes();
        var nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0;
        var compatible = b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && (b[12] | b[13]) != 0;
        return nat64 || compatible ? new IPAddress(b.AsSpan(12, 4)) : null;
    }

    public const string RefusedAddressMessage =
        "The upstream URL points at a link-local, cloud-metadata, multicast or unspecified address; such upstreams are refused (Portal:Gateway:AllowLinkLocalUpstreams).";

    /// <summary>The address to log: the path as called and the query's names only (values may hold secrets): <c>/a?city&amp;token</c>.</summary>
    public static string LoggedPath(string path, string? query)
    {
        var text = new StringBuilder(path.Length + 16).Append(path);
        if (!string.IsNullOrEmpty(query))
        {
            var first = true;
            foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=');
                text.Append(first ? '?' : '&').Append(equals < 0 ? pair : pair[..equals]);
                first = false;
            }
        }
        return text.Length <= MaxLoggedPathLength ? text.ToString() : text.ToString(0, MaxLoggedPathLength);
    }

    /// <summary>A header name as HTTP allows it (a token) and not one the gateway owns.</summary>
    public static bool IsAcceptableCredentialHeader(string name) =>
        name.Length is > 0 and <= MaxCredentialHeaderLength
        && name.All(c => c < 128 && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
        // Authorization is the usual place for a backend's credential; the other reserved names are the gateway's.
        && (string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase) || !ReservedHeaders.Contains(name, StringComparer.OrdinalIgnoreCase))
        && !name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("X-Portal-", StringComparison.OrdinalIgnoreCase)
        && !string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase);
}
