using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Portal.Core.Data;
using Portal.Core.Features.Products;

namespace Portal.Core.Features.Verification;

/// <summary>
/// Quota counters per subscription and period, in memory: loaded from <c>QuotaCounters</c> on first use, counted
/// under a lock against the limit (so concurrent calls never overshoot), written back behind by
/// <see cref="FlushAsync"/> (a background loop, and once more on shutdown) as the absolute value. Exact for one
/// instance; several instances would need the database to decide (see the README).
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

    public static DateTimeOffset PeriodStart(QuotaPeriod period, DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        return period == QuotaPeriod.Day
            ? new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero)
            : new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    public static DateTimeOffset PeriodEnd(QuotaPeriod period, DateTimeOffset start) =>
        period == QuotaPeriod.Day ? start.AddDays(1) : start.AddMonths(1);

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
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var used = await db.QuotaCounters.AsNoTracking()
            .Where(c => c.SubscriptionId == subscriptionId && c.PeriodStart == periodStart)
            .Select(c => (long?)c.Used)
            .FirstOrDefaultAsync(CancellationToken.None);
        return new Counter(subscriptionId, periodStart, periodEnd, used ?? 0) { LastUsedTicks = clock.GetUtcNow().UtcTicks };
    }

    /// <summary>
    /// Writes every counter that changed since it was last saved (the absolute value, so a write repeated after a
    /// failure is harmless), then lets go of counters whose period is over or that sat idle, once they are saved.
    /// </summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        await _flushing.WaitAsync(ct);
        try
        {
            var dirty = new List<(Counter Counter, long Used)>();
            foreach (var lazy in _counters.Values)
            {
                if (!lazy.IsValueCreated || !lazy.Value.IsCompletedSuccessfully) continue;
                var counter = lazy.Value.Result;
                lock (counter)
                    if (!counter.Evicted && counter.Used != counter.Persisted) dirty.Add((counter, counter.Used));
            }
            foreach (var chunk in dirty.Chunk(FlushChunk)) await SaveAsync(chunk, ct);
            Evict();
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task SaveAsync((Counter Counter, long Used)[] chunk, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = chunk.Select(c => c.Counter.SubscriptionId).Distinct().ToList();
        var periods = chunk.Select(c => c.Counter.PeriodStart).Distinct().ToList();
        // A subscription deleted with its application takes its counters with it; there is nothing to save for it.
        var alive = (await db.Subscriptions.AsNoTracking().Where(s => ids.Contains(s.Id)).Select(s => s.Id).ToListAsync(ct)).ToHashSet();
        var rows = (await db.QuotaCounters.Where(c => ids.Contains(c.SubscriptionId) && periods.Contains(c.PeriodStart)).ToListAsync(ct))
            .ToDictionary(c => (c.SubscriptionId, c.PeriodStart));
        foreach (var (counter, used) in chunk)
        {
            if (!alive.Contains(counter.SubscriptionId)) continue;
            if (rows.TryGetValue((counter.SubscriptionId, counter.PeriodStart), out var row)) row.Used = used;
            else db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = counter.SubscriptionId, PeriodStart = counter.PeriodStart, Used = used });
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e)
        {
            // Most likely a subscription deleted between the check and the save: the counters stay dirty and the
            // next flush (which no longer sees that subscription) saves the rest.
            logger.LogWarning(e, "Could not save {Count} quota counters; retrying on the next flush", chunk.Length);
            return;
        }
        foreach (var (counter, used) in chunk)
            lock (counter)
                counter.Persisted = alive.Contains(counter.SubscriptionId) ? Math.Max(counter.Persisted, used) : counter.Used;
    }

    private void Evict()
    {
        var now = clock.GetUtcNow();
        var idleBefore = (now - IdleAfter).UtcTicks;
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
