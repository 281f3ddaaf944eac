using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Cluster;
using StackExchange.Redis;

namespace Portal.Core.Features.Verification;

/// <summary>
/// Rate limits and quotas counted in Redis, so every instance behind a load balancer decides on the same numbers:
/// one script per call checks the rate window and the quota and counts both only when both allow (with N instances
/// exactly L calls pass per window and Q per period). Redis holds the period's running total; the database gets
/// this instance's share added every flush (for billing, and to seed Redis again should it lose the key).
/// While Redis does not answer, each instance counts on its own (<see cref="Throttle"/>), so an outage degrades the
/// limits to per instance instead of refusing every call.
/// </summary>
public sealed class RedisLimitStore(
    PortalRedis redis,
    Throttle fallback,
    QuotaCounterStore fallbackQuotas,
    IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<PortalOptions> options,
    ILogger<RedisLimitStore> logger) : ILimitStore
{
    // Returns {code, calls in the window, calls in the period, calls granted}; code 0 valid, 1 rate limited, 2 quota
    // exceeded, -1: the period's total is not in Redis (first call, expiry or a Redis restart) and no seed came with the
    // call. A valid call may be granted a lease of @want calls instead of one, but only while both limits have at least
    // their room left: near a limit every call is decided here, one by one.
    private static readonly LuaScript Script = LuaScript.Prepare("""
        local limit = tonumber(@limit)
        local quota = tonumber(@quota)
        local used = 0
        if quota >= 0 then
          local saved = redis.call('GET', @quotaKey)
          if not saved then
            if tonumber(@seed) < 0 then return {-1, 0, 0} end
            redis.call('SET', @quotaKey, @seed, 'PX', @quotaTtl, 'NX')
            saved = redis.call('GET', @quotaKey)
          end
          used = tonumber(saved)
        end
        local count = 0
        if limit >= 0 then
          count = tonumber(redis.call('GET', @rateKey) or '0')
          if count >= limit then return {1, count, used} end
        end
        if quota >= 0 and used >= quota then return {2, count, used, 0} end
        local grant = 1
        local want = tonumber(@want)
        if want > 1 and (limit < 0 or limit - count >= tonumber(@rateRoom)) and (quota < 0 or quota - used >= tonumber(@quotaRoom)) then
          grant = want
        end
        if limit >= 0 then
          count = redis.call('INCRBY', @rateKey, grant)
          if count == grant then redis.call('PEXPIRE', @rateKey, @rateTtl) end
        end
        if quota >= 0 then used = redis.call('INCRBY', @quotaKey, grant) end
        return {0, count, used, grant}
        """);

    // Gives back what a lease did not spend: the quota's part always, the window's only while that window lasts
    // (@rateToo). A key that expired meanwhile is left alone, never made negative.
    private static readonly LuaScript GiveBackScript = LuaScript.Prepare("""
        local unused = tonumber(@unused)
        if tonumber(@rateToo) == 1 and redis.call('EXISTS', @rateKey) == 1 then redis.call('DECRBY', @rateKey, unused) end
        if redis.call('EXISTS', @quotaKey) == 1 then redis.call('DECRBY', @quotaKey, unused) end
        return 0
        """);

    /// <summary>Past the period's end a total lingers this long, for calls whose clocks lag a little.</summary>
    private static readonly TimeSpan QuotaKeyGrace = TimeSpan.FromHours(1);

    /// <summary>Calls this instance counted and the database does not have yet, per subscription and period.</summary>
    private readonly ConcurrentDictionary<(Guid SubscriptionId, DateTimeOffset PeriodStart), StrongBox<long>> _pending = new();

    /// <summary>A box taken out of <see cref="_pending"/>: whoever still holds it fetches a fresh one.</summary>
    private const long Retired = long.MinValue;

    private readonly SemaphoreSlim _flushing = new(1, 1);
    private int _degraded;
    /// <summary>Set when Redis answers again after an outage: the in-memory counters of the outage are let go once saved.</summary>
    private int _recovered;

    /// <summary>Calls counted here and not yet in the database (for tests and diagnostics).</summary>
    public long PendingCalls => _pending.Values.Sum(b => Math.Max(0, Volatile.Read(ref b.Value)));

    public async ValueTask<LimitOutcome> TakeAsync(LimitRequest request, DateTimeOffset now)
    {
        var periodStart = QuotaCounterStore.PeriodStart(request.QuotaPeriod, now);
        if (request.RateLimit is null && request.Quota is null)
        {
            AddPending(request.SubscriptionId, periodStart);
            return new LimitOutcome(VerifyCode.Valid, Limits.Unlimited, Limits.Unlimited);
        }

        var periodEnd = QuotaCounterStore.PeriodEnd(request.QuotaPeriod, periodStart);
        var length = Limits.WindowLength(request.RateLimitWindow);
        var index = now.UtcTicks / length;
        var windowEnd = new DateTimeOffset((index + 1) * length, TimeSpan.Zero);
        if (_leaseSize > 1 && _leases.TryGetValue(request.SubscriptionId, out var held) && held.TrySpend(index, periodStart, out var rateUsed, out var quotaUsed))
        {
            AddPending(request.SubscriptionId, periodStart);
            Interlocked.Increment(ref _spentFromLeases);
            return new LimitOutcome(VerifyCode.Valid,
                request.RateLimit is { } l ? Limits.Limit(l, Math.Max(0, l - rateUsed), windowEnd, now) : Limits.Unlimited,
                request.Quota is { } q ? Limits.Limit(q, Math.Max(0, q - quotaUsed), periodEnd, now) : Limits.Unlimited);
        }
        var id = request.SubscriptionId.ToString("N");
        RedisKey rateKey = $"portal:{{{id}}}:rl:{length}:{index}";
        RedisKey quotaKey = $"portal:{{{id}}}:q:{periodStart.UtcTicks}";
        long seed = -1;
        while (true)
        {
            long[] values;
            try
            {
                var result = await redis.Database.ScriptEvaluateAsync(Script, new
                {
                    // One hash slot per subscription ({…}), so a Redis Cluster can run the script.
                    rateKey,
                    quotaKey,
                    limit = (long?)request.RateLimit ?? -1,
                    quota = request.Quota ?? -1,
                    seed,
                    want = (long)_leaseSize,
                    rateRoom = LeaseRoom(_leaseSize),
                    quotaRoom = request.Quota is { } cap ? Math.Max(LeaseRoom(_leaseSize), Limits.WriteThroughMargin(cap) + _leaseSize) : 0,
                    rateTtl = (long)(windowEnd - now).TotalMilliseconds + 1000,
                    quotaTtl = (long)(periodEnd - now + QuotaKeyGrace).TotalMilliseconds,
                });
                values = (long[])result!;
            }
            catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
            {
                if (Interlocked.Exchange(ref _degraded, 1) == 0)
                    logger.LogError(e, "Redis does not answer: rate limits and quotas are counted per instance until it does");
                return await fallback.TakeAsync(request, now);
            }
            if (Volatile.Read(ref _degraded) == 1 && Interlocked.Exchange(ref _degraded, 0) == 1)
            {
                logger.LogWarning("Redis answers again: rate limits and quotas are shared again");
                Volatile.Write(ref _recovered, 1);
            }

            if (values[0] < 0)
            {
                seed = await SeedAsync(request.SubscriptionId, periodStart);
                continue;
            }
            var code = values[0] switch { 0 => VerifyCode.Valid, 1 => VerifyCode.RateLimited, _ => VerifyCode.QuotaExceeded };
            if (code == VerifyCode.Valid) AddPending(request.SubscriptionId, periodStart);
            if (code == VerifyCode.Valid && values[3] > 1)
            {
                Keep(request.SubscriptionId, new Lease(index, length, periodStart, rateKey, quotaKey) { Left = (int)values[3] - 1, RateSeen = values[1], QuotaSeen = values[2] });
                // This call's own numbers: the lease's other calls are counted in Redis but not spent yet.
                values[1] -= values[3] - 1;
                values[2] -= values[3] - 1;
            }
            var rate = request.RateLimit is { } limit
                ? Limits.Limit(limit, code == VerifyCode.RateLimited ? 0 : Math.Max(0, limit - values[1]), windowEnd, now)
                : Limits.Unlimited;
            var quota = request.Quota is { } max ? Limits.Limit(max, Math.Max(0, max - values[2]), periodEnd, now) : Limits.Unlimited;
            return new LimitOutcome(code, rate, quota);
        }
    }

    /// <summary>
    /// The period's total as Redis holds it (what every instance decides on, leased calls included); when Redis has no
    /// total (a subscription without a quota, or none counted yet), the database's plus this instance's unsaved calls.
    /// While Redis does not answer, the per-instance count the fallback decides on.
    /// </summary>
    public async ValueTask<long> PeekAsync(Guid subscriptionId, QuotaPeriod period, DateTimeOffset now, CancellationToken ct = default)
    {
        var periodStart = QuotaCounterStore.PeriodStart(period, now);
        if (Volatile.Read(ref _degraded) == 1) return await fallback.PeekAsync(subscriptionId, period, now, ct);
        RedisValue saved;
        try
        {
            saved = await redis.Database.StringGetAsync($"portal:{{{subscriptionId:N}}}:q:{periodStart.UtcTicks}");
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            return await fallback.PeekAsync(subscriptionId, period, now, ct);
        }
        if (saved.TryParse(out long total)) return total;
        var unsaved = _pending.TryGetValue((subscriptionId, periodStart), out var box) ? Math.Max(0, Volatile.Read(ref box.Value)) : 0;
        return unsaved + await QuotaTotals.ReadAsync(dbFactory, subscriptionId, periodStart, ct);
    }

    /// <summary>
    /// The period's total for Redis to start from: what the database has plus what this instance has not saved yet
    /// (read first: a flush in between counts its calls twice, never zero times). Other instances' unsaved calls
    /// (at most one flush interval's worth) are what a Redis loss can cost.
    /// </summary>
    /// <remarks>
    /// Concurrent first calls for one period share one read: a burst on a subscription whose total is not in Redis
    /// would otherwise take one database connection per call.
    /// </remarks>
    private async Task<long> SeedAsync(Guid subscriptionId, DateTimeOffset periodStart)
    {
        var key = (subscriptionId, periodStart);
        var read = _seeding.GetOrAdd(key, k => new Lazy<Task<long>>(() => ReadSeedAsync(k.SubscriptionId, k.PeriodStart)));
        try
        {
            return await read.Value;
        }
        finally
        {
            _seeding.TryRemove(new KeyValuePair<(Guid, DateTimeOffset), Lazy<Task<long>>>(key, read));
        }
    }

    private async Task<long> ReadSeedAsync(Guid subscriptionId, DateTimeOffset periodStart)
    {
        var unsaved = _pending.TryGetValue((subscriptionId, periodStart), out var box) ? Math.Max(0, Volatile.Read(ref box.Value)) : 0;
        return unsaved + await QuotaTotals.ReadAsync(dbFactory, subscriptionId, periodStart, CancellationToken.None);
    }

    /// <summary>Seeds being read, per subscription and period (<see cref="SeedAsync"/>).</summary>
    private readonly ConcurrentDictionary<(Guid SubscriptionId, DateTimeOffset PeriodStart), Lazy<Task<long>>> _seeding = new();

    private void AddPending(Guid subscriptionId, DateTimeOffset periodStart)
    {
        while (true)
        {
            var box = _pending.GetOrAdd((subscriptionId, periodStart), static _ => new StrongBox<long>());
            var value = Volatile.Read(ref box.Value);
            if (value == Retired) continue;
            if (Interlocked.CompareExchange(ref box.Value, value + 1, value) == value) return;
        }
    }

    /// <summary>Adds this instance's calls to the database totals; a box idle since the last flush leaves memory.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        await _flushing.WaitAsync(ct);
        try
        {
            var taken = new List<((Guid SubscriptionId, DateTimeOffset PeriodStart) Key, StrongBox<long> Box, long Delta)>();
            foreach (var (key, box) in _pending)
            {
                var delta = TakeAll(box);
                if (delta > 0) taken.Add((key, box, delta));
                else if (Interlocked.CompareExchange(ref box.Value, Retired, 0) == 0)
                    _pending.TryRemove(new KeyValuePair<(Guid, DateTimeOffset), StrongBox<long>>(key, box));
            }
            var (failed, error) = await QuotaTotals.AddAsync(dbFactory, taken, t => (t.Key.SubscriptionId, t.Key.PeriodStart, t.Delta), ct);
            // Given back (a box cannot have been retired: it was not zero), to be added on the next flush.
            foreach (var (_, box, delta) in failed) Interlocked.Add(ref box.Value, delta);
            if (error is OperationCanceledException) throw error;
            if (error is not null) logger.LogWarning(error, "Could not save {Count} quota totals; retrying on the next flush", failed.Count);
        }
        finally
        {
            _flushing.Release();
        }
        await fallback.FlushAsync(ct);
        if (Interlocked.Exchange(ref _recovered, 0) == 1) await fallbackQuotas.ForgetSavedAsync(ct);
        await GiveBackAsync(all: false);
    }

    public Task ReleaseAsync() => GiveBackAsync(all: true);

    // Leases. Far from its limits a busy subscription would take a Redis round trip per call; instead the script
    // grants this instance a few calls at once (counted in Redis before they are spent, so no window or period ever
    // lets more than its limit through) and they are spent here. Near a limit (less than the room left) every call is
    // decided in Redis one by one, so the end of a window or quota is exact. A lease unspent for a moment, or whose
    // window or period ended, is given back, so calls counted but never made do not refuse anyone for long; a crash
    // loses at most one lease per subscription (counted against it in Redis, never granted twice).

    private readonly int _leaseSize = Math.Max(1, options.Value.Redis.LeaseSize);
    private long _spentFromLeases;

    /// <summary>Calls this instance answered from a lease, without a Redis round trip (for tests and diagnostics).</summary>
    public long SpentFromLeases => Interlocked.Read(ref _spentFromLeases);

    /// <summary>A lease is taken only while this many calls are left in the window and the period.</summary>
    private static long LeaseRoom(int leaseSize) => leaseSize * 16L;

    /// <summary>How long a lease may sit unspent before its calls are given back.</summary>
    private static readonly long LeaseIdleMs = 100;

    private readonly ConcurrentDictionary<Guid, Lease> _leases = new();
    private readonly ConcurrentQueue<(Lease Lease, int Unused)> _retired = new();
    private readonly Lock _keeping = new();

    private sealed class Lease(long windowIndex, long windowLength, DateTimeOffset periodStart, RedisKey rateKey, RedisKey quotaKey)
    {
        public long WindowIndex { get; } = windowIndex;
        public long WindowLength { get; } = windowLength;
        public DateTimeOffset PeriodStart { get; } = periodStart;
        public RedisKey RateKey { get; } = rateKey;
        public RedisKey QuotaKey { get; } = quotaKey;

        // Under the lease's lock.
        public int Left;
        public long RateSeen;
        public long QuotaSeen;
        public long LastUse = Environment.TickCount64;

        public bool Matches(long windowIndex, DateTimeOffset periodStart) => WindowIndex == windowIndex && PeriodStart == periodStart;

        /// <summary>Spends one call when the lease is for this window and period; the counts include it.</summary>
        public bool TrySpend(long windowIndex, DateTimeOffset periodStart, out long rateUsed, out long quotaUsed)
        {
            lock (this)
            {
                if (Left <= 0 || !Matches(windowIndex, periodStart))
                {
                    rateUsed = quotaUsed = 0;
                    return false;
                }
                Left--;
                LastUse = Environment.TickCount64;
                rateUsed = RateSeen - Left;
                quotaUsed = QuotaSeen - Left;
                return true;
            }
        }

        /// <summary>Takes what is left, so nothing more is spent from it.</summary>
        public int Close()
        {
            lock (this)
            {
                var left = Left;
                Left = 0;
                return left;
            }
        }
    }

    /// <summary>Adds a granted lease to the one held for the same window and period, or replaces one that is over.</summary>
    private void Keep(Guid subscriptionId, Lease fresh)
    {
        lock (_keeping)
        {
            if (_leases.TryGetValue(subscriptionId, out var held))
            {
                lock (held)
                {
                    if (held.Matches(fresh.WindowIndex, fresh.PeriodStart) && held.Left > 0)
                    {
                        // Redis's newer counts include every call granted so far; unspent are ours plus the new ones.
                        held.Left += fresh.Left;
                        held.RateSeen = Math.Max(held.RateSeen, fresh.RateSeen);
                        held.QuotaSeen = Math.Max(held.QuotaSeen, fresh.QuotaSeen);
                        held.LastUse = Environment.TickCount64;
                        return;
                    }
                }
                var unused = held.Close();
                if (unused > 0) _retired.Enqueue((held, unused));
            }
            _leases[subscriptionId] = fresh;
        }
    }

    private async Task GiveBackAsync(bool all)
    {
        var now = Environment.TickCount64;
        foreach (var (subscriptionId, lease) in _leases)
        {
            bool idle;
            lock (lease) idle = all || now - lease.LastUse >= LeaseIdleMs || lease.Left == 0;
            if (!idle) continue;
            lock (_keeping)
            {
                if (!_leases.TryRemove(new KeyValuePair<Guid, Lease>(subscriptionId, lease))) continue;
            }
            var unused = lease.Close();
            if (unused > 0) _retired.Enqueue((lease, unused));
        }
        var nowTicks = DateTimeOffset.UtcNow.UtcTicks;
        while (_retired.TryDequeue(out var retired))
        {
            var (lease, unused) = retired;
            try
            {
                await redis.Database.ScriptEvaluateAsync(GiveBackScript, new
                {
                    rateKey = lease.RateKey,
                    quotaKey = lease.QuotaKey,
                    // A window that ended is gone with its key; its calls need no giving back.
                    rateToo = lease.WindowIndex == nowTicks / lease.WindowLength ? 1 : 0,
                    unused,
                });
            }
            catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
            {
                // Counted and not spent: the period's total stays that much high in Redis (never granted twice).
                logger.LogWarning(e, "Could not give back {Unused} leased calls to Redis", unused);
            }
        }
    }


    private static long TakeAll(StrongBox<long> box)
    {
        while (true)
        {
            var value = Volatile.Read(ref box.Value);
            if (value <= 0) return 0;
            if (Interlocked.CompareExchange(ref box.Value, 0, value) == value) return value;
        }
    }

    public void Sweep() => fallback.Sweep();
}
