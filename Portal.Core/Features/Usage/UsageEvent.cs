namespace Portal.Core.Features.Usage;

/// <summary>What made a usage event: a call of the portal's API, a key verification, or a call through the gateway.</summary>
public enum UsageSource
{
    Api,
    Verification,
    Gateway,
}

/// <summary>One authenticated API call. Raw events are kept for the retention period; rollups stay.</summary>
public sealed class UsageEvent
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public Guid? KeyId { get; set; }
    public Guid? OwnerUserId { get; set; }
    public Guid? ApplicationId { get; set; }
    public string Method { get; set; } = "";
    /// <summary>The route template (<c>/api/v1/api-keys/{id}</c>), never the raw path with ids or query.</summary>
    public string Route { get; set; } = "";
    public int Status { get; set; }
    public int LatencyMs { get; set; }
    /// <summary>For a key verification: the product asked about (null when it was not found).</summary>
    public Guid? ProductId { get; set; }
    /// <summary>For a key verification: the plan of the subscription that answered.</summary>
    public Guid? PlanId { get; set; }
    /// <summary>For a key verification: its code (<c>VALID</c>, <c>RATE_LIMITED</c>, …); null for an ordinary API call.</summary>
    public string? Outcome { get; set; }
    public UsageSource Source { get; set; }
    /// <summary>For a gateway call: the account of the calling application.</summary>
    public Guid? AccountId { get; set; }
    /// <summary>For a gateway call: the path as called, with the query's names only (never its values).</summary>
    public string? Path { get; set; }
    /// <summary>For a gateway call: the request body's bytes as read from the caller.</summary>
    public long? RequestBytes { get; set; }
    /// <summary>For a gateway call: the response body's bytes as sent to the caller.</summary>
    public long? ResponseBytes { get; set; }
    /// <summary>For a gateway call: from sending to the upstream until its answer's headers arrived; null when it never answered.</summary>
    public int? UpstreamLatencyMs { get; set; }
    /// <summary>The caller's address as the portal saw it (after any trusted proxy's forwarding headers).</summary>
    public string? ClientAddress { get; set; }
    /// <summary>The caller's <c>User-Agent</c>, at most <see cref="UsageEventConfiguration.MaxUserAgentLength"/> characters.</summary>
    public string? UserAgent { get; set; }
    /// <summary>For a RATE_LIMITED or QUOTA_EXCEEDED answer: the limit that refused, as it stood at the call.</summary>
    public long? LimitValue { get; set; }
    /// <summary>With <see cref="LimitValue"/>: the calls already counted in its window or period.</summary>
    public long? LimitUsed { get; set; }
    /// <summary>With <see cref="LimitValue"/>: when its window or period started again.</summary>
    public DateTimeOffset? LimitResetAt { get; set; }
}

/// <summary>Calls per key per hour: what charts and "calls today" read, cheap to aggregate.</summary>
public sealed class UsageRollup
{
    public Guid KeyId { get; set; }
    public DateTimeOffset HourStart { get; set; }
    public long Count { get; set; }
    /// <summary>Calls answered with a status of 400 or more.</summary>
    public long Errors { get; set; }
}

/// <summary>
/// What a rollup row covers: an hour or a UTC day. Tables with both answer hourly windows (up to 48 hours) and daily
/// ones from the rows of their own width.
/// </summary>
public enum UsageSpan
{
    Hour = 1,
    Day = 24,
}

/// <summary>Calls and errors of every key per hour, portal-wide: the overview's totals and series, "calls today".</summary>
public sealed class UsageHour
{
    public DateTimeOffset HourStart { get; set; }
    public long Calls { get; set; }
    public long Errors { get; set; }
    /// <summary>Of <see cref="Calls"/>, those made with personal keys (the API Keys page's "calls today").</summary>
    public long PersonalCalls { get; set; }
}

/// <summary>Key verifications per hour and answer code, portal-wide.</summary>
public sealed class UsageOutcomeHour
{
    public DateTimeOffset HourStart { get; set; }
    public string Outcome { get; set; } = "";
    public long Count { get; set; }
}

/// <summary>Calls per key per UTC day: top keys over days, read per day through an index on (Day, Calls).</summary>
public sealed class UsageKeyDay
{
    public Guid KeyId { get; set; }
    public DateTimeOffset Day { get; set; }
    public long Calls { get; set; }
    public long Errors { get; set; }
}

/// <summary>Calls made with an application's keys per hour and per day.</summary>
public sealed class UsageApplicationRollup
{
    public Guid ApplicationId { get; set; }
    public UsageSpan Span { get; set; }
    public DateTimeOffset Start { get; set; }
    public long Calls { get; set; }
    public long Errors { get; set; }
}

/// <summary>Verifications asked about a product per hour and per day.</summary>
public sealed class UsageProductRollup
{
    public Guid ProductId { get; set; }
    public UsageSpan Span { get; set; }
    public DateTimeOffset Start { get; set; }
    public long Calls { get; set; }
}

/// <summary>
/// Verifications per key, hour, product and code: what a developer's overview reads for their own keys (their codes and
/// products). No NULL inside the unique key: <see cref="Guid.Empty"/> stands for "no key" and "no product".
/// </summary>
public sealed class UsageVerificationHour
{
    public Guid KeyId { get; set; }
    public DateTimeOffset HourStart { get; set; }
    public Guid ProductId { get; set; }
    public string Outcome { get; set; } = "";
    public long Count { get; set; }
}

/// <summary>
/// Verifications and gateway calls of an unknown or malformed key (<c>NOT_FOUND</c> with no key found), counted per
/// caller and minute instead of a raw event each: a flood of random keys writes one row per caller-minute, not one per
/// call. The rollups still count every one of them (the overview's outcome counts are unchanged).
/// </summary>
public sealed class UsageRefusalMinute
{
    public DateTimeOffset MinuteStart { get; set; }
    /// <summary>The key that asked (a gateway's); <see cref="Guid.Empty"/> for an anonymous verification or a gateway call.</summary>
    public Guid CallerKeyId { get; set; }
    /// <summary><c>Verification</c> or <c>Gateway</c>.</summary>
    public string Source { get; set; } = "";
    public string Outcome { get; set; } = "";
    public long Count { get; set; }
}
