namespace Portal.Core.Common;

/// <summary>
/// A rate limit or quota as one call left it: what verification answers, the gateway passes on as headers, the
/// request log keeps with the call and quota alerts watch.
/// </summary>
/// <param name="Limit">Null when the plan has no such limit.</param>
/// <param name="Remaining">What is left in the current window or period after this call.</param>
/// <param name="Reset">Seconds until the window or period starts again (what <c>RateLimit-Reset</c> carries).</param>
/// <param name="ResetAt">The same moment as a time.</param>
public sealed record LimitState(long? Limit, long? Remaining, long? Reset, DateTimeOffset? ResetAt);
