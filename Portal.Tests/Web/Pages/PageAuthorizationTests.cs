using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Portal.Core.Common;

namespace Portal.Tests.Web.Pages;

/// <summary>
/// Every routable page and the policy that guards it. Pages are found by reflection, so a new page without a row
/// fails here; the policies themselves are the same <see cref="Permission"/> names the API uses.
/// </summary>
public sealed class PageAuthorizationTests
{
    private const string Anonymous = "(anonymous)";
    private const string AnySignedIn = "(signed in)";

    private static readonly Dictionary<string, string> Expected = new()
    {
        ["/account/login"] = Anonymous,
        ["/account/access-denied"] = Anonymous,
        ["/not-found"] = Anonymous,
        ["/"] = AnySignedIn,
        ["/users"] = nameof(Permission.UsersRead),
        ["/organisation"] = nameof(Permission.OrganisationRead),
        ["/audit"] = nameof(Permission.AuditRead),
        ["/products"] = nameof(Permission.ProductsRead),
        ["/products/{Slug}"] = nameof(Permission.ProductsRead),
        ["/api-keys"] = nameof(Permission.ApiKeysRead),
        ["/account/signup"] = Anonymous,
        ["/account/forgot-password"] = Anonymous,
        ["/account/reset-password"] = Anonymous,
        ["/account/profile"] = AnySignedIn,
        ["/account/change-password"] = AnySignedIn,
        ["/account/two-factor"] = AnySignedIn,
        ["/account/login/two-factor"] = Anonymous,
        ["/account/confirm-email"] = Anonymous,
        ["/applications"] = nameof(Permission.ApplicationsRead),
        ["/applications/{Id:guid}"] = nameof(Permission.ApplicationsRead),
        ["/portal-apps"] = nameof(Permission.ApplicationsReadAll),
        ["/portal-apps/{id:guid}"] = nameof(Permission.ApplicationsReadAll),
        ["/accounts"] = nameof(Permission.AccountsRead),
        ["/subscriptions"] = nameof(Permission.SubscriptionsReadAll),
        ["/api-reference"] = AnySignedIn,
        ["/webhooks"] = nameof(Permission.WebhooksRead),
        ["/webhooks/{Id:guid}"] = nameof(Permission.WebhooksRead),
        ["/usage"] = nameof(Permission.UsageRead),
        ["/usage/requests"] = nameof(Permission.UsageRead),
        ["/billing"] = nameof(Permission.UsageRead),
        ["/help"] = Anonymous,
    };

    private static IEnumerable<(string Route, Type Page)> Pages() =>
        typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (r.Template, t)));

    private static string GuardOf(Type page)
    {
        if (page.GetCustomAttribute<AllowAnonymousAttribute>() is not null) return Anonymous;
        var authorize = page.GetCustomAttribute<AuthorizeAttribute>();
        return authorize is null ? Anonymous : authorize.Policy ?? AnySignedIn;
    }

    [Fact]
    public void EveryPage_IsGuardedAsTheTableSays()
    {
        var actual = Pages().ToDictionary(p => p.Route, p => GuardOf(p.Page));
        var unknown = actual.Keys.Except(Expected.Keys).ToList();
        Assert.True(unknown.Count == 0, "Pages without a row: " + string.Join(", ", unknown));
        foreach (var (route, guard) in Expected.Where(e => actual.ContainsKey(e.Key)))
            Assert.True(actual[route] == guard, $"{route} is guarded by {actual[route]}, expected {guard}");
    }

    [Fact]
    public void EveryPolicyUsedByAPage_IsAPermission()
    {
        foreach (var (route, page) in Pages())
            if (page.GetCustomAttribute<AuthorizeAttribute>()?.Policy is { } policy)
                Assert.True(Enum.TryParse<Permission>(policy, out _), $"{route} uses unknown policy {policy}");
    }
}
