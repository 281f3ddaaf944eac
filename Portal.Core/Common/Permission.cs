namespace Portal.Core.Common;

/// <summary>
/// Everything an actor may be allowed to do. Roles grant permissions, key scopes grant permissions,
/// and an actor holds the intersection. Page and endpoint policies are generated from this enum.
/// </summary>
public enum Permission
{
    /// <summary>Any signed-in user or key: read one's own profile.</summary>
    Self,
    UsersRead,
    UsersCreate,
    UsersEdit,
    UsersResetPassword,
    UsersDelete,
    OrganisationRead,
    OrganisationWrite,
    AuditRead,
    /// <summary>See one's own API keys.</summary>
    ApiKeysRead,
    /// <summary>Create, revoke, regenerate and delete one's own API keys.</summary>
    ApiKeysWrite,
    /// <summary>See every user's API keys.</summary>
    ApiKeysReadAll,
    /// <summary>Create keys for other users; revoke, regenerate or delete anyone's key.</summary>
    ApiKeysManageAll,
    /// <summary>See developer accounts and their members.</summary>
    AccountsRead,
    /// <summary>Create accounts, add and remove members.</summary>
    AccountsManage,
    /// <summary>See applications: developers their accounts' ones, an application key only itself.</summary>
    ApplicationsRead,
    /// <summary>Create, change and remove applications and their keys in one's own accounts.</summary>
    ApplicationsWrite,
    /// <summary>See every account's applications.</summary>
    ApplicationsReadAll,
    /// <summary>Create, change and remove applications and keys in any account.</summary>
    ApplicationsManageAll,
    /// <summary>See published API products and their plans (the catalog).</summary>
    ProductsRead,
    /// <summary>See unpublished (draft) products too.</summary>
    ProductsReadAll,
    /// <summary>Create, change and delete products and plans.</summary>
    ProductsManage,
    /// <summary>See subscriptions: developers their accounts' applications' ones.</summary>
    SubscriptionsRead,
    /// <summary>Subscribe one's own applications to products and unsubscribe them.</summary>
    SubscriptionsWrite,
    /// <summary>See every subscription.</summary>
    SubscriptionsReadAll,
    /// <summary>Approve, reject and unregister any subscription.</summary>
    SubscriptionsManage,
    /// <summary>Ask whether a key may call a product (<c>POST /api/v1/keys/verify</c>), as a gateway does.</summary>
    KeysVerify,
    /// <summary>See webhook endpoints (never their secrets) and the delivery log.</summary>
    WebhooksRead,
    /// <summary>See the webhook event catalogue: names and descriptions only, so every role's read key may.</summary>
    WebhookEventTypesRead,
    /// <summary>Create, change, delete webhook endpoints; rotate and reveal secrets; send test events; retry deliveries.</summary>
    WebhooksManage,
    /// <summary>See usage (calls, verifications, request log) of one's own personal keys and one's accounts' applications.</summary>
    UsageRead,
    /// <summary>See everyone's usage: the environment's metrics and the whole request log.</summary>
    UsageReadAll,
}

public static class Permissions
{
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<Permission>> ByRole =
        new Dictionary<string, IReadOnlySet<Permission>>(StringComparer.Ordinal)
        {
            [Roles.SuperAdmin] = new HashSet<Permission>(Enum.GetValues<Permission>()),
            [Roles.Admin] = new HashSet<Permission>
            {
                Permission.Self, Permission.UsersRead, Permission.UsersEdit,
                Permission.OrganisationRead, Permission.OrganisationWrite, Permission.AuditRead,
                Permission.ApiKeysRead, Permission.ApiKeysWrite, Permission.ApiKeysReadAll, Permission.ApiKeysManageAll,
                Permission.AccountsRead, Permission.AccountsManage,
                Permission.ApplicationsRead, Permission.ApplicationsWrite, Permission.ApplicationsReadAll, Permission.ApplicationsManageAll,
                Permission.ProductsRead, Permission.ProductsReadAll, Permission.ProductsManage,
                Permission.SubscriptionsRead, Permission.SubscriptionsWrite, Permission.SubscriptionsReadAll, Permission.SubscriptionsManage,
                Permission.KeysVerify, Permission.WebhooksRead, Permission.WebhookEventTypesRead, Permission.WebhooksManage,
                Permission.UsageRead, Permission.UsageReadAll,
            },
            [Roles.ReadOnly] = new HashSet<Permission>
            {
                Permission.Self, Permission.UsersRead, Permission.OrganisationRead, Permission.AuditRead,
                Permission.ApiKeysRead, Permission.ApiKeysReadAll,
                Permission.AccountsRead, Permission.ApplicationsRead, Permission.ApplicationsReadAll,
                Permission.ProductsRead, Permission.ProductsReadAll, Permission.SubscriptionsRead, Permission.SubscriptionsReadAll,
                Permission.KeysVerify, Permission.WebhooksRead, Permission.WebhookEventTypesRead, Permission.UsageRead, Permission.UsageReadAll,
            },
            [Roles.Developer] = new HashSet<Permission>
            {
                Permission.Self, Permission.OrganisationRead, Permission.ApiKeysRead, Permission.ApiKeysWrite,
                Permission.ApplicationsRead, Permission.ApplicationsWrite,
                Permission.ProductsRead, Permission.SubscriptionsRead, Permission.SubscriptionsWrite, Permission.KeysVerify,
                Permission.WebhookEventTypesRead, Permission.UsageRead,
            },
        };

    /// <summary>Scope <c>read</c> covers looking, <c>write</c> changes, <c>admin</c> user management and other admin-only actions.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<Permission>> ByScope =
        new Dictionary<string, IReadOnlySet<Permission>>(StringComparer.Ordinal)
        {
            [Scopes.Read] = new HashSet<Permission>
            {
                Permission.Self, Permission.UsersRead, Permission.OrganisationRead, Permission.AuditRead,
                Permission.ApiKeysRead, Permission.ApiKeysReadAll,
                Permission.AccountsRead, Permission.ApplicationsRead, Permission.ApplicationsReadAll,
                Permission.ProductsRead, Permission.ProductsReadAll, Permission.SubscriptionsRead, Permission.SubscriptionsReadAll,
                Permission.KeysVerify, Permission.WebhooksRead, Permission.WebhookEventTypesRead, Permission.UsageRead, Permission.UsageReadAll,
            },
            [Scopes.Write] = new HashSet<Permission>
            {
                Permission.Self, Permission.ApiKeysWrite, Permission.ApplicationsWrite, Permission.SubscriptionsWrite,
            },
            [Scopes.Admin] = new HashSet<Permission>
            {
                Permission.Self, Permission.UsersCreate, Permission.UsersEdit, Permission.UsersResetPassword,
                Permission.UsersDelete, Permission.OrganisationWrite, Permission.ApiKeysManageAll,
                Permission.AccountsManage, Permission.ApplicationsManageAll,
                Permission.ProductsManage, Permission.SubscriptionsManage, Permission.WebhooksManage,
            },
        };

    /// <summary>The roles and scopes that grant anything, in a fixed order: <see cref="Actor"/> indexes its permission table by them.</summary>
    internal static readonly string[] RoleOrder = [.. ByRole.Keys];
    internal static readonly string[] ScopeOrder = [.. ByScope.Keys];

    /// <summary>
    /// An application key acts for its application, not for a person: it may ask who it is (<c>/me</c>) and read that
    /// application and its keys, nothing else (the services confine <see cref="Permission.ApplicationsRead"/> to the
    /// application's own id).
    /// </summary>
    public static readonly IReadOnlySet<Permission> ForApplicationKey = new HashSet<Permission> { Permission.Self, Permission.ApplicationsRead };

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlySet<Permission>, IReadOnlyList<string>> Names = new();

    /// <summary>
    /// The names of a set's permissions in enum order, as the API shows them. An actor's set is shared by every actor
    /// with the same roles and scopes, so the list is made once per set; it is read-only because it is shared too.
    /// </summary>
    public static IReadOnlyList<string> NamesOf(IReadOnlySet<Permission> permissions) =>
        Names.GetValue(permissions, static set => Array.AsReadOnly(set.Order().Select(p => p.ToString()).ToArray()));

    public static IReadOnlySet<Permission> ForRoles(IEnumerable<string> roles)
    {
        var set = new HashSet<Permission>();
        foreach (var role in roles)
            if (ByRole.TryGetValue(role, out var granted)) set.UnionWith(granted);
        return set;
    }

    public static IReadOnlySet<Permission> ForScopes(IEnumerable<string> scopes)
    {
        var set = new HashSet<Permission>();
        foreach (var scope in scopes)
            if (ByScope.TryGetValue(scope, out var granted)) set.UnionWith(granted);
        return set;
    }
}
