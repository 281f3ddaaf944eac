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

    // Permissions depend only on which known roles and scopes are held and whether an application calls; the
    // combinations are few, so each is computed once and kept in a table indexed by a bit mask, which costs no
    // allocation (every API call asks at least twice). Not a per-instance field: `with` copies fields, and a copy
    // with other roles must not keep the old answer.
    private static readonly int NoScopes = 1 << Common.Permissions.ScopeOrder.Length;
    private static readonly IReadOnlySet<Permission>?[] Computed = new IReadOnlySet<Permission>?[(1 << Common.Permissions.RoleOrder.Length) * (NoScopes + 1)];

    public IReadOnlySet<Permission> Permissions
    {
        get
        {
            if (ApplicationId is not null) return Common.Permissions.ForApplicationKey;
            // Unknown roles and scopes grant nothing, so they do not take part in the index; no scopes (a signed-in
            // user) is its own column after every scope combination.
            var scopes = Scopes is null ? NoScopes : Mask(Scopes, Common.Permissions.ScopeOrder);
            var index = Mask(Roles, Common.Permissions.RoleOrder) * (NoScopes + 1) + scopes;
            return Computed[index] ??= Compute();
        }
    }

    public bool Can(Permission permission) => Permissions.Contains(permission);

    public bool IsInRole(string role) => Roles.Contains(role, StringComparer.Ordinal);

    /// <summary>
    /// Whether the actor's own roles grant everything <paramref name="roles"/> grant. Obtaining a secret that acts as
    /// another user (a key made or regenerated for them) and changing another user's roles or status need it: whoever
    /// could, would otherwise reach powers their roles deny. An admin covers developers, auditors and admins, not a
    /// super-admin. Roles, not the key's scopes: what a key may do is checked apart, per action.
    /// </summary>
    public bool RolesCover(IEnumerable<string> roles) =>
        Common.Permissions.ForRoles(roles).IsSubsetOf(Common.Permissions.ForRoles(Roles));

    private static int Mask(IReadOnlyList<string> names, string[] order)
    {
        var mask = 0;
        for (var i = 0; i < names.Count; i++)
        {
            var at = Array.IndexOf(order, names[i]);
            if (at >= 0) mask |= 1 << at;
        }
        return mask;
    }

    private IReadOnlySet<Permission> Compute()
    {
        var fromRoles = Common.Permissions.ForRoles(Roles);
        if (Scopes is null) return fromRoles;
        var set = new HashSet<Permission>(fromRoles);
        set.IntersectWith(Common.Permissions.ForScopes(Scopes));
        return set;
    }
}
