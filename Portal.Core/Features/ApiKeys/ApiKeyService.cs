using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.ApiKeys;

/// <summary>
/// Personal API keys: issuing (the secret is returned once and only its hash is kept), listing, revoking,
/// regenerating, deleting, usage, and the check behind every key-authenticated request.
/// </summary>
public sealed class ApiKeyService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ApiKeyCache cache,
    IOptions<PortalOptions> options,
    TimeProvider clock)
{
    private static readonly TimeSpan MaxHourlyRange = TimeSpan.FromDays(31);
    private static readonly TimeSpan MaxDailyRange = TimeSpan.FromDays(366);

    private long _databaseLookups;

    /// <summary>How many key checks went to the database (the rest were refused by format or answered by the cache).</summary>
    public long DatabaseLookups => Interlocked.Read(ref _databaseLookups);

    public async Task<Result<PagedResult<ApiKeyDto>>> ListAsync(Actor actor, ApiKeyQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApiKeysRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();

        var keys = Visible(db, actor);
        if (query.OwnerId is { } ownerId) keys = keys.Where(k => k.OwnerUserId == ownerId);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            if (NameSearch.ApiKeys(db, query.Search) is { } named)
                keys = keys.Where(k => named.Contains(k.Id));
            else
            {
                var term = query.Search.Trim().ToLower();
                keys = keys.Where(k => k.Name.ToLower().Contains(term) || (k.Description != null && k.Description.ToLower().Contains(term)));
            }
        }
        keys = query.Status switch
        {
            ApiKeyStatus.Revoked => keys.Where(k => k.RevokedAt != null),
            ApiKeyStatus.Expired => keys.Where(k => k.RevokedAt == null && k.ExpiresAt != null && k.ExpiresAt <= now),
            ApiKeyStatus.Active => keys.Where(k => k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now)),
            _ => keys,
        };
        keys = (query.Sort ?? "-createdAt") switch
        {
            "name" => keys.OrderBy(k => k.Name).ThenBy(k => k.Id),
            // Ties follow the direction: one index serves both (IX_ApiKeys_Personal_*).
            "-name" => keys.OrderByDescending(k => k.Name).ThenByDescending(k => k.Id),
            "createdAt" => keys.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id),
            "lastUsed" or "lastUsedAt" => keys.OrderBy(k => k.LastUsedAt).ThenBy(k => k.Id),
            "-lastUsed" or "-lastUsedAt" => keys.OrderByDescending(k => k.LastUsedAt).ThenByDescending(k => k.Id),
            "expiresAt" => keys.OrderBy(k => k.ExpiresAt == null).ThenBy(k => k.ExpiresAt).ThenBy(k => k.Id),
            "-expiresAt" => keys.OrderByDescending(k => k.ExpiresAt == null).ThenByDescending(k => k.ExpiresAt).ThenBy(k => k.Id),
            _ => keys.OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id),
        };

        var page = await keys.ToPageAsync(query, ct);
        var emails = await OwnerEmailsAsync(db, page.Items, ct);
        return new PagedResult<ApiKeyDto>(
            page.Items.Select(k => ToDto(k, emails, now)).ToList(), page.Page, page.PageSize, page.Total);
    }

    public async Task<Result<ApiKeyDto>> GetAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApiKeysRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await Visible(db, actor).FirstOrDefaultAsync(k => k.Id == id, ct);
        if (key is null) return Errors.NotFound;
        return ToDto(key, await OwnerEmailsAsync(db, [key], ct), clock.GetUtcNow());
    }

    /// <summary>The four cards of the API Keys page, counted by the database over the keys the actor may see.</summary>
    public async Task<Result<ApiKeyMetrics>> MetricsAsync(Actor actor, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApiKeysRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var startOfDay = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var keys = Visible(db, actor);

        // Three counts, each a range of the personal keys' state index (IX_ApiKeys_Personal_State), read from the index
        // alone: one grouped pass would visit every key's row.
        var revoked = await keys.CountAsync(k => k.RevokedAt != null, ct);
        var total = revoked + await keys.CountAsync(k => k.RevokedAt == null, ct);
        var expired = await keys.CountAsync(k => k.RevokedAt == null && k.ExpiresAt != null && k.ExpiresAt <= now, ct);
        // Everyone's personal keys: the portal's hourly count of them (a row per hour), not a row per key and hour.
        var callsToday = actor.Can(Permission.ApiKeysReadAll)
            ? await db.UsageHours.Where(h => h.HourStart >= startOfDay).SumAsync(h => (long?)h.PersonalCalls, ct) ?? 0
            : await db.UsageRollups
                .Where(r => r.HourStart >= startOfDay && keys.Any(k => k.Id == r.KeyId))
                .SumAsync(r => (long?)r.Count, ct) ?? 0;
        return new ApiKeyMetrics(total, total - revoked - expired, expired, revoked, callsToday);
    }

    public async Task<Result<ApiKeyIssued>> CreateAsync(Actor actor, CreateApiKey request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApiKeysWrite)) return Errors.Forbidden;
        var now = clock.GetUtcNow();
        var errors = RequestValidation.Validate(request)?.Errors.ToDictionary() ?? [];
        // Null when the body sent "scopes": null (the Required message is already in errors); entries may be null too.
        var requested = request.Scopes?.Select(s => s?.Trim()).Distinct().ToList() ?? [];
        if (!errors.ContainsKey("scopes") && NameLists.FirstUnknown(requested, Scopes.All, "scope", "Scopes") is { } unknown)
            errors["scopes"] = [unknown];
        if (request.ExpiresAt is { } expires && expires <= now)
            errors["expiresAt"] = ["The expiry must be in the future."];
        var ownerId = request.OwnerId ?? actor.UserId;
        if (ownerId == Guid.Empty) errors["ownerId"] = ["Choose the user who owns the key."];
        if (errors.Count > 0) return new ValidationError(errors);
        var scopes = requested.OfType<string>().ToList();
        if (ownerId != actor.UserId && !actor.Can(Permission.ApiKeysManageAll)) return Errors.Forbidden;
        // A key may not mint a key stronger than itself.
        if (actor.Scopes is { } callerScopes && scopes.FirstOrDefault(s => !callerScopes.Contains(s)) is { } beyond)
            return new ForbiddenError($"This key has no '{beyond}' scope, so it cannot give one to a new key.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var owner = await db.Users.AsNoTracking().Where(u => u.Id == ownerId).Select(u => new { u.Email, u.Status }).FirstOrDefaultAsync(ct);
        if (owner is null) return request.OwnerId is null ? Errors.NotFound : ValidationError.For("ownerId", "There is no such user.");
        var ownerRoles = await UserRoles.OfAsync(db, ownerId, ct);
        if (!MayObtainSecretOf(actor, ownerId, ownerRoles)) return new OwnerOutranksYou(owner.Email ?? "", ownerRoles, "create a key for them");
        if (owner.Status != UserStatus.Active) return new ConflictError("The owner is inactive: their keys would not work.");
        if (scopes.FirstOrDefault(s => !ScopeAllowedFor(s, ownerRoles)) is { } tooMuch)
            return ValidationError.For("scopes", $"The '{tooMuch}' scope is more than the owner's roles ({string.Join(", ", ownerRoles)}) allow.");

        var name = request.Name.Trim();
        if (await db.ApiKeys.AnyAsync(k => k.OwnerUserId == ownerId && k.Name == name, ct)) return new DuplicateKeyName(name);

        var secret = ApiKeyFormat.Generate(options.Value.ApiKeys.Prefix);
        var key = new ApiKey
        {
            OwnerUserId = ownerId,
            Name = name,
            Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim(),
            Scopes = string.Join(',', Scopes.All.Where(scopes.Contains)),
            Hash = secret.Hash,
            Start = secret.Start,
            Last4 = secret.Last4,
            CreatedAt = now,
            CreatedBy = actor.UserId == Guid.Empty ? null : actor.UserId,
            ExpiresAt = request.ExpiresAt?.ToUniversalTime(),
        };
        db.ApiKeys.Add(key);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApiKeyCreated, now, "api-key", key.Id.ToString(), name,
            $"owner: {owner.Email}; scopes: {key.Scopes}; expires: {key.ExpiresAt?.ToString("O") ?? "never"}"));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two creates raced past the check above; the unique index decided.
            await using var check = await dbFactory.CreateDbContextAsync(ct);
            if (await check.ApiKeys.AnyAsync(k => k.OwnerUserId == ownerId && k.Name == name, ct)) return new DuplicateKeyName(name);
            throw;
        }
        return new ApiKeyIssued(ToDto(key, new Dictionary<Guid, string> { [ownerId] = owner.Email! }, now), secret.Key);
    }

    /// <summary>Idempotent: revoking a revoked key succeeds and changes nothing. A revoked key is never reactivated.</summary>
    public async Task<Result<Unit>> RevokeAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApiKeysWrite)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await Visible(db, actor).AsTracking().FirstOrDefaultAsync(k => k.Id == id, ct);
        if (key is null) return Errors.NotFound;
        if (!MayChange(actor, key)) return Errors.Forbidden;
        if (key.RevokedAt is not null) return Unit.Value;

        var now = clock.GetUtcNow();
        key.RevokedAt = now;
        key.PreviousHash = null;
        key.PreviousHashExpiresAt = null;
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApiKeyRevoked, now, "api-key", id.ToString(), key.Name));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    /// <summary>
    /// A new secret for the same key (id, name, scopes, expiry). The old secret stops now or after the grace period.
    /// The update is conditional on the secret it replaces, so of two regenerations racing exactly one wins; the other
    /// answers <see cref="KeyRegeneratedMeanwhile"/> instead of a secret that was replaced before anyone could use it.
    /// </summary>
    public async Task<Result<ApiKeyIssued>> RegenerateAsync(Actor actor, Guid id, RegenerateApiKey request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApiKeysWrite)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Not tracked: the conditional update below writes the new secret, SaveChanges only the audit entry.
        var key = await Visible(db, actor).FirstOrDefaultAsync(k => k.Id == id, ct);
        if (key is null) return Errors.NotFound;
        if (!MayChange(actor, key)) return Errors.Forbidden;
        if (key.OwnerUserId is { } ownerId && ownerId != actor.UserId)
        {
            var ownerRoles = await UserRoles.OfAsync(db, ownerId, ct);
            if (!MayObtainSecretOf(actor, ownerId, ownerRoles))
                return new OwnerOutranksYou((await OwnerEmailsAsync(db, [key], ct)).GetValueOrDefault(ownerId, ""), ownerRoles, "regenerate their key");
        }
        var now = clock.GetUtcNow();
        if (key.StatusAt(now) is not ApiKeyStatus.Active and var status) return new KeyNotActive(status);

        var grace = request.GracePeriodMinutes is > 0 and var minutes ? now.AddMinutes(minutes) : (DateTimeOffset?)null;
        var secret = ApiKeyFormat.Generate(options.Value.ApiKeys.Prefix);
        var replaced = key.Hash;
        key.Rotate(secret, grace);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // A bulk update: the change tracker does not see it, so the caches drop every key (CacheInvalidation).
        var changed = await db.ApiKeys
            .Where(k => k.Id == id && k.Hash == replaced && k.RevokedAt == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(k => k.Hash, key.Hash)
                .SetProperty(k => k.Start, key.Start)
                .SetProperty(k => k.Last4, key.Last4)
                .SetProperty(k => k.PreviousHash, key.PreviousHash)
                .SetProperty(k => k.PreviousHashExpiresAt, key.PreviousHashExpiresAt), ct);
        if (changed == 0)
        {
            var current = await db.ApiKeys.AsNoTracking().Where(k => k.Id == id).Select(k => new { k.RevokedAt }).FirstOrDefaultAsync(ct);
            return current is null ? Errors.NotFound
                : current.RevokedAt is not null ? new KeyNotActive(ApiKeyStatus.Revoked)
                : new KeyRegeneratedMeanwhile();
        }
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApiKeyRegenerated, now, "api-key", id.ToString(), key.Name,
            grace is null ? "old secret stopped at once" : $"old secret valid until {grace:O}"));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new ApiKeyIssued(ToDto(key, await OwnerEmailsAsync(db, [key], ct), now), secret.Key);
    }

    public async Task<Result<Unit>> DeleteAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApiKeysWrite)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await Visible(db, actor).AsTracking().FirstOrDefaultAsync(k => k.Id == id, ct);
        if (key is null) return Errors.NotFound;
        if (!MayChange(actor, key)) return Errors.Forbidden;

        db.ApiKeys.Remove(key);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ApiKeyDeleted, clock.GetUtcNow(), "api-key", id.ToString(), key.Name));
        await db.SaveChangesAsync(ct);
        return Unit.Value;
    }

    /// <summary>Calls per hour or day from the hourly rollups; empty buckets are included so charts need no gap filling.</summary>
    public async Task<Result<ApiKeyUsage>> UsageAsync(Actor actor, Guid id, UsageQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ApiKeysRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        var interval = query.Interval ?? "day";
        var step = interval == "hour" ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var until = (query.To ?? clock.GetUtcNow()).ToUniversalTime();
        // Whole buckets: the one holding 'to' (exclusive) is the last, so "now" includes the running hour or day.
        var to = UsageBuckets.Align(until.AddTicks(-1), step) + step;
        var from = query.From is { } f ? UsageBuckets.Align(f.ToUniversalTime(), step) : to - (interval == "hour" ? TimeSpan.FromHours(24) : TimeSpan.FromDays(30));
        if (from >= to) return ValidationError.For("from", "'from' must be before 'to'.");
        if (to - from > (interval == "hour" ? MaxHourlyRange : MaxDailyRange))
            return ValidationError.For("from", interval == "hour" ? "Hourly usage covers at most 31 days." : "Daily usage covers at most 366 days.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await Visible(db, actor).AnyAsync(k => k.Id == id, ct)) return Errors.NotFound;
        var rollups = await db.UsageRollups.AsNoTracking()
            .Where(r => r.KeyId == id && r.HourStart >= from && r.HourStart < to)
            .Select(r => new { r.HourStart, r.Count, r.Errors })
            .ToListAsync(ct);
        var byBucket = rollups.GroupBy(r => UsageBuckets.Align(r.HourStart, step)).ToDictionary(g => g.Key, g => (Count: g.Sum(r => r.Count), Errors: g.Sum(r => r.Errors)));
        var buckets = new List<UsageBucket>();
        for (var start = from; start < to; start += step)
        {
            var (count, errors) = byBucket.GetValueOrDefault(start);
            buckets.Add(new UsageBucket(start, count, errors));
        }
        return new ApiKeyUsage(id, from, to, interval, buckets, buckets.Sum(b => b.Count), buckets.Sum(b => b.Errors));
    }

    /// <summary>
    /// The check behind every key-authenticated request: shape and checksum first (no database), then the cache,
    /// then one query by hash. Refuses revoked, expired and replaced secrets and keys whose holder may not use them
    /// (<see cref="KeyHolders"/>).
    /// </summary>
    public async Task<KeyCheck> AuthenticateAsync(string presentedKey, CancellationToken ct = default)
    {
        if (!ApiKeyFormat.IsWellFormed(presentedKey)) return new KeyCheck(KeyCheckCode.Malformed, null);
        var hash = ApiKeyFormat.Hash(presentedKey);
        var now = clock.GetUtcNow();

        if (cache.Find(hash) is { } cached && ApiKeyFormat.HashesEqual(cached.Hash, hash))
            return cached.ValidUntil is { } until && until <= now
                ? new KeyCheck(KeyCheckCode.Expired, null, Refused(cached.Identity))
                : new KeyCheck(KeyCheckCode.Valid, cached.Identity);

        if (cache.IsKnownMissing(hash)) return new KeyCheck(KeyCheckCode.NotFound, null);

        var generation = cache.Generation;
        var missingGeneration = cache.MissingGeneration;
        Interlocked.Increment(ref _databaseLookups);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash || k.PreviousHash == hash)
            .Select(k => new { k.Id, k.Hash, k.OwnerUserId, k.ApplicationId, k.Scopes, k.ExpiresAt, k.RevokedAt, k.PreviousHashExpiresAt })
            .FirstOrDefaultAsync(ct);
        if (key is null)
        {
            // Keys are long random secrets: a hash found nowhere is a typo or a flood, and stays unknown.
            cache.NoteMissing(hash, missingGeneration);
            return new KeyCheck(KeyCheckCode.NotFound, null);
        }
        var viaPreviousSecret = !ApiKeyFormat.HashesEqual(key.Hash, hash);
        if (viaPreviousSecret && !(key.PreviousHashExpiresAt > now)) return new KeyCheck(KeyCheckCode.NotFound, null);
        // Refused from here on, the key is known: its ids (already read) go with the refusal for the usage log.
        var refused = new RefusedKey(key.Id, key.ApplicationId, key.OwnerUserId);
        if (key.RevokedAt is not null) return new KeyCheck(KeyCheckCode.Revoked, null, refused);
        if (key.ExpiresAt <= now) return new KeyCheck(KeyCheckCode.Expired, null, refused);
        var validUntil = viaPreviousSecret ? Earliest(key.ExpiresAt, key.PreviousHashExpiresAt) : key.ExpiresAt;
        if (key.OwnerUserId is not { } ownerId)
        {
            if (key.ApplicationId is not { } applicationId) return new KeyCheck(KeyCheckCode.Disabled, null, refused);
            // Deleting an application revokes its keys; this also refuses any key that outlived it some other way,
            // and the keys of a suspended account.
            var working = KeyHolders.AccountsWhoseKeysWork(db, options.Value);
            var app = await db.Applications.AsNoTracking()
                .Where(a => a.Id == applicationId)
                .Select(a => new { a.Name, a.AccountId, KeysWork = working.Any(acc => acc.Id == a.AccountId) }).FirstOrDefaultAsync(ct);
            if (app is null || !app.KeysWork) return new KeyCheck(KeyCheckCode.Disabled, null, refused);
            // No user, no roles, no scopes: the actor it becomes may only read its own application.
            var appIdentity = new KeyIdentity(key.Id, Guid.Empty, $"application:{applicationId}", app.Name, [], [], applicationId);
            cache.Store(new ApiKeyCache.Entry(hash, appIdentity, validUntil, now, app.AccountId), generation);
            return new KeyCheck(KeyCheckCode.Valid, appIdentity);
        }

        var owner = await db.Users.AsNoTracking().Where(u => u.Id == ownerId).Select(u => new { u.Email, u.Status, u.DisplayName, u.EmailConfirmed }).FirstOrDefaultAsync(ct);
        if (owner is null || !KeyHolders.UserKeysWork(owner.Status, owner.EmailConfirmed, options.Value)) return new KeyCheck(KeyCheckCode.Disabled, null, refused);
        var roles = await UserRoles.OfAsync(db, ownerId, ct);

        var identity = new KeyIdentity(key.Id, ownerId, owner.Email ?? "", owner.DisplayName, roles, key.Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries));
        cache.Store(new ApiKeyCache.Entry(hash, identity, validUntil, now), generation);
        return new KeyCheck(KeyCheckCode.Valid, identity);
    }

    private static RefusedKey Refused(KeyIdentity identity) =>
        new(identity.KeyId, identity.ApplicationId, identity.UserId == Guid.Empty ? null : identity.UserId);

    /// <summary>
    /// A new application credential (not saved): same key format and hashing as personal keys, no owner, no scopes.
    /// The caller adds it to its own context so the key is saved with the change that needs it.
    /// </summary>
    internal (ApiKey Key, IssuedSecret Secret) NewApplicationKey(Guid applicationId, Actor actor, DateTimeOffset now, DateTimeOffset? expiresAt = null)
    {
        var secret = ApiKeyFormat.Generate(options.Value.ApiKeys.Prefix);
        var key = new ApiKey
        {
            ApplicationId = applicationId,
            Name = "application key",
            Hash = secret.Hash,
            Start = secret.Start,
            Last4 = secret.Last4,
            CreatedAt = now,
            CreatedBy = actor.UserId == Guid.Empty ? null : actor.UserId,
            ExpiresAt = expiresAt?.ToUniversalTime(),
        };
        return (key, secret);
    }

    /// <summary>
    /// A scope is allowed when the owner's roles grant at least one of the permissions it stands for (beyond
    /// reading one's own profile): a read-only user gets no <c>write</c>, a developer no <c>admin</c>.
    /// </summary>
    public static bool ScopeAllowedFor(string scope, IEnumerable<string> roles)
    {
        if (!Permissions.ByScope.TryGetValue(scope, out var granted)) return false;
        var fromRoles = Permissions.ForRoles(roles);
        return granted.Any(p => p != Permission.Self && fromRoles.Contains(p));
    }

    public static IReadOnlyList<string> ScopesAllowedFor(IEnumerable<string> roles)
    {
        var list = roles.ToList();
        return [.. Scopes.All.Where(s => ScopeAllowedFor(s, list))];
    }

    private static IQueryable<ApiKey> Visible(PortalDbContext db, Actor actor)
    {
        var keys = db.ApiKeys.AsNoTracking().Where(k => k.ApplicationId == null && k.OwnerUserId != null);
        return actor.Can(Permission.ApiKeysReadAll) ? keys : keys.Where(k => k.OwnerUserId == actor.UserId);
    }

    /// <summary>
    /// Of the owners of <paramref name="keys"/>, those whose keys the actor may not regenerate (nor make new keys for):
    /// their roles grant more than the actor's. The API Keys page offers no Regenerate on their keys; the rule is
    /// <see cref="MayObtainSecretOf"/>, the one <see cref="CreateAsync"/> and <see cref="RegenerateAsync"/> apply.
    /// </summary>
    public async Task<IReadOnlySet<Guid>> OwnersBeyondAsync(Actor actor, IEnumerable<ApiKeyDto> keys, CancellationToken ct = default)
    {
        // Only those who may change others' keys are ever refused, and never one whose roles cover every role.
        if (!actor.Can(Permission.ApiKeysManageAll) || actor.RolesCover(Roles.All)) return new HashSet<Guid>();
        var others = keys.Select(k => k.OwnerId).OfType<Guid>().Where(id => id != actor.UserId).Distinct().ToList();
        if (others.Count == 0) return new HashSet<Guid>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var roles = await UserRoles.OfAsync(db, others, ct);
        return others.Where(id => !MayObtainSecretOf(actor, id, roles.GetValueOrDefault(id, []))).ToHashSet();
    }

    /// <summary>A secret that acts as <paramref name="ownerId"/>: one's own, or someone's whose roles grant nothing the actor's don't.</summary>
    private static bool MayObtainSecretOf(Actor actor, Guid ownerId, IEnumerable<string> ownerRoles) =>
        ownerId == actor.UserId || actor.RolesCover(ownerRoles);

    private static bool MayChange(Actor actor, ApiKey key) =>
        key.OwnerUserId == actor.UserId ? actor.Can(Permission.ApiKeysWrite) : actor.Can(Permission.ApiKeysManageAll);

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    private static async Task<Dictionary<Guid, string>> OwnerEmailsAsync(PortalDbContext db, IReadOnlyList<ApiKey> keys, CancellationToken ct)
    {
        var ids = keys.Where(k => k.OwnerUserId is not null).Select(k => k.OwnerUserId!.Value).Distinct().ToList();
        return await db.Users.Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email ?? "", ct);
    }

    private static ApiKeyDto ToDto(ApiKey k, IReadOnlyDictionary<Guid, string> emails, DateTimeOffset now) => new(
        k.Id, k.Name, k.Description, ApiKeyFormat.Mask(k.Start, k.Last4), k.ScopeList, k.OwnerUserId,
        k.OwnerUserId is { } owner ? emails.GetValueOrDefault(owner) : null, k.ApplicationId, k.StatusAt(now),
        k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt,
        k.PreviousHashExpiresAt > now ? k.PreviousHashExpiresAt : null);
}
