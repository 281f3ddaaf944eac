using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Portal.Core.Data;
using Portal.Core.Domain;

namespace Portal.Core.Features.Verification;

/// <summary>
/// Quota counters per subscription and period, in memory: loaded from <c>QuotaCounters</c> on first use, counted
/// under a lock against the limit (so concurrent calls never overshoot), added to the database behind by
/// <see cref="FlushAsync"/> (a background loop every 100 ms, and once more on shutdown) and ahead of the answer near
/// the end of a quota. Exact for one instance; several instances count in Redis (<see cref="RedisLimitStore"/>).
/// </summary>
public sealed class QuotaCounterStore(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock, ILogger<QuotaCounterStore> logger)
{
    /// <summary>A counter unused this long, and saved, leaves memory (it is read again when needed).</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(10);

    private const int FlushChunk = 500;

    private readonly ConcurrentDictionary<(Guid SubscriptionId, DateTimeOffset PeriodStart), Lazy<Task<Counter>>> _counters = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);

    /// <summary>How many counters are in memory (for tests and diagnostics).</summary>
    public int Count => _counters.Count;

    /// <summary>One subscription's calls in one period. Lock it to read or change <see cref="Used"/>.</summary>
    internal sealed class Counter(Guid subscriptionId, DateTimeOffset periodStart, DateTimeOffset periodEnd, long used)
    {
        public Guid SubscriptionId { get; } = subscriptionId;
        public DateTimeOffset PeriodStart { get; } = periodStart;
        public DateTimeOffset PeriodEnd { get; } = periodEnd;
        public long Used = used;
        /// <summary>How much of <see cref="Used"/> is in the database or being written there.</summary>
        public long Persisted = used;
        public long LastUsedTicks;
        /// <summary>Set (under the lock) when the counter left the store: whoever still holds it fetches it again.</summary>
        public bool Evicted;

        /// <summary>Counts one call unless that would pass <paramref name="limit"/>. Call under the lock.</summary>
        public bool TryTake(long? limit, long nowTicks)
        {
            LastUsedTicks = nowTicks;
            if (limit is { } max && Used >= max) return false;
            Used++;
            return true;
        }
    }

    public static DateTimeOffset PeriodStart(QuotaPeriod period, DateTimeOffset now) => period.StartOf(now);

    public static DateTimeOffset PeriodEnd(QuotaPeriod period, DateTimeOffset start) => period.EndOf(start);

    /// <summary>The counter of the period holding <paramref name="now"/>; a database read only the first time.</summary>
    internal ValueTask<Counter> GetAsync(Guid subscriptionId, QuotaPeriod period, DateTimeOffset now)
    {
        var key = (subscriptionId, PeriodStart(period, now));
        if (!_counters.TryGetValue(key, out var lazy))
            lazy = _counters.GetOrAdd(key, static (k, state) =>
                new Lazy<Task<Counter>>(() => state.Store.LoadAsync(k.SubscriptionId, k.PeriodStart, PeriodEnd(state.Period, k.PeriodStart))), (Store: this, Period: period));
        var task = lazy.Value;
        return task.IsCompletedSuccessfully ? new ValueTask<Counter>(task.Result) : new ValueTask<Counter>(AwaitLoadAsync(key, lazy));
    }

    /// <summary>
    /// The period's count without taking a call: the counter in memory when there is one (saved or not), else the
    /// database total. Reading leaves no counter behind, so a page looking at quotas never fills this store.
    /// </summary>
    public async ValueTask<long> PeekAsync(Guid subscriptionId, QuotaPeriod period, DateTimeOffset now, CancellationToken ct = default)
    {
        var start = PeriodStart(period, now);
        if (_counters.TryGetValue((subscriptionId, start), out var lazy) && lazy.IsValueCreated)
        {
            try
            {
                var counter = await lazy.Value.WaitAsync(ct);
                lock (counter)
                    if (!counter.Evicted) return counter.Used;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed load is tried again by the next call; the database answers here.
            }
        }
        return await QuotaTotals.ReadAsync(dbFactory, subscriptionId, start, ct);
    }

    private async Task<Counter> AwaitLoadAsync((Guid, DateTimeOffset) key, Lazy<Task<Counter>> lazy)
    {
        try
        {
            return await lazy.Value;
        }
        catch
        {
            // A failed read must not stay cached: the next call tries again.
            _counters.TryRemove(new KeyValuePair<(Guid, DateTimeOffset), Lazy<Task<Counter>>>(key, lazy));
            throw;
        }
    }

    private async Task<Counter> LoadAsync(Guid subscriptionId, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        // Shared by every caller waiting for this counter: one caller's cancellation must not fail the others.
        var used = await QuotaTotals.ReadAsync(dbFactory, subscriptionId, periodStart, CancellationToken.None);
        return new Counter(subscriptionId, periodStart, periodEnd, used) { LastUsedTicks = clock.GetUtcNow().UtcTicks };
    }

    /// <summary>
    /// Adds every counter's calls not yet saved to its database row, then lets go of counters whose period is over
    /// or that sat idle, once they are saved.
    /// </summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        await _flushing.WaitAsync(ct);
        try
        {
            var dirty = new List<Counter>();
            foreach (var lazy in _counters.Values)
            {
                if (!lazy.IsValueCreated || !lazy.Value.IsCompletedSuccessfully) continue;
                var counter = lazy.Value.Result;
                lock (counter)
                    if (!counter.Evicted && counter.Used != counter.Persisted) dirty.Add(counter);
            }
            foreach (var chunk in dirty.Chunk(FlushChunk)) await SaveAsync(chunk, ct);
            Evict();
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>
    /// Saves one counter now (a call near the end of its quota is saved before it is answered). It waits for a flush
    /// under way: that flush may have claimed this counter's latest calls, and the answer must not go out before
    /// they are in the database.
    /// </summary>
    internal async Task SaveAsync(Counter counter, CancellationToken ct)
    {
        await _flushing.WaitAsync(ct);
        try
        {
            await SaveAsync([counter], ct);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task SaveAsync(Counter[] chunk, CancellationToken ct)
    {
        // What each write adds is claimed under the lock first (Persisted moves ahead), so a flush and a write-through
        // racing on one counter never add the same calls twice; a failed write gives its claim back.
        var claims = new List<(Counter Counter, long Delta)>(chunk.Length);
        foreach (var counter in chunk)
            lock (counter)
            {
                var delta = counter.Used - counter.Persisted;
                if (delta == 0) continue;
                counter.Persisted = counter.Used;
                claims.Add((counter, delta));
            }
        if (claims.Count == 0) return;
        var (failed, error) = await QuotaTotals.AddAsync(dbFactory, claims, c => (c.Counter.SubscriptionId, c.Counter.PeriodStart, c.Delta), ct);
        foreach (var (counter, delta) in failed)
            lock (counter) counter.Persisted -= delta;
        if (error is OperationCanceledException) throw error;
        if (error is not null) logger.LogWarning(error, "Could not save {Count} quota counters; retrying on the next flush", failed.Count);
    }

    /// <summary>
    /// Lets go of every saved counter, so the next use reads the database total again: after Redis counted for a
    /// while, what this store holds from an earlier Redis outage is behind.
    /// </summary>
    public async Task ForgetSavedAsync(CancellationToken ct = default)
    {
        await _flushing.WaitAsync(ct);
        try
        {
            Evict(everyIdle: true);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private void Evict(bool everyIdle = false)
    {
        var now = clock.GetUtcNow();
        var idleBefore = everyIdle ? long.MaxValue : (now - IdleAfter).UtcTicks;
        foreach (var (key, lazy) in _counters)
        {
            if (!lazy.IsValueCreated || !lazy.Value.IsCompletedSuccessfully) continue;
            var counter = lazy.Value.Result;
            lock (counter)
            {
                if (counter.Used != counter.Persisted || (now < counter.PeriodEnd && counter.LastUsedTicks >= idleBefore)) continue;
                counter.Evicted = true;
            }
            _counters.TryRemove(new KeyValuePair<(Guid, DateTimeOffset), Lazy<Task<Counter>>>(key, lazy));
        }
    }
}
