using System.Security.Claims;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Web.Authentication;

namespace Portal.Web.Infrastructure;

public static class PortalClaims
{
    public const string DisplayName = "portal:display_name";
    public const string Scope = "portal:scope";
    public const string KeyId = "portal:key_id";
    public const string ApplicationId = "portal:application_id";
}

public static class ActorExtensions
{
    /// <summary>The actor behind a principal: a cookie user (roles decide) or an API key (roles ∩ scopes).</summary>
    public static Actor ToActor(this ClaimsPrincipal principal, string? ipAddress = null)
    {
        // A key-authenticated call carries its actor, already built from the same facts as the claims below.
        if (principal.Identity is ApiKeyClaimsIdentity key)
            return ipAddress is null ? key.Caller : key.Caller with { IpAddress = ipAddress };
        // An application key acts as its application: no user, no roles; Actor grants it reading itself only.
        if (principal.Identity?.IsAuthenticated == true && Guid.TryParse(principal.FindFirstValue(PortalClaims.ApplicationId), out var applicationId))
            return new Actor(Guid.Empty, principal.FindFirstValue(ClaimTypes.Name) ?? "", [], [], ipAddress,
                Guid.TryParse(principal.FindFirstValue(PortalClaims.KeyId), out var appKey) ? appKey : null)
            { ApplicationId = applicationId, DisplayName = principal.FindFirstValue(PortalClaims.DisplayName) };
        if (principal.Identity?.IsAuthenticated != true || !Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var userId))
            return new Actor(Guid.Empty, "anonymous", [], [], ipAddress);
        var roles = principal.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        var keyId = Guid.TryParse(principal.FindFirstValue(PortalClaims.KeyId), out var k) ? k : (Guid?)null;
        var scopes = keyId is null ? null : principal.FindAll(PortalClaims.Scope).Select(c => c.Value).ToList();
        var email = principal.FindFirstValue(ClaimTypes.Email) ?? principal.FindFirstValue(ClaimTypes.Name) ?? "";
        return new Actor(userId, email, roles, scopes, ipAddress, keyId) { DisplayName = principal.FindFirstValue(PortalClaims.DisplayName) };
    }

    /// <summary>The actor a verified key stands for: its application, or its owner with the owner's roles and the key's scopes.</summary>
    public static Actor ToActor(this KeyIdentity key) =>
        key.ApplicationId is { } applicationId
            ? new Actor(Guid.Empty, key.Email, [], [], null, key.KeyId) { ApplicationId = applicationId, DisplayName = key.DisplayName }
            : new Actor(key.UserId, key.Email, key.Roles, key.Scopes, null, key.KeyId) { DisplayName = key.DisplayName };

    public static Actor ToActor(this HttpContext http) =>
        http.User.ToActor(http.Connection.RemoteIpAddress?.ToString());
}
