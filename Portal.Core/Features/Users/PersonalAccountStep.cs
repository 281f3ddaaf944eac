using Portal.Core.Common;
using Portal.Core.Data;

namespace Portal.Core.Features.Users;

/// <summary>
/// What a user gets on becoming a developer: a personal account to hold applications. Accounts provides it; users
/// add it to the context the user is saved with, so a developer never exists without one.
/// </summary>
public interface IPersonalAccountStep
{
    /// <summary>Adds (does not save) a personal account with the user, who is new, as its member.</summary>
    void Add(PortalDbContext db, Actor actor, Guid userId, string displayName, DateTimeOffset now);

    /// <summary>Adds (does not save) a personal account unless the user is a member of some account already.</summary>
    Task AddIfMissingAsync(PortalDbContext db, Actor actor, Guid userId, string displayName, DateTimeOffset now, CancellationToken ct);
}
