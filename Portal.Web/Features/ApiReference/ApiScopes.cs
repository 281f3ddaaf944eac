using Microsoft.AspNetCore.Authorization;
using Portal.Core.Common;

namespace Portal.Web.Features.ApiReference;

/// <summary>What an endpoint's authorization asks of a key, in the scopes a person picks when creating one.</summary>
public static class ApiScopes
{
    /// <summary>The scope a key needs: the one whose permissions include every permission the endpoint's policies name.</summary>
    public static string Needed(IList<object> metadata)
    {
        if (metadata.OfType<IAllowAnonymous>().Any()) return "none";
        var needed = metadata.OfType<IAuthorizeData>()
            .Select(a => Enum.TryParse<Permission>(a.Policy, out var p) ? p : (Permission?)null)
            .OfType<Permission>()
            .ToList();
        var scopes = Permissions.ByScope.Where(s => needed.All(s.Value.Contains)).Select(s => s.Key).ToList();
        return scopes.Count == Permissions.ByScope.Count ? "any" : string.Join(" or ", scopes);
    }
}
