using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Portal.Core.Domain;
using Portal.Core.Common;

namespace Portal.Core.Features.Verification;

/// <summary>
/// A plan's rate limit and quota for one subscription, decided together: a fixed window aligned to the clock (at
/// limit L exactly L calls pass per second or minute), then the quota counter. Both are taken under the window's
/// lock, so a call the quota refuses never holds a rate-limit token, not even for a moment, and a refused call
/// consumes nothing. Exact on one instance; several instances share their counts through <see cref="RedisLimitStore"/>.
/// </summary>
public sealed class Throttle(QuotaCounterStore quotas, TimeProvider clock, ILogger<Throttle> logger) : ILimitStore
{
    /// <summary>How often windows that have ended are swept out of memory.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<Guid, Window> _windows = new();
    private long _nextSweepTicks;

    /// <summary>Rate-limit windows in memory (for tests and diagnostics).</summary>
    public int WindowCount => _windows.Count;

    private sealed class Window
    {
        public long Index = -1;
        public long Length;
        public int Count;
        /// <summary>Set (under the lock) when swept out: whoever still holds it fetches a fresh one.</summary>
        public bool Evicted;
    }

    /// <summary>Takes one call from the subscription's rate limit and quota, or neither.</summary>
    public async ValueTask<LimitOutcome> TakeAsync(LimitRequest subscription, DateTimeOffset now)
    {
        while (true)
        {
            var counter = await quotas.GetAsync(subscription.SubscriptionId, subscription.QuotaPeriod, now);
            var window = subscription.RateLimit is null ? null : _windows.GetOrAdd(subscription.SubscriptionId, static _ => new Window());
            if (TryTake(subscription, window, counter, now) is not { } outcome) continue; // swept out meanwhile: fetch again
            if (outcome.Code == VerifyCode.Valid && subscription.Quota is { } quota && outcome.Quota.Remaining <= Limits.WriteThroughMargin(quota))
                await WriteThroughAsync(counter);
            return outcome;
        }
    }

    /// <summary>Near the end of a quota a crash must not grant its last calls again: they are saved before the answer.</summary>
    private async Task WriteThroughAsync(QuotaCounterStore.Counter counter)
    {
        try
        {
            await quotas.SaveAsync(counter, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The call is counted in memory and the next flush saves it; refusing it now would not undo that.
            logger.LogWarning(e, "Could not save a quota counter ahead of the answer; the next flush retries");
        }
    }

    public Task FlushAsync(CancellationToken ct = default) => quotas.FlushAsync(ct);

    public ValueTask<long> PeekAsync(Guid subscriptionId, QuotaPeriod period, DateTimeOffset now, CancellationToken ct = default) =>
        quotas.PeekAsync(subscriptionId, period, now, ct);

    private static LimitOutcome? TryTake(LimitRequest subscription, Window? window, QuotaCounterStore.Counter counter, DateTimeOffset now)
    {
        var nowTicks = now.UtcTicks;
        if (window is null)
        {
            lock (counter)
            {
                if (counter.Evicted) return null;
                var taken = counter.TryTake(subscription.Quota, nowTicks);
                return new LimitOutcome(taken ? VerifyCode.Valid : VerifyCode.QuotaExceeded, Unlimited, QuotaState(subscription, counter, now));
            }
        }

        lock (window)
        {
            if (window.Evicted) return null;
            var length = WindowLength(subscription.RateLimitWindow);
            var index = nowTicks / length;
            if (window.Index != index || window.Length != length)
            {
                window.Index = index;
                window.Length = length;
                window.Count = 0;
            }
            var limit = subscription.RateLimit!.Value;
            var windowEnd = new DateTimeOffset((index + 1) * length, TimeSpan.Zero);
            if (window.Count >= limit)
            {
                LimitState quotaNow;
                lock (counter) quotaNow = QuotaState(subscription, counter, now);
                return new LimitOutcome(VerifyCode.RateLimited, Limit(limit, 0, windowEnd, now), quotaNow);
            }
            lock (counter)
            {
                if (counter.Evicted) return null;
                if (!counter.TryTake(subscription.Quota, nowTicks))
                    return new LimitOutcome(VerifyCode.QuotaExceeded, Limit(limit, limit - window.Count, windowEnd, now), QuotaState(subscription, counter, now));
                window.Count++;
                return new LimitOutcome(VerifyCode.Valid, Limit(limit, limit - window.Count, windowEnd, now), QuotaState(subscription, counter, now));
            }
        }
    }

    /// <summary>Removes windows that ended a while ago; at most every <see cref="SweepInterval"/>, whoever calls it.</summary>
    public void Sweep()
    {
        var now = clock.GetUtcNow().UtcTicks;
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now < next || Interlocked.CompareExchange(ref _nextSweepTicks, now + SweepInterval.Ticks, next) != next) return;
        foreach (var (id, window) in _windows)
        {
            lock (window)
            {
                // Kept through the next window, so a steady caller does not lose and re-create its entry.
                if (window.Index >= 0 && now / window.Length <= window.Index + 1) continue;
                window.Evicted = true;
            }
            _windows.TryRemove(new KeyValuePair<Guid, Window>(id, window));
        }
    }

    private static LimitState Unlimited => Limits.Unlimited;

    private static long WindowLength(RateLimitWindow window) => Limits.WindowLength(window);

    private static LimitState QuotaState(LimitRequest subscription, QuotaCounterStore.Counter counter, DateTimeOffset now) =>
        subscription.Quota is { } quota
            ? Limit(quota, Math.Max(0, quota - counter.Used), counter.PeriodEnd, now)
            : Unlimited;

    private static LimitState Limit(long limit, long remaining, DateTimeOffset resetAt, DateTimeOffset now) =>
        Limits.Limit(limit, remaining, resetAt, now);

    /// <summary>Whole seconds, rounded up: a client that waits this long finds the window or period over.</summary>
    public static long SecondsUntil(DateTimeOffset at, DateTimeOffset now) =>
        Math.Max(1, (long)Math.Ceiling((at - now).TotalSeconds));
}
