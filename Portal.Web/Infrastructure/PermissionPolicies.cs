using Microsoft.AspNetCore.Authorization;
using Portal.Core.Common;

namespace Portal.Web.Infrastructure;

/// <summary>One policy per <see cref="Permission"/>, named after it: <c>[Authorize(Policy = nameof(Permission.UsersRead))]</c>.</summary>
public static class PermissionPolicies
{
    public static AuthorizationBuilder AddPermissionPolicies(this AuthorizationBuilder builder)
    {
        foreach (var permission in Enum.GetValues<Permission>())
            builder.AddPolicy(permission.ToString(), p => p.RequireAuthenticatedUser().AddRequirements(new PermissionRequirement([permission])));
        builder.Services.AddSingleton<IAuthorizationHandler, PermissionHandler>();
        return builder;
    }

    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, Permission permission) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(permission.ToString());

    /// <summary>
    /// Lets the call through if the caller holds any one of <paramref name="anyOf"/>: for actions both the owner
    /// (with a <c>write</c> key) and an admin (with an <c>admin</c> key) may take; the service decides which applies.
    /// </summary>
    public static TBuilder RequireAnyPermission<TBuilder>(this TBuilder builder, params Permission[] anyOf) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(p => p.RequireAuthenticatedUser().AddRequirements(new PermissionRequirement(anyOf)));
}

/// <summary>Met by an actor holding any one of <see cref="AnyOf"/> (for a named permission policy, exactly one).</summary>
public sealed record PermissionRequirement(IReadOnlyList<Permission> AnyOf) : IAuthorizationRequirement
{
    /// <summary>The one test, for the pages' handler and the API's evaluator alike.</summary>
    public bool IsMetBy(Actor actor)
    {
        foreach (var permission in AnyOf)
            if (actor.Can(permission)) return true;
        return false;
    }
}

internal sealed class PermissionHandler : AuthorizationHandler<PermissionRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        if (requirement.IsMetBy(context.User.ToActor())) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
