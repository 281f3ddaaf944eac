using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.Accounts;

/// <summary>Developer accounts and their members. Admins manage them; every developer has at least a personal one.</summary>
public sealed class AccountService(
    IDbContextFactory<PortalDbContext> dbFactory,
    TimeProvider clock) : IPersonalAccountStep
{
    public async Task<Result<PagedResult<AccountDto>>> ListAsync(Actor actor, AccountQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.AccountsRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var accounts = db.Accounts.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            if (NameSearch.Accounts(db, query.Search) is { } named)
                accounts = accounts.Where(a => named.Contains(a.Id));
            else
            {
                var term = query.Search.Trim().ToLower();
                accounts = accounts.Where(a => a.Name.ToLower().Contains(term));
            }
        }
        if (query.Kind is { } kind) accounts = accounts.Where(a => a.Kind == kind);
        accounts = (query.Sort ?? "name") switch
        {
            "-name" => accounts.OrderByDescending(a => a.Name).ThenBy(a => a.Id),
            "createdAt" => accounts.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id),
            "-createdAt" => accounts.OrderByDescending(a => a.CreatedAt).ThenBy(a => a.Id),
            _ => accounts.OrderBy(a => a.Name).ThenBy(a => a.Id),
        };
        return await Project(db, accounts).ToPageAsync(query, ct);
    }

    /// <summary>The accounts the actor belongs to: what the create-application dialog offers.</summary>
    public async Task<Result<IReadOnlyList<AccountDto>>> ListMineAsync(Actor actor, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsRead) || actor.ApplicationId is not null) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var mine = db.Accounts.AsNoTracking()
            .Where(a => Membership.AccountIdsOf(db, actor).Contains(a.Id))
            .OrderBy(a => a.Kind).ThenBy(a => a.Name);
        return await Project(db, mine).ToListAsync(ct);
    }

    /// <summary>Admins and read-only see any account; a developer only their own (another's answers not-found).</summary>
    public async Task<Result<AccountDetailDto>> GetAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (actor.ApplicationId is not null || !(actor.Can(Permission.AccountsRead) || actor.Can(Permission.ApplicationsRead))) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        if (account is null) return Errors.NotFound;
        if (!actor.Can(Permission.AccountsRead) && !await db.AccountMembers.AnyAsync(m => m.AccountId == id && m.UserId == actor.UserId, ct))
            return Errors.NotFound;
        var members = await (from m in db.AccountMembers
                             join u in db.Users on m.UserId equals u.Id
                             where m.AccountId == id
                             orderby u.DisplayName
                             select new AccountMemberDto(u.Id, u.Email!, u.DisplayName)).ToListAsync(ct);
        var apps = await db.Applications.CountAsync(a => a.AccountId == id, ct);
        return new AccountDetailDto(account.Id, account.Name, account.Kind, account.CreatedAt, members, apps, account.Status);
    }

    public async Task<Result<AccountDto>> CreateAsync(Actor actor, CreateAccount request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.AccountsManage)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        if (!Enum.IsDefined(request.Kind)) return ValidationError.For("kind", "Kind is 'Person' or 'Team'.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // "memberIds": null in a body means none, as leaving the field out does.
        var memberIds = (request.MemberIds ?? []).Distinct().ToList();
        var found = await db.Users.Where(u => memberIds.Contains(u.Id)).Select(u => u.Id).ToListAsync(ct);
        if (memberIds.Except(found).Any()) return ValidationError.For("memberIds", "There is no such user.");

        var now = clock.GetUtcNow();
        var account = new Account { Name = request.Name.Trim(), Kind = request.Kind, CreatedAt = now };
        db.Accounts.Add(account);
        db.AccountMembers.AddRange(memberIds.Select(u => new AccountMember { AccountId = account.Id, UserId = u }));
        db.Audit.Add(AuditEntry.For(actor, AuditActions.AccountCreated, now, "account", account.Id.ToString(), account.Name,
            $"kind: {account.Kind}; members: {memberIds.Count}"));
        await db.SaveChangesAsync(ct);
        return new AccountDto(account.Id, account.Name, account.Kind, now, memberIds.Count, 0);
    }

    /// <summary>
    /// Suspends or reactivates an account; idempotent. A suspended account's application keys are refused from the
    /// next call on (the saved status drops them from the caches, and verification answers DISABLED); its data stays.
    /// </summary>
    public async Task<Result<AccountDto>> SetStatusAsync(Actor actor, Guid id, AccountStatus status, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.AccountsManage)) return Errors.Forbidden;
        if (!Enum.IsDefined(status)) return ValidationError.For("status", "Status is 'Active' or 'Suspended'.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var account = await db.Accounts.AsTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        if (account is null) return Errors.NotFound;
        if (account.Status != status)
        {
            var before = account.Status;
            account.Status = status;
            db.Audit.Add(AuditEntry.For(actor, AuditActions.AccountStatusChanged, clock.GetUtcNow(), "account", id.ToString(), account.Name, $"{before} → {status}"));
            await db.SaveChangesAsync(ct);
        }
        return await Project(db, db.Accounts.AsNoTracking().Where(a => a.Id == id)).FirstAsync(ct);
    }

    /// <summary>Admins and read-only any account's, a member their account's; another's answers not-found.</summary>
    public async Task<Result<AccountBillingSettingsDto>> GetBillingSettingsAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (actor.ApplicationId is not null || !(actor.Can(Permission.AccountsRead) || actor.Can(Permission.ApplicationsRead))) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var account = await db.Accounts.AsNoTracking().Where(a => a.Id == id).Select(a => new { a.Id, a.SpendingThreshold }).FirstOrDefaultAsync(ct);
        if (account is null) return Errors.NotFound;
        if (!actor.Can(Permission.AccountsRead) && !await db.AccountMembers.AnyAsync(m => m.AccountId == id && m.UserId == actor.UserId, ct))
            return Errors.NotFound;
        return new AccountBillingSettingsDto(account.Id, account.SpendingThreshold);
    }

    /// <summary>
    /// Sets or clears the spending threshold: admins on any account, members (who may change their applications) on
    /// their own; read-only never. Audited; idempotent.
    /// </summary>
    public async Task<Result<AccountBillingSettingsDto>> SetBillingSettingsAsync(Actor actor, Guid id, UpdateAccountBillingSettings request, CancellationToken ct = default)
    {
        var manages = actor.Can(Permission.AccountsManage);
        if (actor.ApplicationId is not null || !(manages || actor.Can(Permission.ApplicationsWrite))) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        if (request.SpendingThreshold is { } amount && decimal.Round(amount, 6) != amount)
            return ValidationError.For("spendingThreshold", "The spending threshold has at most 6 decimal places.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var account = await db.Accounts.AsTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        if (account is null) return Errors.NotFound;
        if (!manages && !await db.AccountMembers.AnyAsync(m => m.AccountId == id && m.UserId == actor.UserId, ct))
        {
            // A read-only auditor sees the account but changes nothing; anyone else does not see it.
            return actor.Can(Permission.AccountsRead) ? Errors.Forbidden : Errors.NotFound;
        }
        if (account.SpendingThreshold != request.SpendingThreshold)
        {
            var before = account.SpendingThreshold;
            account.SpendingThreshold = request.SpendingThreshold;
            db.Audit.Add(AuditEntry.For(actor, AuditActions.AccountBillingUpdated, clock.GetUtcNow(), "account", id.ToString(), account.Name,
                $"spending threshold: {Amount(before)} → {Amount(request.SpendingThreshold)}"));
            await db.SaveChangesAsync(ct);
        }
        return new AccountBillingSettingsDto(account.Id, account.SpendingThreshold);
    }

    private static string Amount(decimal? amount) => amount is { } a ? Amounts.Plain(a) : "none";

    /// <summary>Idempotent: adding a member twice changes nothing.</summary>
    public async Task<Result<Unit>> AddMemberAsync(Actor actor, Guid accountId, Guid userId, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.AccountsManage)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == accountId, ct);
        if (account is null) return Errors.NotFound;
        var email = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(ct);
        if (email is null) return ValidationError.For("userId", "There is no such user.");
        if (await db.AccountMembers.AnyAsync(m => m.AccountId == accountId && m.UserId == userId, ct)) return Unit.Value;

        db.AccountMembers.Add(new AccountMember { AccountId = accountId, UserId = userId });
        db.Audit.Add(AuditEntry.For(actor, AuditActions.AccountMemberAdded, clock.GetUtcNow(), "account", accountId.ToString(), account.Name, $"member: {email}"));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    public async Task<Result<Unit>> RemoveMemberAsync(Actor actor, Guid accountId, Guid userId, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.AccountsManage)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == accountId, ct);
        var member = await db.AccountMembers.AsTracking().FirstOrDefaultAsync(m => m.AccountId == accountId && m.UserId == userId, ct);
        if (account is null || member is null) return Errors.NotFound;
        if (!await db.AccountMembers.AnyAsync(m => m.UserId == userId && m.AccountId != accountId, ct)) return new LastAccountOfDeveloper();

        var email = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(ct);
        db.AccountMembers.Remove(member);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.AccountMemberRemoved, clock.GetUtcNow(), "account", accountId.ToString(), account.Name, $"member: {email}"));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    /// <summary>For a user who became a developer without one (older data, role changes): a personal account, once.</summary>
    public async Task<Result<Unit>> EnsurePersonalAccountAsync(Guid userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.DisplayName }).FirstOrDefaultAsync(ct);
        if (user is null) return Errors.NotFound;
        if (await db.AccountMembers.AnyAsync(m => m.UserId == userId, ct)) return Unit.Value;
        AddPersonalAccount(db, Actor.System, userId, user.DisplayName, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    /// <summary>
    /// Adds (does not save) a personal account with the user as its member, so the caller saves it together with the
    /// user: a developer must never exist without an account.
    /// </summary>
    internal static Account AddPersonalAccount(PortalDbContext db, Actor actor, Guid userId, string displayName, DateTimeOffset now)
    {
        var account = new Account { Name = displayName, Kind = AccountKind.Person, CreatedAt = now };
        db.Accounts.Add(account);
        db.AccountMembers.Add(new AccountMember { AccountId = account.Id, UserId = userId });
        db.Audit.Add(AuditEntry.For(actor, AuditActions.AccountCreated, now, "account", account.Id.ToString(), account.Name, "kind: Person (personal account)"));
        return account;
    }

    void IPersonalAccountStep.Add(PortalDbContext db, Actor actor, Guid userId, string displayName, DateTimeOffset now) =>
        AddPersonalAccount(db, actor, userId, displayName, now);

    async Task IPersonalAccountStep.AddIfMissingAsync(PortalDbContext db, Actor actor, Guid userId, string displayName, DateTimeOffset now, CancellationToken ct)
    {
        if (!await db.AccountMembers.AnyAsync(m => m.UserId == userId, ct)) AddPersonalAccount(db, actor, userId, displayName, now);
    }

    private static IQueryable<AccountDto> Project(PortalDbContext db, IQueryable<Account> accounts) =>
        accounts.Select(a => new AccountDto(a.Id, a.Name, a.Kind, a.CreatedAt,
            db.AccountMembers.Count(m => m.AccountId == a.Id),
            db.Applications.Count(x => x.AccountId == a.Id),
            a.Status));
}
