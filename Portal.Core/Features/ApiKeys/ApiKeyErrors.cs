using Portal.Core.Common;

namespace Portal.Core.Features.ApiKeys;

public sealed record DuplicateKeyName(string Name) : ConflictError($"The owner already has a key named '{Name}'.");

public sealed record KeyNotActive(ApiKeyStatus Status) : ConflictError($"The key is {Status.ToString().ToLowerInvariant()}: it can no longer be regenerated.");

/// <summary>
/// A secret for a key of someone whose roles grant more than the actor's (<see cref="Actor.RolesCover"/>): with it the
/// actor could do what their own roles deny. Revoking or deleting such a key only takes power away and stays allowed.
/// </summary>
public sealed record OwnerOutranksYou(string Owner, IReadOnlyList<string> Roles, string Action)
    : ForbiddenError($"{Owner} holds roles ({string.Join(", ", Roles)}) that grant more than yours, so you cannot {Action}: " +
        "the key would act with powers you do not have. You may still revoke or delete their keys.");
