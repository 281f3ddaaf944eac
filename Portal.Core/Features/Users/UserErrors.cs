using Portal.Core.Common;

namespace Portal.Core.Features.Users;

public sealed record DuplicateEmail(string Email) : ConflictError($"A user with the email '{Email}' already exists.");

public sealed record LastSuperAdmin() : ConflictError("This is the last active super-admin: it cannot be demoted, deactivated or deleted.");

public sealed record NotOnYourself(string What) : ForbiddenError($"You cannot {What} your own account.");

public sealed record SuperAdminOnly() : ForbiddenError("Only a super-admin can grant, remove or change the super-admin role.");

/// <summary>Changing the roles or status of a user whose roles grant more than the actor's (<see cref="Actor.RolesCover"/>).</summary>
public sealed record BeyondYourRoles(string Email) : ForbiddenError(
    $"{Email} holds roles that grant more than yours: only someone whose roles grant all of them can change their roles or status.");
