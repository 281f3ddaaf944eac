using System.Collections.Concurrent;
using Portal.Core.Domain;
using Portal.Core.Features.Cluster;
using Portal.Core.Features.Products;

namespace Portal.Core.Features.Verification;

/// <summary>
/// What verification keeps in memory about products, plans, subscriptions and accounts, so a verification costs no
/// database read in the steady state. <see cref="Portal.Core.Data.CacheInvalidation"/> calls <see cref="Invalidate"/>
/// once a save that changed any of those has committed; a lookup that started before an invalidation does not store
/// what it read (the generation moved on).
/// </summary>
public sealed class VerificationCache : IClusterCache
{
    /// <summary>A backstop only: saved changes invalidate at once; one the database made behind EF's back heals after this.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(5);

    /// <summary>Per store. The entries are bounded by real rows (ids come from valid keys and found products), but a crude cap keeps memory finite anyway.</summary>
    private const int MaxEntries = 100_000;

    private long _generation;

    private readonly TimeProvider _clock;

    public VerificationCache(TimeProvider clock)
    {
        _clock = clock;
        Products = new(this, StringComparer.OrdinalIgnoreCase);
        Applications = new(this, EqualityComparer<Guid>.Default);
        Subscriptions = new(this, EqualityComparer<(Guid, Guid)>.Default);
    }

    /// <summary>For code that builds one by hand; the container passes its clock.</summary>
    public VerificationCache() : this(TimeProvider.System)
    {
    }

    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Products by the text a gateway sent (id or slug); a null value means "no such product".</summary>
    internal Lookup<string, ProductEntry?> Products { get; }

    /// <summary>Applications by id; a null value: the application no longer exists.</summary>
    internal Lookup<Guid, ApplicationEntry?> Applications { get; }

    /// <summary>The APPROVED subscription of an application to a product; a null value: there is none.</summary>
    internal Lookup<(Guid ApplicationId, Guid ProductId), SubscriptionEntry?> Subscriptions { get; }

    /// <summary>
    /// Drops everything cached, here and on the other instances: a product, plan, subscription, application or account
    /// changed. Public for tests that start from a cold cache; services never call it, their saves do.
    /// </summary>
    public void Invalidate()
    {
        Drop();
        Changed?.Invoke(new CacheNotice(CacheNoticeKind.Verification, Guid.Empty));
    }

    /// <summary>Raised for each change made on this instance, so <see cref="CacheNotices"/> tells the other instances.</summary>
    public event Action<CacheNotice>? Changed;

    /// <summary>Another instance changed something (or notices may have been missed): dropped here, not announced again.</summary>
    public void Drop()
    {
        // The generation moves first: a lookup that stores after the clear below sees it and takes its entry back.
        Interlocked.Increment(ref _generation);
        Products.Clear();
        Applications.Clear();
        Subscriptions.Clear();
        Invalidated?.Invoke();
    }

    void IClusterCache.Apply(CacheNotice notice)
    {
        if (notice.Kind == CacheNoticeKind.Verification) Drop();
    }

    void IClusterCache.DropAll() => Drop();

    /// <summary>For the verification service's own stores to clear themselves.</summary>
    internal event Action? Invalidated;

    /// <summary>One kind of lookup: entries by key, read through to the database by the caller's loader.</summary>
    internal sealed class Lookup<TKey, TValue>(VerificationCache cache, IEqualityComparer<TKey> comparer) where TKey : notnull
    {
        private readonly ConcurrentDictionary<TKey, Entry> _entries = new(comparer);

        private sealed record Entry(TValue Value, DateTimeOffset CachedAt);

        public bool TryGet(TKey key, out TValue value)
        {
            if (_entries.TryGetValue(key, out var entry))
            {
                if (cache._clock.GetUtcNow() - entry.CachedAt < TimeToLive)
                {
                    value = entry.Value;
                    return true;
                }
                _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
            }
            value = default!;
            return false;
        }

        /// <summary>Stores what a lookup read, unless an invalidation came after the lookup began.</summary>
        public void Put(TKey key, TValue value, long generationAtLookup)
        {
            if (cache.Generation != generationAtLookup) return;
            if (_entries.Count >= MaxEntries) _entries.Clear();
            var entry = new Entry(value, cache._clock.GetUtcNow());
            _entries[key] = entry;
            // An invalidation between the check above and the write may have cleared before this write landed.
            if (cache.Generation != generationAtLookup) _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
        }

        /// <summary>The cached value, or what <paramref name="load"/> reads (stored if no invalidation came meanwhile).</summary>
        public async ValueTask<TValue> GetOrLoadAsync<TState>(TKey key, TState state, Func<TState, TKey, CancellationToken, Task<TValue>> load, CancellationToken ct)
        {
            if (TryGet(key, out var cached)) return cached;
            var generation = cache.Generation;
            var loaded = await load(state, key, ct);
            Put(key, loaded, generation);
            return loaded;
        }

        public void Clear() => _entries.Clear();
    }
}

/// <summary>A product as verification needs it.</summary>
internal sealed record ProductEntry(Guid Id, bool Published);

/// <summary>An application as verification needs it: whether its account may use its keys.</summary>
internal sealed record ApplicationEntry(Guid AccountId, bool AccountActive);

/// <summary>An APPROVED subscription with its plan's limits.</summary>
internal sealed record SubscriptionEntry(
    Guid Id,
    Guid PlanId,
    string PlanName,
    PlanType PlanType,
    int? RateLimit,
    RateLimitWindow RateLimitWindow,
    long? Quota,
    QuotaPeriod QuotaPeriod)
{
    public VerifyPlan Plan { get; } = new(PlanId, PlanName, PlanType.ToString());

    public LimitRequest Limits { get; } = new(Id, RateLimit, RateLimitWindow, Quota, QuotaPeriod);
}
