using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Portal.Core.Data;
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
    ILogger<RedisLimitStore> logger) : ILimitStore
{
    // Returns {code, calls in the window, calls in the period}; code 0 valid, 1 rate limited, 2 quota exceeded,
    // -1: the period's total is not in Redis (first call, expiry or a Redis restart) and no seed came with the call.
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
        if quota >= 0 and used >= quota then return {2, count, used} end
        if limit >= 0 then
          count = redis.call('INCR', @rateKey)
          if count == 1 then redis.call('PEXPIRE', @rateKey, @rateTtl) end
        end
        if quota >= 0 then used = redis.call('INCR', @quotaKey) end
        return {0, count, used}
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
        var id = request.SubscriptionId.ToString("N");
        long seed = -1;
        while (true)
        {
            long[] values;
            try
            {
                var result = await redis.Database.ScriptEvaluateAsync(Script, new
                {
                    // One hash slot per subscription ({…}), so a Redis Cluster can run the script.
                    rateKey = (RedisKey)$"portal:{{{id}}}:rl:{length}:{index}",
                    quotaKey = (RedisKey)$"portal:{{{id}}}:q:{periodStart.UtcTicks}",
                    limit = (long?)request.RateLimit ?? -1,
                    quota = request.Quota ?? -1,
                    seed,
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
            var rate = request.RateLimit is { } limit
                ? Limits.Limit(limit, code == VerifyCode.RateLimited ? 0 : Math.Max(0, limit - values[1]), windowEnd, now)
                : Limits.Unlimited;
            var quota = request.Quota is { } max ? Limits.Limit(max, Math.Max(0, max - values[2]), periodEnd, now) : Limits.Unlimited;
            return new LimitOutcome(code, rate, quota);
        }
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
