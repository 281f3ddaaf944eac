namespace Portal.Core.Common;

/// <summary>
/// Who is acting: a signed-in user (no scopes: the roles alone decide) or an API key
/// (the roles of its owner intersected with the key's scopes).
/// </summary>
public sealed record Actor(Guid UserId, string Email, IReadOnlyList<string> Roles, IReadOnlyList<string>? Scopes = null, string? IpAddress = null, Guid? KeyId = null)
{
    public static readonly Actor System = new(Guid.Empty, "system", [Common.Roles.SuperAdmin]);

    /// <summary>Known when the caller's session or key lookup carried it; lets "who am I" answer without a query.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Set when an application key calls: the actor is the application, with no roles and no user behind it.</summary>
    public Guid? ApplicationId { get; init; }

    // Permissions depend only on roles, scopes and whether an application calls; the combinations are few, so they
    // are computed once per combination (every API call asks at least twice). Not a per-instance field: `with`
    // copies fields, and a copy with other roles must not keep the old answer.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlySet<Permission>> Computed = new();

    public IReadOnlySet<Permission> Permissions =>
        Computed.GetOrAdd($"{ApplicationId is not null}|{string.Join(',', Roles)}|{(Scopes is null ? "*" : string.Join(',', Scopes))}", _ => Compute());

    public bool Can(Permission permission) => Permissions.Contains(permission);

    public bool IsInRole(string role) => Roles.Contains(role, StringComparer.Ordinal);

    private IReadOnlySet<Permission> Compute()
    {
        if (ApplicationId is not null) return Common.Permissions.ForApplicationKey;
        var fromRoles = Common.Permissions.ForRoles(Roles);
        if (Scopes is null) return fromRoles;
        var set = new HashSet<Permission>(fromRoles);
        set.IntersectWith(Common.Permissions.ForScopes(Scopes));
        return set;
    }
}
