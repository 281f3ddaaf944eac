using System.Collections.Concurrent;
using Portal.Core.Features.Products;

namespace Portal.Core.Features.Verification;

/// <summary>
/// A plan's rate limit and quota for one subscription, decided together: a fixed window aligned to the clock (at
/// limit L exactly L calls pass per second or minute), then the quota counter. Both are taken under the window's
/// lock, so a call the quota refuses never holds a rate-limit token, not even for a moment, and a refused call
/// consumes nothing. Exact on one instance.
/// </summary>
public sealed class Throttle(QuotaCounterStore quotas, TimeProvider clock)
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

    internal readonly record struct Outcome(VerifyCode Code, LimitState Ratelimit, LimitState Quota);

    /// <summary>Takes one call from the subscription's rate limit and quota, or neither.</summary>
    internal async ValueTask<Outcome> TakeAsync(SubscriptionEntry subscription, DateTimeOffset now)
    {
        while (true)
        {
            var counter = await quotas.GetAsync(subscription.Id, subscription.QuotaPeriod, now);
            var window = subscription.RateLimit is null ? null : _windows.GetOrAdd(subscription.Id, static _ => new Window());
            if (TryTake(subscription, window, counter, now) is { } outcome) return outcome;
            // An entry was swept out between fetching and locking it: fetch again.
        }
    }

    private static Outcome? TryTake(SubscriptionEntry subscription, Window? window, QuotaCounterStore.Counter counter, DateTimeOffset now)
    {
        var nowTicks = now.UtcTicks;
        if (window is null)
        {
            lock (counter)
            {
                if (counter.Evicted) return null;
                var taken = counter.TryTake(subscription.Quota, nowTicks);
                return new Outcome(taken ? VerifyCode.Valid : VerifyCode.QuotaExceeded, Unlimited, QuotaState(subscription, counter, now));
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
                return new Outcome(VerifyCode.RateLimited, Limit(limit, 0, windowEnd, now), quotaNow);
            }
            lock (counter)
            {
                if (counter.Evicted) return null;
                if (!counter.TryTake(subscription.Quota, nowTicks))
                    return new Outcome(VerifyCode.QuotaExceeded, Limit(limit, limit - window.Count, windowEnd, now), QuotaState(subscription, counter, now));
                window.Count++;
                return new Outcome(VerifyCode.Valid, Limit(limit, limit - window.Count, windowEnd, now), QuotaState(subscription, counter, now));
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

    private static readonly LimitState Unlimited = new(null, null, null, null);

    private static long WindowLength(RateLimitWindow window) =>
        window == RateLimitWindow.Minute ? TimeSpan.TicksPerMinute : TimeSpan.TicksPerSecond;

    private static LimitState QuotaState(SubscriptionEntry subscription, QuotaCounterStore.Counter counter, DateTimeOffset now) =>
        subscription.Quota is { } quota
            ? Limit(quota, Math.Max(0, quota - counter.Used), counter.PeriodEnd, now)
            : Unlimited;

    private static LimitState Limit(long limit, long remaining, DateTimeOffset resetAt, DateTimeOffset now) =>
        new(limit, remaining, SecondsUntil(resetAt, now), resetAt);

    /// <summary>Whole seconds, rounded up: a client that waits this long finds the window or period over.</summary>
    public static long SecondsUntil(DateTimeOffset at, DateTimeOffset now) =>
        Math.Max(1, (long)Math.Ceiling((at - now).TotalSeconds));
}
