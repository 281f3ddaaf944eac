using Portal.Core.Domain;
using Portal.Core.Common;

namespace Portal.Core.Features.Verification;

/// <summary>
/// Where a plan's rate limit and quota are counted: in this process (<see cref="Throttle"/>, exact for one instance)
/// or in Redis (<see cref="RedisLimitStore"/>, exact for any number of instances), chosen once at startup.
/// Either way a call is taken from both limits or from neither, and the quota's use reaches the database for billing.
/// </summary>
public interface ILimitStore
{
    /// <summary>Takes one call from the subscription's rate limit and quota, or neither.</summary>
    ValueTask<LimitOutcome> TakeAsync(LimitRequest request, DateTimeOffset now);

    /// <summary>Writes the quota use counted since the last flush to the database (additively).</summary>
    Task FlushAsync(CancellationToken ct = default);

    /// <summary>Lets go of what ended (windows, periods); cheap, called often.</summary>
    void Sweep();

    /// <summary>
    /// The calls counted against the subscription's quota in the period holding <paramref name="now"/>, as the limiter
    /// sees them right now (not only what reached the database), without counting a call.
    /// </summary>
    ValueTask<long> PeekAsync(Guid subscriptionId, QuotaPeriod period, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>On shutdown, after the last call: hands back whatever this instance holds for others to use.</summary>
    Task ReleaseAsync() => Task.CompletedTask;
}

/// <summary>One subscription's limits as its plan sets them.</summary>
public readonly record struct LimitRequest(Guid SubscriptionId, int? RateLimit, RateLimitWindow RateLimitWindow, long? Quota, QuotaPeriod QuotaPeriod);

/// <summary>The decision and what is left of each limit.</summary>
public readonly record struct LimitOutcome(VerifyCode Code, LimitState Ratelimit, LimitState Quota);

/// <summary>Arithmetic both stores share, so their answers (and headers) are the same.</summary>
internal static class Limits
{
    public static readonly LimitState Unlimited = new(null, null, null, null);

    public static long WindowLength(RateLimitWindow window) =>
        window == RateLimitWindow.Minute ? TimeSpan.TicksPerMinute : TimeSpan.TicksPerSecond;

    public static LimitState Limit(long limit, long remaining, DateTimeOffset resetAt, DateTimeOffset now) =>
        new(limit, remaining, Throttle.SecondsUntil(resetAt, now), resetAt);

    /// <summary>
    /// Once this few calls are left, a counted call is written to the database before it is answered, so a crash
    /// cannot grant the end of a quota twice: a tenth of the quota, at least one call.
    /// </summary>
    public static long WriteThroughMargin(long quota) => Math.Max(1, quota / 10);
}
