using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;

namespace Portal.Core.Features.Accounts;

/// <summary>
/// Who belongs to which account, and what that lets them see and change: an account's members see and change its
/// applications (and its registrations, keys and usage through them); admins and read-only users see all, admins
/// change all; an application key sees its own application only. Every feature asks here, so the rule is one.
/// </summary>
internal static class Membership
{
    /// <summary>The accounts the actor is a member of: whose applications (and registrations) are theirs.</summary>
    internal static IQueryable<Guid> AccountIdsOf(PortalDbContext db, Actor actor) =>
        db.AccountMembers.Where(m => m.UserId == actor.UserId).Select(m => m.AccountId);

    internal static Task<bool> IsMemberAsync(PortalDbContext db, Actor actor, Guid accountId, CancellationToken ct) =>
        AccountIdsOf(db, actor).ContainsAsync(accountId, ct);

    /// <summary>
    /// The applications the actor may see: an application key itself, admins and read-only all, others their
    /// accounts' applications. Subscriptions follow it by the account a registration keeps, so removing an
    /// application hides none from its account.
    /// </summary>
    internal static IQueryable<Application> VisibleApplications(PortalDbContext db, Actor actor)
    {
        var apps = db.Applications.AsNoTracking();
        if (actor.ApplicationId is { } own) return apps.Where(a => a.Id == own);
        if (actor.Can(Permission.ApplicationsReadAll)) return apps;
        return apps.Where(a => AccountIdsOf(db, actor).Contains(a.AccountId));
    }

    /// <summary>
    /// The application, tracked, to change: null when the actor cannot see it (404); an error when they see it but
    /// may not change it (an admin key without <c>admin</c>).
    /// </summary>
    internal static async Task<ChangeableApplication?> FindChangeableApplicationAsync(PortalDbContext db, Actor actor, Guid id, CancellationToken ct)
    {
        var app = await VisibleApplications(db, actor).AsTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        if (app is null) return null;
        if (actor.Can(Permission.ApplicationsManageAll) || await IsMemberAsync(db, actor, app.AccountId, ct)) return new ChangeableApplication(app, null);
        return new ChangeableApplication(null, Errors.Forbidden);
    }
}

/// <summary>An application the actor may change (<see cref="App"/>), or why they may not (<see cref="Error"/>).</summary>
internal sealed record ChangeableApplication(Application? App, Error? Error);
