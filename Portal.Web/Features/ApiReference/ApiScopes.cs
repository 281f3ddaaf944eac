using Microsoft.AspNetCore.Authorization;
using Portal.Core.Common;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Web.Features.ApiReference;

/// <summary>What an endpoint's authorization asks of a key, in the scopes a person picks when creating one.</summary>
public static class ApiScopes
{
    /// <summary>
    /// The scopes that let a key through: those granting, for every permission requirement of the endpoint (a named
    /// policy, or a policy of its own that accepts any one of several permissions), at least one of its permissions.
    /// "any" when every scope does, "none" for an open endpoint.
    /// </summary>
    public static string Needed(IList<object> metadata)
    {
        if (metadata.OfType<IAllowAnonymous>().Any()) return "none";
        var requirements = RequirementsOf(metadata).ToList();
        var scopes = Permissions.ByScope
            .Where(scope => requirements.All(anyOf => anyOf.Any(scope.Value.Contains)))
            .Select(scope => scope.Key)
            .ToList();
        return scopes.Count == Permissions.ByScope.Count ? "any" : string.Join(" or ", scopes);
    }

    /// <summary>Each requirement as the permissions any one of which meets it.</summary>
    private static IEnumerable<IReadOnlyList<Permission>> RequirementsOf(IList<object> metadata)
    {
        foreach (var named in metadata.OfType<IAuthorizeData>())
            if (Enum.TryParse<Permission>(named.Policy, out var permission))
                yield return [permission];
        foreach (var requirement in metadata.OfType<AuthorizationPolicy>().SelectMany(p => p.Requirements).OfType<PermissionRequirement>())
            yield return requirement.AnyOf;
    }
}
