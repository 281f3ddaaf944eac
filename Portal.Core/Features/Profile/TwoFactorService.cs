using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.Profile;

/// <summary>
/// Two-factor sign-in with an authenticator app (TOTP through Identity's authenticator token provider) and recovery
/// codes. Identity's user manager and store do the cryptography and keep the key and codes in its tokens table; each
/// method works in one scope whose context is the one the store saves through, so the audit entry added to it is
/// saved in the same <c>SaveChanges</c> as the change. Turning it on or off, and a reset, change the security stamp:
/// every other session ends (the page re-issues the asking browser's cookie).
/// </summary>
public sealed class TwoFactorService(
    IServiceScopeFactory scopes,
    IDbContextFactory<PortalDbContext> dbFactory,
    IPasswordHasher<PortalUser> passwordHasher,
    IOptions<PortalOptions> options,
    TimeProvider clock)
{
    public const int RecoveryCodeCount = 10;

    /// <summary>The name authenticator apps show above the code.</summary>
    public const string Issuer = "Portal";

    // Identity's EF store keeps the authenticator key and the recovery codes as tokens of this "login provider".
    private const string IdentityStoreProvider = "[AspNetUserStore]";
    private const string AuthenticatorKeyToken = "AuthenticatorKey";
    private const string RecoveryCodesToken = "RecoveryCodes";

    /// <summary>Whether these roles must have two-factor sign-in (super-admin, admin, when the setting is on).</summary>
    public bool IsRequiredFor(IEnumerable<string> roles) =>
        options.Value.Security.RequireTwoFactorForAdmins && roles.Any(r => r is Roles.SuperAdmin or Roles.Admin);

    /// <summary>
    /// For the pages' gate: a signed-in user whose roles require two-factor sign-in and who has not turned it on. One
    /// indexed read, only for admins and only when the setting is on.
    /// </summary>
    public async Task<bool> MustEnrolAsync(Guid userId, IReadOnlyCollection<string> roles, CancellationToken ct = default)
    {
        if (userId == Guid.Empty || !IsRequiredFor(roles)) return false;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return !await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.TwoFactorEnabled).FirstOrDefaultAsync(ct);
    }

    public async Task<Result<TwoFactorStatus>> GetStatusAsync(Actor actor, CancellationToken ct = default)
    {
        if (!IsSignedInUser(actor)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var enabled = await db.Users.AsNoTracking().Where(u => u.Id == actor.UserId).Select(u => (bool?)u.TwoFactorEnabled).FirstOrDefaultAsync(ct);
        if (enabled is null) return Errors.NotFound;
        var left = enabled.Value ? await RecoveryCodesLeftAsync(db, actor.UserId, ct) : 0;
        return new TwoFactorStatus(enabled.Value, left, IsRequiredFor(actor.Roles));
    }

    // Read as Identity's store counts them (one token, codes joined by ';'), without needing a user manager to look.
    private static async Task<int> RecoveryCodesLeftAsync(PortalDbContext db, Guid userId, CancellationToken ct)
    {
        var codes = await db.UserTokens.AsNoTracking()
            .Where(t => t.UserId == userId && t.LoginProvider == IdentityStoreProvider && t.Name == RecoveryCodesToken)
            .Select(t => t.Value).FirstOrDefaultAsync(ct);
        return string.IsNullOrEmpty(codes) ? 0 : codes.Split(';', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>
    /// The key to enrol with. A user without one gets a new key; it is only a candidate until <see cref="EnableAsync"/>
    /// checks a first code, so making it does not change the security stamp (no session ends for opening the page).
    /// </summary>
    public async Task<Result<AuthenticatorSetup>> GetSetupAsync(Actor actor, CancellationToken ct = default)
    {
        if (!IsSignedInUser(actor)) return Errors.Forbidden;
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(actor.UserId.ToString());
        if (user is null) return Errors.NotFound;
        if (user.TwoFactorEnabled) return new TwoFactorAlreadyEnabled();
        var key = await users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            key = users.GenerateNewAuthenticatorKey();
            await ((IUserAuthenticatorKeyStore<PortalUser>)scope.ServiceProvider.GetRequiredService<IUserStore<PortalUser>>())
                .SetAuthenticatorKeyAsync(user, key, ct);
            await scope.ServiceProvider.GetRequiredService<PortalDbContext>().SaveChangesAsync(ct);
        }
        var label = Uri.EscapeDataString($"{Issuer}:{user.Email}");
        var uri = $"otpauth://totp/{label}?secret={key}&issuer={Uri.EscapeDataString(Issuer)}&digits=6";
        return new AuthenticatorSetup(key, FormatKey(key), uri);
    }

    /// <summary>Turns two-factor sign-in on when the first code from the app is right; answers the recovery codes, shown once.</summary>
    public async Task<Result<RecoveryCodes>> EnableAsync(Actor actor, EnableTwoFactor request, CancellationToken ct = default)
    {
        if (!IsSignedInUser(actor)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(actor.UserId.ToString());
        if (user is null) return Errors.NotFound;
        if (user.TwoFactorEnabled) return new TwoFactorAlreadyEnabled();
        if (!await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, NormalizeCode(request.Code)))
            return ValidationError.For("code", "That code is not right. Check the time on your phone and enter the code shown now.");

        user.TwoFactorEnabled = true;
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        Db(scope).Audit.Add(AuditEntry.For(actor, AuditActions.TwoFactorEnabled, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email));
        // Replaces the codes and saves the user: the flag, the stamp and the audit entry go in the same save.
        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount);
        return new RecoveryCodes(codes!.ToList());
    }

    /// <summary>New recovery codes; the old ones stop working.</summary>
    public async Task<Result<RecoveryCodes>> RegenerateRecoveryCodesAsync(Actor actor, CancellationToken ct = default)
    {
        if (!IsSignedInUser(actor)) return Errors.Forbidden;
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(actor.UserId.ToString());
        if (user is null) return Errors.NotFound;
        if (!user.TwoFactorEnabled) return new TwoFactorNotEnabled();
        Db(scope).Audit.Add(AuditEntry.For(actor, AuditActions.RecoveryCodesRegenerated, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email));
        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount);
        return new RecoveryCodes(codes!.ToList());
    }

    /// <summary>Turns it off with the password; refused when the user's roles require it.</summary>
    public async Task<Result<Unit>> DisableAsync(Actor actor, DisableTwoFactor request, CancellationToken ct = default)
    {
        if (!IsSignedInUser(actor)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(actor.UserId.ToString());
        if (user is null) return Errors.NotFound;
        if (!user.TwoFactorEnabled) return new TwoFactorNotEnabled();
        if (user.PasswordHash is null || passwordHasher.VerifyHashedPassword(user, user.PasswordHash, request.Password) == PasswordVerificationResult.Failed)
            return ValidationError.For("password", new WrongCurrentPassword().Detail);
        if (IsRequiredFor(await users.GetRolesAsync(user))) return new TwoFactorRequiredForYourRoles();
        await ClearAsync(scope, user, AuditEntry.For(actor, AuditActions.TwoFactorDisabled, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email), ct);
        return Unit.Value;
    }

    /// <summary>
    /// A super-admin turns off another user's two-factor sign-in (a lost phone and lost codes): key and codes are
    /// removed and every session of that user ends. When their roles require it, they set it up again at next sign-in.
    /// </summary>
    public async Task<Result<Unit>> ResetAsync(Actor actor, Guid userId, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.UsersResetPassword) || !actor.Roles.Contains(Roles.SuperAdmin)) return new SuperAdminResetsTwoFactor();
        if (userId == actor.UserId) return new NotOnYourself("reset the two-factor sign-in of");
        await using var scope = scopes.CreateAsyncScope();
        var users = Users(scope);
        var user = await users.FindByIdAsync(userId.ToString());
        if (user is null) return Errors.NotFound;
        if (!user.TwoFactorEnabled) return new TwoFactorNotEnabled();
        await ClearAsync(scope, user, AuditEntry.For(actor, AuditActions.TwoFactorReset, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email), ct);
        return Unit.Value;
    }

    /// <summary>Records that a recovery code signed a user in (the sign-in itself is recorded as every sign-in is).</summary>
    public async Task RecordRecoveryCodeUsedAsync(Guid userId, string? ipAddress, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.Email }).FirstOrDefaultAsync(ct);
        if (user is null) return;
        var left = await RecoveryCodesLeftAsync(db, userId, ct);
        var actor = new Actor(userId, user.Email ?? "", [], IpAddress: ipAddress);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.RecoveryCodeUsed, clock.GetUtcNow(), "user", userId.ToString(), user.Email,
            $"recovery codes left: {left}"));
        await db.SaveChangesAsync(ct);
    }

    private async Task ClearAsync(AsyncServiceScope scope, PortalUser user, AuditEntry audit, CancellationToken ct)
    {
        var store = scope.ServiceProvider.GetRequiredService<IUserStore<PortalUser>>();
        await ((IUserAuthenticationTokenStore<PortalUser>)store).RemoveTokenAsync(user, IdentityStoreProvider, AuthenticatorKeyToken, ct);
        await ((IUserTwoFactorRecoveryCodeStore<PortalUser>)store).ReplaceCodesAsync(user, [], ct);
        user.TwoFactorEnabled = false;
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        user.ConcurrencyStamp = Guid.NewGuid().ToString();
        var db = Db(scope);
        db.Audit.Add(audit);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The app's code as typed, without the spaces and dashes apps and people put in it.</summary>
    public static string NormalizeCode(string code) => code.Replace(" ", "").Replace("-", "").Trim();

    /// <summary>
    /// A recovery code as Identity stores it (<c>XXXXX-XXXXX</c>, upper case, compared exactly), from what was typed:
    /// spaces dropped, letters upper-cased, the dash put back when it was left out.
    /// </summary>
    public static string NormalizeRecoveryCode(string code)
    {
        var clean = code.Replace(" ", "").Trim().ToUpperInvariant();
        return clean.Length == 10 && !clean.Contains('-') ? $"{clean[..5]}-{clean[5..]}" : clean;
    }

    /// <summary>The key in groups of four, lowercase, as the authenticator apps' manual entry shows it.</summary>
    public static string FormatKey(string key)
    {
        var text = new StringBuilder();
        for (var i = 0; i < key.Length; i += 4)
        {
            if (i > 0) text.Append(' ');
            text.Append(key.AsSpan(i, Math.Min(4, key.Length - i)));
        }
        return text.ToString().ToLowerInvariant();
    }

    private static bool IsSignedInUser(Actor actor) =>
        actor.ApplicationId is null && actor.KeyId is null && actor.UserId != Guid.Empty && actor.Can(Permission.Self);

    private static UserManager<PortalUser> Users(AsyncServiceScope scope) => scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();

    private static PortalDbContext Db(AsyncServiceScope scope) => scope.ServiceProvider.GetRequiredService<PortalDbContext>();
}
