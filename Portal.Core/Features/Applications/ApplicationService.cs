using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Subscriptions;

namespace Portal.Core.Features.Applications;

/// <summary>
/// Applications and their keys. Developers see and change their accounts' applications only, and another account's
/// application answers not-found, never forbidden; admins see and manage all; an application key reads itself only.
/// </summary>
public sealed class ApplicationService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ApiKeyService apiKeys,
    IOptions<PortalOptions> options,
    TimeProvider clock)
{
    public async Task<Result<PagedResult<ApplicationDto>>> ListAsync(Actor actor, ApplicationQuery query, CancellationToken ct = default)
    {
        // An application key may read its own application, not browse.
        if (!actor.Can(Permission.ApplicationsRead) || actor.ApplicationId is not null) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();

        var apps = Membership.VisibleApplications(db, actor);
        if (query.AccountId is { } accountId) apps = apps.Where(a => a.AccountId == accountId);
        if (query.Mine) apps = apps.Where(a => Membership.AccountIdsOf(db, actor).Contains(a.AccountId));
        var rows = from a in apps
                   join acc in db.Accounts on a.AccountId equals acc.Id
                   select new Row { App = a, AccountName = acc.Name };
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var text = query.Search.Trim();
            if (Guid.TryParse(text, out var id))
                rows = rows.Where(r => r.App.ReferenceId == id || r.App.Id == id);
            else if (NameSearch.Applications(db, text) is { } named && NameSearch.Accounts(db, text) is { } accountsNamed)
                rows = rows.Where(r => named.Contains(r.App.Id) || accountsNamed.Contains(r.App.AccountId));
            else
            {
                var term = text.ToLower();
                rows = rows.Where(r => r.App.Name.ToLower().Contains(term) || r.AccountName.ToLower().Contains(term));
            }
        }
        rows = (query.Sort ?? "name") switch
        {
            "-name" => rows.OrderByDescending(r => r.App.Name).ThenByDescending(r => r.App.Id),
            "account" => rows.OrderBy(r => r.AccountName).ThenBy(r => r.App.Name),
            "-account" => rows.OrderByDescending(r => r.AccountName).ThenBy(r => r.App.Name),
            "createdAt" => rows.OrderBy(r => r.App.CreatedAt).ThenBy(r => r.App.Id),
            "-createdAt" => rows.OrderByDescending(r => r.App.CreatedAt).ThenByDescending(r => r.App.Id),
            _ => rows.OrderBy(r => r.App.Name).ThenBy(r => r.App.Id),
        };
        // Every application has its account (a required key): without a search the total needs no join.
        var page = string.IsNullOrWhiteSpace(query.Search) ? await rows.ToPageAsync(query, apps, ct) : await rows.ToPageAsync(query, ct);
        var counts = await ActiveKeyCountsAsync(db, page.Items.Select(r => r.App.Id).ToList(), now, ct);
        return new PagedResult<ApplicationDto>(
            page.Items.Select(r => ToDto(r.App, r.AccountName, counts.GetValueOrDefault(r.App.Id))).ToList(), page.Page, page.PageSize, page.Total);
    }

    public async Task<Result<ApplicationDto>> GetAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var app = await Membership.VisibleApplications(db, actor).FirstOrDefaultAsync(a => a.Id == id, ct);
        if (app is null) return Errors.NotFound;
        return await ToDtoAsync(db, app, ct);
    }

    /// <summary>Creates the application and its first key in one save; the key is in this answer only (seed 001, Scenario 1).</summary>
    public async Task<Result<ApplicationCreated>> CreateAsync(Actor actor, CreateApplication request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsWrite)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        Guid accountId;
        if (request.AccountId is { } requested)
        {
            var allowed = actor.Can(Permission.ApplicationsManageAll)
                ? await db.Accounts.AnyAsync(a => a.Id == requested, ct)
                : await Membership.IsMemberAsync(db, actor, requested, ct);
            // Same answer for "no such account" and "not yours": a developer learns nothing about other accounts.
            if (!allowed) return ValidationError.For("accountId", "There is no such account among yours.");
            accountId = requested;
        }
        else
        {
            var mine = await db.AccountMembers.Where(m => m.UserId == actor.UserId).Select(m => m.AccountId).Take(2).ToListAsync(ct);
            if (mine.Count != 1)
                return ValidationError.For("accountId", mine.Count == 0 ? "Choose the account the application belongs to." : "You belong to several accounts: choose one.");
            accountId = mine[0];
        }

        var name = request.Name.Trim();
        if (name.Length == 0) return ValidationError.For("name", "Name is required.");
        if (await db.Applications.AnyAsync(a => a.AccountId == accountId && a.Name == name, ct)) return new DuplicateApplicationName(name);
        var max = options.Value.Applications.MaxPerAccount;
        if (await db.Applications.CountAsync(a => a.AccountId == accountId, ct) >= max) return new ApplicationLimitReached(max);

        var now = clock.GetUtcNow();
        var app = new Application
        {
            AccountId = accountId,
            Name = name,
            Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim(),
            CreatedAt = now,
            CreatedBy = actor.UserId == Guid.Empty ? null : actor.UserId,
        };
        var (key, secret) = apiKeys.NewApplicationKey(app.Id, actor, now);
        db.Applications.Add(app);
        db.ApiKeys.Add(key);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApplicationCreated, now, "application", app.Id.ToString(), name, $"reference id: {app.ReferenceId}"));
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApplicationKeyCreated, now, "application", app.Id.ToString(), name, $"key: {key.Id}"));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two creates raced past the check above; the unique index decided.
            await using var check = await dbFactory.CreateDbContextAsync(ct);
            if (await check.Applications.AnyAsync(a => a.AccountId == accountId && a.Name == name, ct)) return new DuplicateApplicationName(name);
            throw;
        }
        var accountName = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Name).FirstAsync(ct);
        return new ApplicationCreated(ToDto(app, accountName, 1), new ApplicationKeyIssued(ToKeyDto(key, now), secret.Key));
    }

    public async Task<Result<ApplicationDto>> UpdateAsync(Actor actor, Guid id, UpdateApplication request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsWrite)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await Membership.FindChangeableApplicationAsync(db, actor, id, ct) is not { } found) return Errors.NotFound;
        if (found.Error is { } error) return error;
        var app = found.App!;

        var changes = new List<string>();
        if (request.Name?.Trim() is { } name && name != app.Name)
        {
            if (name.Length == 0) return ValidationError.For("name", "Name must be 1 to 255 characters.");
            if (await db.Applications.AnyAsync(a => a.AccountId == app.AccountId && a.Name == name && a.Id != id, ct)) return new DuplicateApplicationName(name);
            changes.Add($"name '{app.Name}' → '{name}'");
            app.Name = name;
        }
        if (request.Description is { } description)
        {
            var trimmed = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
            if (trimmed != app.Description)
            {
                changes.Add("description changed");
                app.Description = trimmed;
            }
        }
        if (changes.Count > 0)
        {
            db.Audit.Add(AuditEntry.For(actor, AuditActions.ApplicationUpdated, clock.GetUtcNow(), "application", id.ToString(), app.Name, string.Join("; ", changes)));
            await db.SaveChangesAsync(ct);
        }
        return await ToDtoAsync(db, app, ct);
    }

    /// <summary>
    /// Revokes every key of the application, ends its open product registrations as unsubscribing would, and deletes
    /// it, in one transaction; calls with its keys fail from then on (REVOKED). The revoked key rows stay, so usage
    /// history keeps its keys; the registrations stay too, ended, with their <c>ApplicationId</c> null and the
    /// application's name and account kept, so the account and admins keep their history. The audit entry counts the
    /// keys revoked and the registrations ended.
    /// </summary>
    public async Task<Result<Unit>> DeleteAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsWrite)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Before the look-up, so that no subscribe or second delete slips in between it and the removal.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await Membership.FindChangeableApplicationAsync(db, actor, id, ct) is not { } found) return Errors.NotFound;
        if (found.Error is { } error) return error;
        var app = found.App!;

        var now = clock.GetUtcNow();
        var keys = await db.ApiKeys.AsTracking().Where(k => k.ApplicationId == id && k.RevokedAt == null).ToListAsync(ct);
        foreach (var key in keys)
        {
            key.RevokedAt = now;
            key.PreviousHash = null;
            key.PreviousHashExpiresAt = null;
        }
        var ended = await SubscriptionService.EndForRemovedApplicationAsync(db, actor, app, now, ct);
        db.Applications.Remove(app);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApplicationDeleted, now, "application", id.ToString(), app.Name,
            $"{keys.Count} key(s) revoked; {ended} open product registration(s) ended"));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Unit.Value;
    }

    public async Task<Result<PagedResult<ApplicationKeyDto>>> ListKeysAsync(Actor actor, Guid id, PageQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await Membership.VisibleApplications(db, actor).AnyAsync(a => a.Id == id, ct)) return Errors.NotFound;
        var now = clock.GetUtcNow();
        var page = await db.ApiKeys.AsNoTracking().Where(k => k.ApplicationId == id)
            .OrderByDescending(k => k.CreatedAt).ThenBy(k => k.Id)
            .ToPageAsync(query, ct);
        return new PagedResult<ApplicationKeyDto>(page.Items.Select(k => ToKeyDto(k, now)).ToList(), page.Page, page.PageSize, page.Total);
    }

    /// <summary>
    /// The active keys of the applications the caller is a member of, with each application's name, newest first
    /// (at most <see cref="PageQuery.MaxPageSize"/>): one query, for choosing a key to try.
    /// </summary>
    public async Task<Result<IReadOnlyList<(string ApplicationName, ApplicationKeyDto Key)>>> ListMyActiveKeysAsync(Actor actor, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var rows = await (from k in db.ApiKeys.AsNoTracking()
                          join a in db.Applications on k.ApplicationId equals a.Id
                          where Membership.AccountIdsOf(db, actor).Contains(a.AccountId)
                                && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now)
                          orderby a.Name, k.CreatedAt descending
                          select new { a.Name, Key = k })
            .Take(PageQuery.MaxPageSize).ToListAsync(ct);
        return rows.Select(r => (r.Name, ToKeyDto(r.Key, now))).ToList();
    }

    /// <summary>A new key for the application (seed 001: "Generate Key"); the full key is in this answer only.</summary>
    public async Task<Result<ApplicationKeyIssued>> GenerateKeyAsync(Actor actor, Guid id, GenerateApplicationKey request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsWrite)) return Errors.Forbidden;
        var now = clock.GetUtcNow();
        if (request.ExpiresAt is { } expires && expires <= now) return ValidationError.For("expiresAt", "The expiry must be in the future.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await Membership.FindChangeableApplicationAsync(db, actor, id, ct) is not { } found) return Errors.NotFound;
        if (found.Error is { } error) return error;
        var app = found.App!;

        var max = options.Value.Applications.MaxActiveKeys;
        var active = await db.ApiKeys.CountAsync(k => k.ApplicationId == id && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now), ct);
        if (active >= max) return new ActiveKeyLimitReached(max);

        var (key, secret) = apiKeys.NewApplicationKey(id, actor, now, request.ExpiresAt);
        db.ApiKeys.Add(key);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApplicationKeyCreated, now, "application", id.ToString(), app.Name, $"key: {key.Id}"));
        await db.SaveChangesAsync(ct);
        return new ApplicationKeyIssued(ToKeyDto(key, now), secret.Key);
    }

    /// <summary>Idempotent: revoking a revoked key succeeds and changes nothing. A revoked key is never reactivated.</summary>
    public async Task<Result<Unit>> RevokeKeyAsync(Actor actor, Guid id, Guid keyId, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApplicationsWrite)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await Membership.FindChangeableApplicationAsync(db, actor, id, ct) is not { } found) return Errors.NotFound;
        if (found.Error is { } error) return error;
        var key = await db.ApiKeys.AsTracking().FirstOrDefaultAsync(k => k.Id == keyId && k.ApplicationId == id, ct);
        if (key is null) return Errors.NotFound;
        if (key.RevokedAt is not null) return Unit.Value;

        var now = clock.GetUtcNow();
        key.RevokedAt = now;
        key.PreviousHash = null;
        key.PreviousHashExpiresAt = null;
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApplicationKeyRevoked, now, "application", id.ToString(), found.App!.Name, $"key: {keyId}"));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    // Member-init, not a constructor: EF can filter and sort through its properties.
    private sealed class Row
    {
        public required Application App { get; init; }
        public required string AccountName { get; init; }
    }

    private static async Task<Dictionary<Guid, int>> ActiveKeyCountsAsync(PortalDbContext db, List<Guid> appIds, DateTimeOffset now, CancellationToken ct) =>
        await db.ApiKeys.Where(k => k.ApplicationId != null && appIds.Contains(k.ApplicationId.Value) && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .GroupBy(k => k.ApplicationId!.Value)
            .Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.Key, x => x.Count, ct);

    private async Task<ApplicationDto> ToDtoAsync(PortalDbContext db, Application app, CancellationToken ct)
    {
        var accountName = await db.Accounts.Where(a => a.Id == app.AccountId).Select(a => a.Name).FirstOrDefaultAsync(ct) ?? "";
        var counts = await ActiveKeyCountsAsync(db, [app.Id], clock.GetUtcNow(), ct);
        return ToDto(app, accountName, counts.GetValueOrDefault(app.Id));
    }

    private static ApplicationDto ToDto(Application a, string accountName, int activeKeys) =>
        new(a.Id, a.AccountId, accountName, a.Name, a.ReferenceId, a.Description, a.CreatedAt, a.CreatedBy, activeKeys);

    private static ApplicationKeyDto ToKeyDto(ApiKey k, DateTimeOffset now)
    {
        var status = k.StatusAt(now);
        return new ApplicationKeyDto(k.Id, k.ApplicationId!.Value, ApiKeyFormat.Mask(k.Start, k.Last4), status == ApiKeyStatus.Active, status,
            k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt);
    }
}
