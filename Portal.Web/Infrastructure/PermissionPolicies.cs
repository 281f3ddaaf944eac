using Microsoft.AspNetCore.Authorization;
using Portal.Core.Common;

namespace Portal.Web.Infrastructure;

/// <summary>One policy per <see cref="Permission"/>, named after it: <c>[Authorize(Policy = nameof(Permission.UsersRead))]</c>.</summary>
public static class PermissionPolicies
{
    public static AuthorizationBuilder AddPermissionPolicies(this AuthorizationBuilder builder)
    {
        foreach (var permission in Enum.GetValues<Permission>())
            builder.AddPolicy(permission.ToString(), p => p.RequireAuthenticatedUser().AddRequirements(new PermissionRequirement(permission)));
        builder.Services.AddSingleton<IAuthorizationHandler, PermissionHandler>();
        return builder;
    }

    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, Permission permission) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(permission.ToString());
}

public sealed record PermissionRequirement(Permission Permission) : IAuthorizationRequirement;

internal sealed class PermissionHandler : AuthorizationHandler<PermissionRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        if (context.User.ToActor().Can(requirement.Permission)) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
