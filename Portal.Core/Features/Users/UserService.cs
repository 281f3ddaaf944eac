using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;

namespace Portal.Core.Features.Users;

public sealed class UserService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IPasswordHasher<PortalUser> passwordHasher,
    ILookupNormalizer normalizer,
    PasswordPolicy passwordPolicy,
    TimeProvider clock,
    IPersonalAccountStep personalAccounts,
    ISignInClient? signInClient = null)
{
    /// <summary>Up to this many members, a role filter reads the role's members first (see <see cref="ListAsync"/>).</summary>
    public const int RareRoleMembers = 5_000;

    public async Task<Result<PagedResult<UserDto>>> ListAsync(Actor actor, UserQuery query, CancellationToken ct = default)
    {
        if (Refusal(actor, query) is { } refused) return refused;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var page = await (await FilteredAsync(db, query, ct)).ToPageAsync(query, ct);
        var roles = await UserRoles.OfAsync(db, page.Items.Select(u => u.Id).ToList(), ct);
        var now = clock.GetUtcNow();
        return new PagedResult<UserDto>(
            page.Items.Select(u => ToDto(u, roles.GetValueOrDefault(u.Id, []), now)).ToList(),
            page.Page, page.PageSize, page.Total);
    }

    /// <summary>Users per roles lookup while an export streams.</summary>
    private const int ExportRolesBatch = 500;

    /// <summary>
    /// Every user the list would page through with the same filters, in the same order, read by one query as the caller
    /// reads the stream (a CSV export); roles are looked up a batch of users at a time.
    /// </summary>
    public Task<Result<RowStream<UserDto>>> ExportAsync(Actor actor, UserQuery query, CancellationToken ct = default)
    {
        _ = ct;
        query = query with { Page = 1 };
        Result<RowStream<UserDto>> result = Refusal(actor, query) is { } refused ? refused : new RowStream<UserDto>(StreamAsync(query));
        return Task.FromResult(result);
    }

    private async IAsyncEnumerable<UserDto> StreamAsync(UserQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Roles come through a second context: PostgreSQL runs one command at a time per connection, and the first is reading.
        await using var rolesDb = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var batch = new List<PortalUser>(ExportRolesBatch);
        await foreach (var user in (await FilteredAsync(db, query, ct)).AsAsyncEnumerable().WithCancellation(ct))
        {
            batch.Add(user);
            if (batch.Count < ExportRolesBatch) continue;
            var roles = await UserRoles.OfAsync(rolesDb, batch.Select(u => u.Id).ToList(), ct);
            foreach (var u in batch) yield return ToDto(u, roles.GetValueOrDefault(u.Id, []), now);
            batch.Clear();
        }
        if (batch.Count == 0) yield break;
        var last = await UserRoles.OfAsync(rolesDb, batch.Select(u => u.Id).ToList(), ct);
        foreach (var u in batch) yield return ToDto(u, last.GetValueOrDefault(u.Id, []), now);
    }

    private static Error? Refusal(Actor actor, UserQuery query)
    {
        if (!actor.Can(Permission.UsersRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        if (!string.IsNullOrWhiteSpace(query.Role) && NameLists.FirstUnknown([query.Role.Trim()], Roles.All, "role", "Roles") is { } unknown)
            return ValidationError.For("role", unknown);
        return null;
    }

    /// <summary>The users matching the filters in the list's order (ties by email, then id: a page and an export agree).</summary>
    private static async Task<IQueryable<PortalUser>> FilteredAsync(PortalDbContext db, UserQuery query, CancellationToken ct)
    {
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            if (NameSearch.Users(db, query.Search) is { } named)
                users = users.Where(u => named.Contains(u.Id));
            else
            {
                var term = query.Search.Trim().ToLower();
                users = users.Where(u => u.Email!.ToLower().Contains(term) || u.DisplayName.ToLower().Contains(term));
            }
        }
        if (!string.IsNullOrWhiteSpace(query.Role))
        {
            var role = query.Role.Trim();
            var roleId = await db.Roles.Where(r => r.Name == role).Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);
            var members = db.UserRoles.Where(ur => ur.RoleId == roleId);
            // A rare role (a few admins among 100,000 developers) is read from its members (the role index), whose few
            // users are then sorted; walking every user in order and testing each would read them all before a page
            // fills. A common role is the reverse: users in order fill a page at once, and sorting its members would
            // sort most users. How many members a role has is one count over the role index.
            users = await members.CountAsync(ct) <= RareRoleMembers
                ? users.Where(u => members.Select(ur => ur.UserId).Contains(u.Id))
                : users.Where(u => members.Any(ur => ur.UserId == u.Id));
        }
        if (query.Status is { } status) users = users.Where(u => u.Status == status);

        return (query.Sort ?? "email") switch
        {
            "-email" => users.OrderByDescending(u => u.NormalizedEmail).ThenBy(u => u.Id),
            "displayName" => users.OrderBy(u => u.DisplayName).ThenBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            "-displayName" => users.OrderByDescending(u => u.DisplayName).ThenBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            "status" => users.OrderBy(u => u.Status).ThenBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            "-status" => users.OrderByDescending(u => u.Status).ThenBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            "lastLogin" or "lastLoginAt" => users.OrderBy(u => u.LastLoginAt).ThenBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            "-lastLogin" or "-lastLoginAt" => users.OrderByDescending(u => u.LastLoginAt).ThenBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            "createdAt" => users.OrderBy(u => u.CreatedAt).ThenBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            "-createdAt" => users.OrderByDescending(u => u.CreatedAt).ThenBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            _ => users.OrderBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
        };
    }

    public async Task<Result<UserDto>> GetAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.UsersRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null) return Errors.NotFound;
        return ToDto(user, await UserRoles.OfAsync(db, user.Id, ct), clock.GetUtcNow());
    }

    public async Task<Result<MeDto>> GetMeAsync(Actor actor, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.Self)) return Errors.Forbidden;
        var permissions = Permissions.NamesOf(actor.Permissions);
        if (actor.ApplicationId is { } applicationId)
            return new MeDto(null, null, actor.DisplayName ?? "", [], actor.KeyId, [], permissions, applicationId);
        // The hot path for scripts checking their key: the authenticated identity already says everything.
        if (actor.DisplayName is { } displayName)
            return new MeDto(actor.UserId, actor.Email, displayName, actor.Roles, actor.KeyId, actor.Scopes, permissions);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == actor.UserId, ct);
        if (user is null) return Errors.NotFound;
        return new MeDto(user.Id, user.Email!, user.DisplayName, await UserRoles.OfAsync(db, user.Id, ct), actor.KeyId, actor.Scopes,
            permissions);
    }

    public Task<Result<UserDto>> CreateAsync(Actor actor, CreateUser request, CancellationToken ct = default) =>
        CreateAsync(actor, request, emailConfirmed: true, ct);

    /// <param name="emailConfirmed">False only for a self-service sign-up that must confirm its address first.</param>
    internal async Task<Result<UserDto>> CreateAsync(Actor actor, CreateUser request, bool emailConfirmed, CancellationToken ct)
    {
        if (!actor.Can(Permission.UsersCreate)) return Errors.Forbidden;
        if (Validate(request.Roles, request.Password, request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        var email = request.Email.Trim();
        var normalizedEmail = normalizer.NormalizeEmail(email);
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == normalizedEmail, ct)) return new DuplicateEmail(email);

        var now = clock.GetUtcNow();
        var user = new PortalUser
        {
            Id = Guid.CreateVersion7(),
            Email = email,
            UserName = email,
            NormalizedEmail = normalizedEmail,
            NormalizedUserName = normalizer.NormalizeName(email),
            EmailConfirmed = emailConfirmed,
            DisplayName = request.DisplayName.Trim(),
            CreatedAt = now,
            SecurityStamp = Guid.NewGuid().ToString("N"),
            ConcurrencyStamp = Guid.NewGuid().ToString(),
            LockoutEnabled = true,
        };
        user.PasswordHash = passwordHasher.HashPassword(user, request.Password);
        db.Users.Add(user);
        var roles = request.Roles.Distinct().ToList();
        await SetRolesAsync(db, user.Id, roles, ct);
        // Same save as the user: a developer never exists without an account to hold applications.
        if (roles.Contains(Roles.Developer)) personalAccounts.Add(db, actor, user.Id, user.DisplayName, now);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.UserCreated, now, "user", user.Id.ToString(), email, $"roles: {string.Join(", ", roles)}"));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two creates raced past the check above; the unique index decided.
            if (await EmailTakenAsync(normalizedEmail, ct)) return new DuplicateEmail(email);
            throw;
        }
        return ToDto(user, roles, now);
    }

    public async Task<Result<UserDto>> UpdateAsync(Actor actor, Guid id, UpdateUser request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.UsersEdit)) return Errors.Forbidden;
        if (Validate(request.Roles, password: null, request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null) return Errors.NotFound;

        var currentRoles = await UserRoles.OfAsync(db, id, ct);
        var newRoles = request.Roles?.Distinct().ToList() ?? [.. currentRoles];
        var newStatus = request.Status ?? user.Status;
        var wasSuperAdmin = currentRoles.Contains(Roles.SuperAdmin);
        var staysSuperAdmin = newRoles.Contains(Roles.SuperAdmin);

        if (wasSuperAdmin != staysSuperAdmin && !actor.IsInRole(Roles.SuperAdmin)) return new SuperAdminOnly();
        // Roles and status decide what a user (and their keys) may do: only someone whose own roles grant all of what
        // this user holds, and would hold, may change them. An admin may not deactivate (lock out) a super-admin.
        var rolesChanged = !newRoles.Order().SequenceEqual(currentRoles.Order());
        var statusChanged = newStatus != user.Status;
        if ((rolesChanged || statusChanged) && !actor.RolesCover(currentRoles.Union(newRoles))) return new BeyondYourRoles(user.Email ?? "");
        if (user.Id == actor.UserId && newStatus == UserStatus.Inactive && user.Status == UserStatus.Active)
            return new NotOnYourself("deactivate");
        var losesActiveSuperAdmin = wasSuperAdmin && user.Status == UserStatus.Active && (!staysSuperAdmin || newStatus != UserStatus.Active);
        if (losesActiveSuperAdmin && await IsLastActiveSuperAdminAsync(db, id, ct)) return new LastSuperAdmin();

        var changes = new List<string>();
        if (request.DisplayName is { } name && name.Trim() != user.DisplayName)
        {
            changes.Add($"display name '{user.DisplayName}' → '{name.Trim()}'");
            user.DisplayName = name.Trim();
        }
        if (rolesChanged)
        {
            changes.Add($"roles [{string.Join(", ", currentRoles)}] → [{string.Join(", ", newRoles)}]");
            await SetRolesAsync(db, id, newRoles, ct);
            if (newRoles.Contains(Roles.Developer)) await personalAccounts.AddIfMissingAsync(db, actor, id, user.DisplayName, clock.GetUtcNow(), ct);
        }
        if (statusChanged)
        {
            changes.Add($"status {user.Status} → {newStatus}");
            user.Status = newStatus;
        }
        // A new stamp makes Identity drop the user's sessions at the next validation.
        if (rolesChanged || statusChanged) user.SecurityStamp = Guid.NewGuid().ToString("N");

        var now = clock.GetUtcNow();
        if (changes.Count > 0)
        {
            db.Audit.Add(AuditEntry.For(actor, AuditActions.UserUpdated, now, "user", id.ToString(), user.Email, string.Join("; ", changes)));
            await db.SaveChangesAsync(ct);
        }
        return ToDto(user, newRoles, now);
    }

    public async Task<Result<Unit>> ResetPasswordAsync(Actor actor, Guid id, ResetPassword request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.UsersResetPassword)) return Errors.Forbidden;
        if (id == actor.UserId) return new NotOnYourself("reset the password of");
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        if (passwordPolicy.Check(request.Password) is { Length: > 0 } problems)
            return ValidationError.For("password", problems);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null) return Errors.NotFound;

        user.PasswordHash = passwordHasher.HashPassword(user, request.Password);
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        user.AccessFailedCount = 0;
        user.LockoutEnd = null;
        db.Audit.Add(AuditEntry.For(actor, AuditActions.UserPasswordReset, clock.GetUtcNow(), "user", id.ToString(), user.Email));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    public async Task<Result<Unit>> DeleteAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.UsersDelete)) return Errors.Forbidden;
        if (id == actor.UserId) return new NotOnYourself("delete");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null) return Errors.NotFound;
        var isActiveSuperAdmin = user.Status == UserStatus.Active && (await UserRoles.OfAsync(db, id, ct)).Contains(Roles.SuperAdmin);
        if (isActiveSuperAdmin && await IsLastActiveSuperAdminAsync(db, id, ct)) return new LastSuperAdmin();

        db.Users.Remove(user);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.UserDeleted, clock.GetUtcNow(), "user", id.ToString(), user.Email));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    /// <summary>Records a sign-in attempt (or sign-out) and, on success, the last-login time, in one save.</summary>
    public async Task RecordSignInAsync(string email, SignInOutcome outcome, string? ipAddress, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // What was typed may hold characters no email has (and PostgreSQL cannot store a NUL): recorded visibly replaced.
        if (TextRules.FirstForbidden(email) is not null) email = TextRules.Visible(email);
        var normalizedEmail = normalizer.NormalizeEmail(email.Trim());
        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalizedEmail, ct);
        var now = clock.GetUtcNow();
        if (outcome == SignInOutcome.Succeeded && user is not null) user.LastLoginAt = now;
        var action = outcome switch
        {
            SignInOutcome.Succeeded => AuditActions.SignInSucceeded,
            SignInOutcome.LockedOut => AuditActions.SignInLockedOut,
            SignInOutcome.SignedOut => AuditActions.SignedOut,
            _ => AuditActions.SignInFailed,
        };
        var actor = new Actor(user?.Id ?? Guid.Empty, Truncate(email.Trim(), 256), [], IpAddress: ipAddress);
        // The browser of a successful sign-in, for the user's own list of recent sign-ins (never a password or a cookie).
        var details = outcome == SignInOutcome.Succeeded ? SignInDetails.For(signInClient?.UserAgent) : null;
        db.Audit.Add(AuditEntry.For(actor, action, now, "user", user?.Id.ToString(), Truncate(email.Trim(), 256), details));
        await db.SaveChangesAsync(ct);
    }

    private ValidationError? Validate(IReadOnlyCollection<string>? roles, string? password, object request)
    {
        var errors = RequestValidation.Validate(request)?.Errors.ToDictionary() ?? [];
        // A null entry ("roles": [null]) is refused like an unknown name: it would be stored as no role at all.
        if (roles is not null && !errors.ContainsKey("roles") && NameLists.FirstUnknown(roles, Roles.All, "role", "Roles") is { } unknown)
            errors["roles"] = [unknown];
        if (password is not null && !errors.ContainsKey("password") && passwordPolicy.Check(password) is { Length: > 0 } problems)
            errors["password"] = problems;
        return errors.Count == 0 ? null : new ValidationError(errors);
    }

    private async Task<bool> EmailTakenAsync(string normalizedEmail, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Users.AnyAsync(u => u.NormalizedEmail == normalizedEmail, ct);
    }

    private static async Task<bool> IsLastActiveSuperAdminAsync(PortalDbContext db, Guid exceptUserId, CancellationToken ct) =>
        !await db.Users.AnyAsync(u => u.Id != exceptUserId && u.Status == UserStatus.Active &&
            db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == Roles.SuperAdmin)), ct);

    private static async Task SetRolesAsync(PortalDbContext db, Guid userId, IReadOnlyCollection<string> roles, CancellationToken ct)
    {
        var existing = await db.UserRoles.Where(ur => ur.UserId == userId).ToListAsync(ct);
        db.UserRoles.RemoveRange(existing);
        var roleIds = await db.Roles.Where(r => roles.Contains(r.Name!)).Select(r => r.Id).ToListAsync(ct);
        db.UserRoles.AddRange(roleIds.Select(roleId => new IdentityUserRole<Guid> { UserId = userId, RoleId = roleId }));
    }

    private static UserDto ToDto(PortalUser u, IReadOnlyList<string> roles, DateTimeOffset now) =>
        new(u.Id, u.Email!, u.DisplayName, roles, u.Status, u.CreatedAt, u.LastLoginAt, u.LockoutEnd > now, u.TwoFactorEnabled, u.EmailConfirmed);

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
