using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;

namespace Portal.Core.Features.Verification;

/// <summary>
/// Answers whether a key may call a product right now, and counts the call: key, subscription, rate limit, quota,
/// in that order. A refused check consumes nothing. What a gateway calls for every request: no database read in
/// the steady state.
/// </summary>
public sealed class VerificationService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ApiKeyService apiKeys,
    VerificationCache cache,
    ILimitStore limits,
    UsageRecorder usage,
    IOptions<PortalOptions> options,
    TimeProvider clock,
    IQuotaWatch alerts)
{
    /// <summary>What the usage log shows as the route of a verification asked through the API.</summary>
    public const string ApiRoute = "/api/v1/keys/verify";

    /// <summary>What the usage log shows as the route of a catalog "Try it" verification.</summary>
    public const string TryItRoute = "/products/{slug} (Try it)";

    private static readonly IReadOnlyDictionary<string, string> NoHeaders = ReadOnlyDictionary<string, string>.Empty;

    private long _databaseLookups;

    /// <summary>How many product, application or subscription lookups went to the database (the rest came from the cache).</summary>
    public long DatabaseLookups => Interlocked.Read(ref _databaseLookups);

    /// <param name="caller">The key that asks (a gateway); null when anonymous verification is configured.</param>
    /// <param name="origin">Who sent the request (the gateway's address and user agent), kept in the request log.</param>
    public async Task<Result<VerifyResult>> VerifyAsync(Actor? caller, VerifyKey request, CancellationToken ct = default, RequestOrigin origin = default)
    {
        if (caller is null ? !options.Value.Verification.AllowAnonymous : !caller.Can(Permission.KeysVerify)) return Errors.Forbidden;
        if (!LooksValid(request) && RequestValidation.Validate(request) is { } invalid) return invalid;
        var started = Stopwatch.GetTimestamp();

        var key = KeyStateOf(await apiKeys.AuthenticateAsync(request.Key.Trim(), ct));
        return await CheckAsync(key, request.Product.Trim(), ApiRoute, started, ct, caller?.KeyId, origin);
    }

    private static KeyState KeyStateOf(KeyCheck check) => check.Code switch
    {
        KeyCheckCode.Valid => new KeyState(null, check.Identity!.KeyId, check.Identity.ApplicationId,
            check.Identity.UserId == Guid.Empty ? null : check.Identity.UserId),
        // A key found but refused keeps its ids (read anyway, no extra lookup), so its owner sees the refusal.
        KeyCheckCode.Revoked => KeyState.Refused(VerifyCode.Revoked, check.Refused),
        KeyCheckCode.Expired => KeyState.Refused(VerifyCode.Expired, check.Refused),
        KeyCheckCode.Disabled => KeyState.Refused(VerifyCode.Disabled, check.Refused),
        _ => KeyState.Refused(VerifyCode.NotFound),
    };

    /// <summary>
    /// The gateway's check of one call: decided as <see cref="VerifyAsync"/> decides (the same code, so the same rules),
    /// with what the upstream is told about the caller. Records no usage: the gateway records the call once answered.
    /// </summary>
    /// <param name="key">The presented key.</param>
    /// <param name="presentedKeyId">For HTTP Basic: the user name, which must be the key's own id (else NOT_FOUND, nothing counted).</param>
    /// <param name="product">The product's slug.</param>
    public async ValueTask<GatewayVerdict> CheckGatewayCallAsync(string key, Guid? presentedKeyId, string product, CancellationToken ct = default)
    {
        var state = key.Length is > 0 and <= 512 ? KeyStateOf(await apiKeys.AuthenticateAsync(key.Trim(), ct)) : KeyState.Refused(VerifyCode.NotFound);
        if (presentedKeyId is { } claimed && (state.KeyId != claimed || state.ApplicationId is null)) state = KeyState.Refused(VerifyCode.NotFound);
        return await GatewayVerdictOf(state, product, ct);
    }

    /// <summary>
    /// The gateway's check for the catalog's "Try it", which has no key to present, only the id of a key its user
    /// chose (and was allowed to, when the request was made): the key's state is read by id, the rest as for any call.
    /// </summary>
    public async ValueTask<GatewayVerdict> CheckGatewayCallByKeyIdAsync(Guid keyId, string product, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var found = await db.ApiKeys.AsNoTracking().Where(k => k.Id == keyId && k.ApplicationId != null)
            .Select(k => new { k.Id, k.ApplicationId, k.RevokedAt, k.ExpiresAt }).FirstOrDefaultAsync(ct);
        var now = clock.GetUtcNow();
        var state = found is null ? KeyState.Refused(VerifyCode.NotFound)
            : found.RevokedAt is not null ? KeyState.Refused(VerifyCode.Revoked) with { KeyId = found.Id, ApplicationId = found.ApplicationId }
            : found.ExpiresAt <= now ? KeyState.Refused(VerifyCode.Expired) with { KeyId = found.Id, ApplicationId = found.ApplicationId }
            : new KeyState(null, found.Id, found.ApplicationId, null);
        return await GatewayVerdictOf(state, product, ct);
    }

    private async ValueTask<GatewayVerdict> GatewayVerdictOf(KeyState state, string product, CancellationToken ct)
    {
        var result = await DecideAsync(state, product, ct);
        Guid? accountId = null;
        SubscriptionEntry? subscription = null;
        if (result.ApplicationId is { } applicationId)
        {
            // Both read from the cache DecideAsync just filled.
            accountId = (await FindApplicationAsync(applicationId, ct))?.AccountId;
            if (result.SubscriptionId is not null && result.ProductId is { } productId) subscription = await FindSubscriptionAsync(applicationId, productId, ct);
        }
        return new GatewayVerdict(result, accountId, state.OwnerUserId, state.Refusal is not null,
            subscription?.RateLimit is null ? null : subscription.RateLimitWindow == RateLimitWindow.Minute ? 60 : 1,
            subscription?.Quota is null ? null : (long)(QuotaCounterStore.PeriodEnd(subscription.QuotaPeriod, QuotaCounterStore.PeriodStart(subscription.QuotaPeriod, clock.GetUtcNow()))
                - QuotaCounterStore.PeriodStart(subscription.QuotaPeriod, clock.GetUtcNow())).TotalSeconds);
    }

    /// <summary>The catalog's "Try it": verifies one of the actor's own application keys, chosen by key id.</summary>
    public async Task<Result<VerifyResult>> TryKeyAsync(Actor actor, Guid keyId, string product, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.KeysVerify)) return Errors.Forbidden;
        if (string.IsNullOrWhiteSpace(product)) return ValidationError.For("product", "Choose a product.");
        var started = Stopwatch.GetTimestamp();

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var keys = db.ApiKeys.AsNoTracking().Where(k => k.Id == keyId && k.ApplicationId != null);
            // The applications the actor may see, as on the applications pages; any other key is not found.
            keys = keys.Where(k => Membership.VisibleApplications(db, actor).Any(a => a.Id == k.ApplicationId));
            var found = await keys.Select(k => new { k.Id, k.ApplicationId, k.RevokedAt, k.ExpiresAt }).FirstOrDefaultAsync(ct);
            if (found is null) return Errors.NotFound;

            var now = clock.GetUtcNow();
            var key = found.RevokedAt is not null ? KeyState.Refused(VerifyCode.Revoked) with { KeyId = found.Id, ApplicationId = found.ApplicationId }
                : found.ExpiresAt <= now ? KeyState.Refused(VerifyCode.Expired) with { KeyId = found.Id, ApplicationId = found.ApplicationId }
                : new KeyState(null, found.Id, found.ApplicationId, null);
            return await CheckAsync(key, product.Trim(), TryItRoute, started, ct, actor.KeyId);
        }
    }

    /// <summary>The key's verdict as far as the key itself goes; <see cref="Refusal"/> set when it already fails.</summary>
    private readonly record struct KeyState(VerifyCode? Refusal, Guid? KeyId, Guid? ApplicationId, Guid? OwnerUserId)
    {
        public static KeyState Refused(VerifyCode code, RefusedKey? known = null) =>
            new(code, known?.KeyId, known?.ApplicationId, known?.OwnerUserId);
    }

    /// <summary>Everything after the key: its application's account, the product, the subscription, then the throttle. Records the answer.</summary>
    private async ValueTask<VerifyResult> CheckAsync(KeyState key, string product, string route, long started, CancellationToken ct, Guid? callerKeyId, RequestOrigin origin = default)
    {
        var result = await DecideAsync(key, product, ct);
        var limit = result.Code switch
        {
            VerifyCode.RateLimited => result.Ratelimit,
            VerifyCode.QuotaExceeded => result.Quota,
            _ => null,
        };
        usage.Record(new UsageRecord(clock.GetUtcNow(), result.KeyId, key.OwnerUserId, "POST", route, 200,
            (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            result.ApplicationId, result.ProductId, result.Plan?.Id, CodeText(result.Code), UsageSource.Verification,
            CallerKeyId: callerKeyId, Origin: origin, Limit: limit));
        return result;
    }

    private async ValueTask<VerifyResult> DecideAsync(KeyState key, string productText, CancellationToken ct)
    {
        if (key.Refusal is { } refused) return Refusal(refused, key, null);

        if (key.ApplicationId is { } applicationId)
        {
            var application = await FindApplicationAsync(applicationId, ct);
            if (application is not { AccountActive: true }) return Refusal(VerifyCode.Disabled, key, null);
        }

        var product = await FindProductAsync(productText, ct);
        if (product is null) return Refusal(VerifyCode.NotFound, key, null);
        // A personal key belongs to no application, so it subscribes to nothing.
        var subscription = key.ApplicationId is { } appId ? await FindSubscriptionAsync(appId, product.Id, ct) : null;
        // An unpublished product is invisible to those without a subscription (so a draft's slug is not revealed),
        // and keeps working for applications approved on it: unpublishing stops new subscriptions, not traffic.
        if (subscription is null) return Refusal(product.Published ? VerifyCode.NotSubscribed : VerifyCode.NotFound, key, product.Published ? product.Id : null);

        var now = clock.GetUtcNow();
        var taken = await limits.TakeAsync(subscription.Limits, now);
        // A comparison per call; only the call reaching 80% or 100% of the quota hands an alert to the background. Refused
        // calls count too: should the save of the 100% alert have failed, the next refusal tries again.
        if (taken.Code is VerifyCode.Valid or VerifyCode.QuotaExceeded && taken.Quota.Remaining is { } left && left * 5 <= taken.Quota.Limit)
            alerts.Observe(subscription.Id, subscription.QuotaPeriod, taken.Quota, now);
        var retryAfter = taken.Code switch
        {
            VerifyCode.RateLimited => taken.Ratelimit.Reset,
            VerifyCode.QuotaExceeded => taken.Quota.Reset,
            _ => null,
        };
        return new VerifyResult(taken.Code == VerifyCode.Valid, taken.Code, key.KeyId, key.ApplicationId, subscription.Id, product.Id,
            subscription.Plan, taken.Ratelimit, taken.Quota, retryAfter, Headers(taken, retryAfter));
    }

    private static VerifyResult Refusal(VerifyCode code, KeyState key, Guid? productId) =>
        new(false, code, key.KeyId, key.ApplicationId, null, productId, null, null, null, null, NoHeaders);

    /// <summary>
    /// What a gateway passes to its client: <c>Retry-After</c> when refused, and the <c>RateLimit-*</c> fields of the
    /// limit closest to running out (the one that refused, or for a valid call the one with fewer calls left).
    /// </summary>
    private static IReadOnlyDictionary<string, string> Headers(LimitOutcome taken, long? retryAfter)
    {
        var limit = taken.Code switch
        {
            VerifyCode.RateLimited => taken.Ratelimit,
            VerifyCode.QuotaExceeded => taken.Quota,
            _ when taken.Ratelimit.Limit is null => taken.Quota,
            _ when taken.Quota.Limit is null => taken.Ratelimit,
            _ => taken.Quota.Remaining < taken.Ratelimit.Remaining ? taken.Quota : taken.Ratelimit,
        };
        if (limit.Limit is null) return NoHeaders;
        var headers = new Dictionary<string, string>(4, StringComparer.OrdinalIgnoreCase);
        if (retryAfter is { } seconds) headers["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Limit"] = limit.Limit.Value.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Remaining"] = limit.Remaining!.Value.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Reset"] = limit.Reset!.Value.ToString(CultureInfo.InvariantCulture);
        return headers;
    }

    private ValueTask<ApplicationEntry?> FindApplicationAsync(Guid applicationId, CancellationToken ct) =>
        cache.Applications.GetOrLoadAsync(applicationId, this, static async (self, id, ct) =>
        {
            await using var db = await self.OpenForLookupAsync(ct);
            var working = KeyHolders.AccountsWhoseKeysWork(db, self.Settings);
            return await db.Applications.AsNoTracking().Where(a => a.Id == id)
                .Select(a => new ApplicationEntry(a.AccountId, working.Any(account => account.Id == a.AccountId))).FirstOrDefaultAsync(ct);
        }, ct);

    private ValueTask<ProductEntry?> FindProductAsync(string idOrSlug, CancellationToken ct) =>
        cache.Products.GetOrLoadAsync(idOrSlug, this, static async (self, text, ct) =>
        {
            await using var db = await self.OpenForLookupAsync(ct);
            var products = db.Products.AsNoTracking();
            var slug = text.ToLowerInvariant();
            return Guid.TryParse(text, out var id)
                ? await products.Where(p => p.Id == id || p.Slug == slug).OrderBy(p => p.Id == id ? 0 : 1)
                    .Select(p => new ProductEntry(p.Id, p.Published)).FirstOrDefaultAsync(ct)
                : await products.Where(p => p.Slug == slug).Select(p => new ProductEntry(p.Id, p.Published)).FirstOrDefaultAsync(ct);
        }, ct);

    private ValueTask<SubscriptionEntry?> FindSubscriptionAsync(Guid applicationId, Guid productId, CancellationToken ct) =>
        cache.Subscriptions.GetOrLoadAsync((applicationId, productId), this, static async (self, key, ct) =>
        {
            await using var db = await self.OpenForLookupAsync(ct);
            return await (from s in db.Subscriptions.AsNoTracking()
                          join p in db.Plans on s.PlanId equals p.Id
                          where s.ApplicationId == key.ApplicationId && s.ProductId == key.ProductId && s.Status == SubscriptionStatus.Approved
                          select new SubscriptionEntry(s.Id, p.Id, p.Name, p.Type, p.RateLimit, p.RateLimitWindow, p.Quota, p.QuotaPeriod))
                .FirstOrDefaultAsync(ct);
        }, ct);

    private PortalOptions Settings => options.Value;

    private Task<PortalDbContext> OpenForLookupAsync(CancellationToken ct)
    {
        Interlocked.Increment(ref _databaseLookups);
        return dbFactory.CreateDbContextAsync(ct);
    }

    /// <summary>Cheap check of the common case; anything doubtful goes through the full DataAnnotations check for its messages.</summary>
    private static bool LooksValid(VerifyKey request) =>
        request.Key is { Length: > 0 and <= 512 } && !string.IsNullOrWhiteSpace(request.Key) &&
        request.Product is { Length: > 0 and <= 100 } && !string.IsNullOrWhiteSpace(request.Product);

    /// <summary>The code as the API spells it (<c>RATE_LIMITED</c>), for the usage log.</summary>
    public static string CodeText(VerifyCode code) => code switch
    {
        VerifyCode.Valid => VerifyOutcomes.Valid,
        VerifyCode.NotFound => VerifyOutcomes.NotFound,
        VerifyCode.Revoked => VerifyOutcomes.Revoked,
        VerifyCode.Expired => VerifyOutcomes.Expired,
        VerifyCode.Disabled => VerifyOutcomes.Disabled,
        VerifyCode.NotSubscribed => VerifyOutcomes.NotSubscribed,
        VerifyCode.RateLimited => VerifyOutcomes.RateLimited,
        VerifyCode.QuotaExceeded => VerifyOutcomes.QuotaExceeded,
        _ => code.ToString(),
    };
}
