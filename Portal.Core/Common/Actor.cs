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

    private IReadOnlySet<Permission>? _permissions;

    public IReadOnlySet<Permission> Permissions => _permissions ??= Compute();

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
