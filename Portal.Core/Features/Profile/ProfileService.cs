using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Notifications;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.Profile;

/// <summary>What every signed-in user may do to their own account: name, password, sessions, and a look at their sign-ins.</summary>
public sealed class ProfileService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IPasswordHasher<PortalUser> passwordHasher,
    PasswordPolicy passwordPolicy,
    TimeProvider clock)
{
    public const int RecentSignInCount = 10;

    public async Task<Result<ProfileDto>> GetAsync(Actor actor, CancellationToken ct = default)
    {
        if (!IsUser(actor)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == actor.UserId, ct);
        if (user is null) return Errors.NotFound;
        return ToDto(user, await UserRoles.OfAsync(db, user.Id, ct), await NotificationPreferences.OfAsync(db, user.Id, ct));
    }

    public async Task<Result<ProfileDto>> UpdateAsync(Actor actor, UpdateProfile request, CancellationToken ct = default)
    {
        if (!IsUser(actor)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == actor.UserId, ct);
        if (user is null) return Errors.NotFound;
        if (request.DisplayName is { } name && name.Trim() != user.DisplayName)
        {
            db.Audit.Add(AuditEntry.For(actor, AuditActions.ProfileUpdated, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email,
                $"display name '{user.DisplayName}' → '{name.Trim()}'"));
            user.DisplayName = name.Trim();
            await db.SaveChangesAsync(ct);
        }
        if (request.Notifications is { } choices
            && await NotificationPreferences.ApplyAsync(db, user.Id, choices, ct) is { Count: > 0 } changed)
        {
            db.Audit.Add(AuditEntry.For(actor, AuditActions.ProfileUpdated, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email,
                $"notifications: {string.Join(", ", changed)}"));
            await db.SaveChangesAsync(ct);
        }
        return ToDto(user, await UserRoles.OfAsync(db, user.Id, ct), await NotificationPreferences.OfAsync(db, user.Id, ct));
    }

    /// <summary>
    /// Needs the current password. Every session of the user ends (a new security stamp); the caller re-issues the
    /// cookie of the browser that asked, so only that one stays signed in.
    /// </summary>
    public async Task<Result<Unit>> ChangePasswordAsync(Actor actor, ChangePassword request, CancellationToken ct = default)
    {
        if (!IsUser(actor) || actor.KeyId is not null) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == actor.UserId, ct);
        if (user is null) return Errors.NotFound;
        if (user.PasswordHash is null || passwordHasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword) == PasswordVerificationResult.Failed)
            return ValidationError.For("currentPassword", new WrongCurrentPassword().Detail);
        if (passwordPolicy.Check(request.NewPassword) is { Length: > 0 } problems) return ValidationError.For("newPassword", problems);

        user.PasswordHash = passwordHasher.HashPassword(user, request.NewPassword);
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        db.Audit.Add(AuditEntry.For(actor, AuditActions.PasswordChanged, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    /// <summary>Ends every session of the user (a new security stamp); the caller re-issues the asking browser's cookie.</summary>
    public async Task<Result<Unit>> SignOutOtherSessionsAsync(Actor actor, CancellationToken ct = default)
    {
        if (!IsUser(actor) || actor.KeyId is not null) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == actor.UserId, ct);
        if (user is null) return Errors.NotFound;
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        db.Audit.Add(AuditEntry.For(actor, AuditActions.SessionsEnded, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    /// <summary>The user's last successful sign-ins, newest first, as the audit trail recorded them.</summary>
    public async Task<Result<IReadOnlyList<RecentSignIn>>> RecentSignInsAsync(Actor actor, CancellationToken ct = default)
    {
        if (!IsUser(actor)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var id = actor.UserId;
        var rows = await db.Audit.AsNoTracking()
            .Where(a => a.Action == AuditActions.SignInSucceeded && a.ActorId == id)
            .OrderByDescending(a => a.At)
            .Take(RecentSignInCount)
            .Select(a => new { a.At, a.IpAddress, a.Details })
            .ToListAsync(ct);
        return rows.Select(r => new RecentSignIn(r.At, r.IpAddress, SignInDetails.Browser(r.Details))).ToList();
    }

    private static bool IsUser(Actor actor) => actor.ApplicationId is null && actor.UserId != Guid.Empty && actor.Can(Permission.Self);

    private static ProfileDto ToDto(PortalUser u, IReadOnlyList<string> roles, NotificationChoices notifications) =>
        new(u.Id, u.Email ?? "", u.DisplayName, roles, u.CreatedAt, u.LastLoginAt, notifications);
}
