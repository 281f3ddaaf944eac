using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;

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
    /// multicast and unspecified addresses: refused as targets unless <c>Portal:Webhooks:AllowPrivateTargets</c>.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
            || b[0] >= 224;
    }
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
            : new ValidationResult($"Unknown event type(s): {string.Join(", ", unknown.Select(u => $"'{u}'"))}. See GET /api/v1/webhooks/event-types.", member);
    }
}
